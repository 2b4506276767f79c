package dns

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
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
	for _, v := range [][]byte{vecCompression, vecECS, vecHTTPS, vecSOA, vecTXT, vecUnknown, pointerChain(3)} {
		f.Add(v)
	}
	seedPayloads(f, func(b []byte) { f.Add(b) })
	var reused Message
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
			// 255 wire bytes, each label byte escaped to at most 4 chars
			if n == "" || len(n) > 4*MaxNameLen || (n != "." && trailingDot(n)) {
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
