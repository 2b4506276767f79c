package dns

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/intern"
)

// seedPayloads adds the DNS payloads of the shared captures, when present.
func seedPayloads(f *testing.F, add func([]byte)) {
	if _, err := statDir(); err != nil {
		return
	}
	for _, c := range truthCaptures(f) {
		for _, p := range capturePayloads(f, c) {
			add(p.data)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, v := range [][]byte{vecCompression, vecECS, vecHTTPS, vecSOA, vecTXT, vecUnknown, pointerChain(3), forwardChain(3), chainedOwners(2)} {
		f.Add(v)
	}
	seedPayloads(f, func(b []byte) { f.Add(b) })
	var reused Message
	var names intern.Table
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Message
		err := Parse(b, &m)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Offset < 0 || pe.Offset > len(b) {
				t.Fatalf("error %v without valid context", err)
			}
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrPointerLoop) && !errors.Is(err, ErrNameTooLong) &&
				!errors.Is(err, ErrLabelTooLong) && !errors.Is(err, ErrBadLabel) {
				t.Fatalf("unexpected error %v", err)
			}
		}
		// Bounds.
		if len(m.Questions) > MaxRRsPerSection || len(m.Answers) > MaxRRsPerSection ||
			len(m.Authorities) > MaxRRsPerSection || len(m.Additionals) > MaxRRsPerSection ||
			len(m.EDNS.Options) > MaxOptions {
			t.Fatal("section over its cap")
		}
		if len(m.Questions) > int(m.QDCount) || len(m.Answers) > int(m.ANCount) ||
			len(m.Authorities) > int(m.NSCount) || len(m.Additionals) > int(m.ARCount) {
			t.Fatal("more records than the header counts")
		}
		checkName := func(n string) {
			// 255 wire bytes, each label byte escaped to at most 4 chars;
			// empty only for a looping name Parse went past
			if (n == "" && m.Err == nil) || len(n) > 4*MaxNameLen || (n != "." && trailingDot(n)) {
				t.Fatalf("bad name %q", n)
			}
		}
		for _, q := range m.Questions {
			checkName(q.Name)
		}
		for k, sec := range [][]RR{m.Answers, m.Authorities, m.Additionals} {
			for i := range sec {
				rr := &sec[i]
				checkName(rr.Name)
				if rr.Data == "" && rr.Type != TypeTXT && rr.Type != TypeSPF {
					t.Fatalf("empty data for %s", TypeName(rr.Type))
				}
				if rr.Type == TypeOPT && k == 2 {
					t.Fatal("OPT listed in additionals")
				}
				// Presentation forms never carry raw control bytes.
				for _, s := range []string{rr.Name, rr.Data, rr.Target} {
					for j := 0; j < len(s); j++ {
						if s[j] < 0x20 || s[j] > 0x7e {
							t.Fatalf("raw byte %#x in %q", s[j], s)
						}
					}
				}
			}
		}
		// A reused Message gives the same result as a fresh one.
		err2 := Parse(b, &reused)
		if (err == nil) != (err2 == nil) || !sameMessage(&m, &reused) {
			t.Fatal("reused message differs from a fresh one")
		}
		// Text left in the arena, copied as a pending query is and resolved
		// in one string with another message's (a Pairer's transaction),
		// reads as Parse's.
		var pending Message
		_ = parseDeferred(b, &reused)
		reused.CopyTo(&pending)
		_ = parseDeferred(b, &reused)
		resolveText(nil, &pending, &reused)
		if pending.deferred || !sameMessage(&m, &pending) || !sameMessage(&m, &reused) {
			t.Fatal("deferred text differs from Parse's")
		}
		// So it does with its strings from a table of names (twice: the
		// second time they are the table's).
		for range 2 {
			_ = parseDeferred(b, &reused)
			reused.CopyTo(&pending)
			_ = parseDeferred(b, &reused)
			resolveText(&names, &pending, &reused)
			if pending.deferred || !sameMessage(&m, &pending) || !sameMessage(&m, &reused) {
				t.Fatal("text from the names table differs from Parse's")
			}
		}
	})
}

func FuzzStreamDecoder(f *testing.F) {
	f.Add(append(frame(vecTXT), frame(vecSOA)...), uint16(3), uint16(40))
	f.Add(frame(vecHTTPS), uint16(1), uint16(1))
	f.Add([]byte{0, 0, 0, 1, 0xff, 0xff, 1}, uint16(0), uint16(2))
	seedPayloads(f, func(b []byte) { f.Add(frame(b), uint16(len(b)/2), uint16(7)) })
	f.Fuzz(func(t *testing.T, stream []byte, cut, step uint16) {
		// Reference: split the stream by its length prefixes.
		var want [][]byte
		rest := stream
		for len(rest) >= 2 {
			n := int(binary.BigEndian.Uint16(rest))
			if 2+n > len(rest) {
				break
			}
			want = append(want, rest[2:2+n])
			rest = rest[2+n:]
		}
		// Feed in chunks: first cut bytes, then step-sized pieces.
		var d StreamDecoder
		var got [][]byte
		fn := func(m []byte) error {
			got = append(got, append([]byte(nil), m...))
			return nil
		}
		c := int(cut)
		if c > len(stream) {
			c = len(stream)
		}
		_ = d.Feed(stream[:c], fn)
		s := int(step)%64 + 1
		for i := c; i < len(stream); i += s {
			j := i + s
			if j > len(stream) {
				j = len(stream)
			}
			_ = d.Feed(stream[i:j], fn)
			if d.Buffered() > MaxTCPMessage {
				t.Fatalf("buffered %d", d.Buffered())
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%d frames, want %d", len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("frame %d differs", i)
			}
		}
		if d.Buffered() != len(rest) {
			t.Fatalf("buffered %d, want %d", d.Buffered(), len(rest))
		}
	})
}

// trailingDot reports whether n ends with an unescaped dot.
func trailingDot(n string) bool {
	if !strings.HasSuffix(n, ".") {
		return false
	}
	bs := 0
	for i := len(n) - 2; i >= 0 && n[i] == '\\'; i-- {
		bs++
	}
	return bs%2 == 0
}

// refName decodes the name at off the plain way, as a reference for the
// name decoder: every pointer followed (forward too), jumps and label
// bytes counted. It returns the name and the offset after it; on error the
// offset is the end of the name when a pointer ended it before the error,
// else -1.
func refName(b []byte, off int) (string, int, error) {
	var out []byte
	wire, jumps, end := 0, 0, -1
	for {
		if off >= len(b) {
			return "", end, ErrTruncated
		}
		c := int(b[off])
		switch {
		case c == 0:
			if end < 0 {
				end = off + 1
			}
			if len(out) == 0 {
				return ".", end, nil
			}
			return string(out), end, nil
		case c < 0x40:
			if wire += c + 1; wire > MaxNameLen-1 {
				return "", end, ErrNameTooLong
			}
			if off+1+c > len(b) {
				return "", end, ErrTruncated
			}
			if len(out) > 0 {
				out = append(out, '.')
			}
			out = appendLabel(out, b[off+1:off+1+c])
			off += 1 + c
		case c >= 0xc0:
			if off+2 > len(b) {
				return "", end, ErrTruncated
			}
			if end < 0 {
				end = off + 2
			}
			if jumps++; jumps > MaxPointers {
				return "", end, ErrPointerLoop
			}
			off = (c&0x3f)<<8 | int(b[off+1])
		case c < 0x80:
			return "", end, ErrLabelTooLong
		default:
			return "", end, ErrBadLabel
		}
	}
}

// FuzzName checks the name decoder against refName on two questions (the
// second may reuse the first through the name cache), whatever the
// pointers do: forward, back, looping, chained.
func FuzzName(f *testing.F) {
	f.Add(hx("03 77 77 77 c0 12 00 01 00 01 01 61 00 00 01 00 01"))
	f.Add(hx("c0 0c 00 01 00 01 c0 0c 00 01 00 01"))
	f.Add(hx("c0 12 00 01 00 01 c0 0c 00 01 00 01"))
	f.Add(hx("01 61 c0 0c 00 01 00 01"))
	f.Add(forwardChain(MaxPointers)[12:])
	f.Add(chainedOwners(3)[12:])
	f.Fuzz(func(t *testing.T, body []byte) {
		b := append(hx("00 01 01 00 00 02 00 00 00 00 00 00"), body...) // QD 2
		var m Message
		err := Parse(b, &m)
		var first error // the first error the reference meets
		firstAt := 0
		off := 12
		for i := 0; i < 2; i++ {
			name, end, rerr := refName(b, off)
			// A looping name whose end is known is passed over.
			goOn := (errors.Is(rerr, ErrPointerLoop) || errors.Is(rerr, ErrNameTooLong)) && end >= 0
			if rerr != nil && first == nil {
				first, firstAt = rerr, off
			}
			if (rerr == nil || goOn) && end+4 > len(b) {
				rerr, goOn = ErrTruncated, false
				if first == nil {
					first, firstAt = rerr, off
				}
			}
			if rerr != nil && !goOn {
				if len(m.Questions) != i {
					t.Fatalf("question %d: Parse kept %d questions, reference stops at %v", i, len(m.Questions), rerr)
				}
				break
			}
			if goOn {
				name = ""
			}
			if len(m.Questions) <= i || m.Questions[i].Name != name {
				t.Fatalf("question %d: Parse %+v (%v), reference %q", i, m.Questions, err, name)
			}
			off = end + 4
		}
		var pe *Error
		switch {
		case first == nil && err != nil:
			t.Fatalf("reference decodes both questions, Parse: %v", err)
		case first != nil && (!errors.As(err, &pe) || !errors.Is(err, first) || pe.Offset != firstAt || m.Err != err):
			t.Fatalf("Parse %v (m.Err %v), reference %v at %d", err, m.Err, first, firstAt)
		}
	})
}

// FuzzSplitName splits names of arbitrary labels (NUL-separated in the
// input; any other byte, dots too, may be in a label) as the parser
// writes them: registered, subdomain and tld are made of whole labels.
func FuzzSplitName(f *testing.F) {
	f.Add("www\x00example\x00co\x00uk")
	f.Add("x\x00evil.bank\x00com")
	f.Add("a\\\x00example\x00com")
	f.Add("www\x00example\x00com.")
	f.Fuzz(func(t *testing.T, in string) {
		var labels []string
		for _, l := range strings.Split(in, "\x00") {
			if l == "" || len(l) > 63 {
				return
			}
			labels = append(labels, string(appendLabel(nil, []byte(l))))
		}
		name := strings.Join(labels, ".")
		reg, sub, tld := SplitName(name)
		at := func(s string) int { // the label s starts at, as a suffix of name; -1 if none
			for j := range labels {
				if strings.Join(labels[j:], ".") == s {
					return j
				}
			}
			return -1
		}
		if tld == "" {
			if reg != "" || sub != "" {
				t.Fatalf("%q: registered %q, subdomain %q without a tld", name, reg, sub)
			}
			return
		}
		if at(tld) < 0 {
			t.Fatalf("%q: tld %q is not whole labels", name, tld)
		}
		if reg == "" {
			if sub != "" || tld != name {
				t.Fatalf("%q: subdomain %q, tld %q without a registered domain", name, sub, tld)
			}
			return
		}
		j := at(reg)
		if j < 0 || at(tld) != j+1 || sub != strings.Join(labels[:j], ".") {
			t.Fatalf("%q: registered %q, subdomain %q, tld %q: not whole labels", name, reg, sub, tld)
		}
	})
}
