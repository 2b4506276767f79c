package http

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/files"
	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// captureStreams returns the two byte streams of each TCP connection of a
// shared capture, cut to limit bytes each, for fuzz seeds.
func captureStreams(tb testing.TB, name string, limit int) [][2][]byte {
	path := filepath.Join(pcapDir, name)
	if _, err := os.Stat(path); err != nil {
		return nil // shared data missing: seed from the hand-built cases only
	}
	r := newReassembler(tb, Config{})
	idx := map[*tconn]int{}
	var out [][2][]byte
	r.tap = func(c *tconn, d parsers.Dir, b []byte) {
		i, ok := idx[c]
		if !ok {
			i = len(out)
			idx[c] = i
			out = append(out, [2][]byte{})
		}
		if room := limit - len(out[i][d]); room > 0 {
			out[i][d] = append(out[i][d], b[:min(room, len(b))]...)
		}
	}
	readPcap(tb, path, r)
	return out
}

func fuzzSeeds(f *testing.F) {
	f.Add([]byte(pipeReq), []byte(pipeResp), []byte{1, 2, 3, 200, 7})
	f.Add([]byte("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: ,\tchunked,\r\n\r\n1\r\nx\r\n0\r\n\r\n"),
		[]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\n\x1f\x8b\x08\x00"), []byte{5})
	f.Add([]byte("CONNECT a:443 HTTP/1.1\r\n\r\n\x16\x03"), []byte("HTTP/1.1 200 OK\r\n\r\n"), []byte{0xff, 0})
	f.Add([]byte("GET /chat HTTP/1.1\r\nUpgrade: websocket\r\n\r\n"), []byte("HTTP/1.1 101 x\r\nUpgrade: websocket\r\n\r\n"), []byte{})
	for _, name := range []string{"http-get.pcap", "http-100-continue-post.pcap", "http-chunked-keepalive-loopback.pcap",
		"http-pipelined-keepalive.pcap", "http1-browsing.pcap", "http-sll.pcap", "http1-loopback-cookies.pcapng"} {
		for i, s := range captureStreams(f, name, 4096) {
			if i < 4 {
				f.Add(s[0], s[1], []byte{byte(i * 37), 13, 250, 1})
			}
		}
	}
}

// fuzzConfig uses small bounds so the fuzzer reaches them.
var fuzzConfig = Config{MaxLineBytes: 200, MaxHeaderBytes: 600, MaxHeaders: 12, MaxPending: 3, BodyCapture: 5, MaxDecoded: 1 << 16, DecodeBodies: On}

// fuzzConn returns a parser with its own small memory budget (room for two
// decoding layers), and a check, for after End, that it gave all back.
func fuzzConn(t *testing.T, cfg Config, out *[]Transaction) (*Conn, func()) {
	acct := budget.New(2*DecoderFootprint + MaxEarlyBytes).NewAccount()
	cfg.Budget = acct
	return NewConn(cfg, fuzzEmit(t, cfg, out)), func() {
		if d, p := acct.Used(budget.Decoders), acct.Used(budget.Parsers); d != 0 || p != 0 {
			t.Fatalf("after End: %d bytes of decoders, %d of parser state still reserved", d, p)
		}
	}
}

// checkBounds asserts the parser's memory bounds.
func checkBounds(t *testing.T, c *Conn) {
	t.Helper()
	cfg := c.cfg
	for d := range c.h {
		if n := cap(c.h[d].buf); n > 2*(cfg.maxHeader+cfg.maxLine)+64 {
			t.Fatalf("buffer capacity %d", n)
		}
	}
	if len(c.pending) > cfg.maxPending || len(c.free) > cfg.maxPending+2 {
		t.Fatalf("pending %d free %d", len(c.pending), len(c.free))
	}
}

func fuzzEmit(t *testing.T, cfg Config, out *[]Transaction) func(*Transaction) {
	r := cfg.resolve()
	return func(tx *Transaction) {
		if len(tx.Request.Headers) > r.maxHeaders || len(tx.Response.Headers) > r.maxHeaders ||
			len(tx.Request.Body) > r.capture || len(tx.Response.Body) > r.capture || len(tx.Notes) > maxNotes {
			t.Fatalf("unbounded transaction: %+v", tx)
		}
		if d := tx.Response.BodyDecodedBytes; d > r.maxDecoded {
			t.Fatalf("decoded %d", d)
		}
		*out = append(*out, keep(tx))
	}
}

// checkSwitch asserts what a switch hands over: the held client bytes are
// a bounded piece of the request stream, the rest of the response a suffix.
func checkSwitch(t *testing.T, c *Conn, req, resp []byte) {
	t.Helper()
	sw, ok := c.Switched()
	if !ok {
		t.Fatal("ErrSwitched without a switch")
	}
	early := sw.Rest[parsers.ToServer]
	if len(early) > MaxEarlyBytes || !bytes.Contains(req, early) || !bytes.HasSuffix(resp, sw.Rest[parsers.ToClient]) {
		t.Fatalf("switch hands over %q / %q", early, sw.Rest[parsers.ToClient])
	}
}

// FuzzConn feeds fuzzer-chosen client and server streams. It checks that the
// parser never panics, stays within its bounds, and that cutting the streams
// at fuzzer-chosen points gives the same transactions as feeding each whole.
// A third run interleaves the directions and injects gaps.
func FuzzConn(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(fuzzConnOnce)
}

func fuzzConnOnce(t *testing.T, req, resp, splits []byte) {
	{
		cfg := fuzzConfig
		if len(splits) > 0 && splits[0]&1 == 1 {
			cfg = Config{BodyCapture: 3}
		}
		var whole []Transaction
		wholeFiles := &recOpener{}
		cfg.Files = wholeFiles
		c, released := fuzzConn(t, cfg, &whole)
		_ = c.Data(parsers.ToServer, req, t0)
		if c.Data(parsers.ToClient, resp, t0) == ErrSwitched {
			checkSwitch(t, c, req, resp)
		}
		checkBounds(t, c)
		c.End(t0)
		released()

		// the later runs share a Pool: what one leaves there (decoders
		// parked after any ending, slots, buffers) must not change the next
		var pool Pool
		defer pool.Close()
		cfg.Pool = &pool

		var cut []Transaction
		cutFiles := &recOpener{}
		cfg.Files = cutFiles
		c, released = fuzzConn(t, cfg, &cut)
		k := 0
		size := func() int {
			if len(splits) == 0 {
				return 1
			}
			k++
			return int(splits[k%len(splits)]) + 1
		}
		for d, s := range [][]byte{req, resp} {
			for len(s) > 0 {
				n := min(size(), len(s))
				_ = c.Data(parsers.Dir(d), s[:n], t0)
				checkBounds(t, c)
				s = s[n:]
			}
		}
		c.End(t0)
		released()
		if !reflect.DeepEqual(whole, cut) {
			t.Fatalf("split changes the result:\nwhole %+v\ncut   %+v", whole, cut)
		}
		if a, b := fileSummary(t, wholeFiles), fileSummary(t, cutFiles); a != b {
			t.Fatalf("split changes the files:\nwhole %s\ncut   %s", a, b)
		}

		// files only typed (files.hashes: []): decoding may stop early,
		// nothing else changes
		var typed []Transaction
		cfg.Files = &files.Collector{Tracker: files.NewTracker(files.Config{NoHashes: true}, nil)}
		c, released = fuzzConn(t, cfg, &typed)
		_ = c.Data(parsers.ToServer, req, t0)
		_ = c.Data(parsers.ToClient, resp, t0)
		c.End(t0)
		released()
		if a, b := withoutDecoding(whole), withoutDecoding(typed); !reflect.DeepEqual(a, b) {
			t.Fatalf("typing files only changes more than decoding:\nwhole %+v\ntyped %+v", a, b)
		}

		// interleaved, with gaps
		var mixed []Transaction
		mixedFiles := &recOpener{}
		cfg.Files = mixedFiles
		c, released = fuzzConn(t, cfg, &mixed)
		streams := [2][]byte{req, resp}
		for i := 0; len(streams[0])+len(streams[1]) > 0; i++ {
			sp := byte(i)
			if len(splits) > 0 {
				sp = splits[i%len(splits)]
			}
			d := parsers.Dir(sp >> 7)
			if len(streams[d]) == 0 {
				d = d.Reverse()
			}
			n := min(int(sp&0x3f)+1, len(streams[d]))
			if sp&0x40 != 0 && i%3 == 0 {
				c.Gap(d, n, t0)
			} else {
				_ = c.Data(d, streams[d][:n], t0)
			}
			checkBounds(t, c)
			streams[d] = streams[d][n:]
		}
		c.End(t0)
		released()
		fileSummary(t, mixedFiles)
	}
}

// withoutDecoding copies txs without what content decoding decides: the
// decoded sizes and the decoding notes.
func withoutDecoding(txs []Transaction) []Transaction {
	out := make([]Transaction, len(txs))
	for i, tx := range txs {
		tx.Request.BodyDecodedBytes, tx.Response.BodyDecodedBytes = 0, 0
		tx.Notes = slices.DeleteFunc(slices.Clone(tx.Notes), func(n string) bool {
			return n == NoteDecodeTyped || n == NoteDecodeError || n == NoteDecodeLimit
		})
		out[i] = tx
	}
	return out
}

// fileSummary describes the files a parser opened, checking each was
// closed once.
func fileSummary(t *testing.T, o *recOpener) string {
	var b strings.Builder
	for _, f := range o.files {
		if f.closed != 1 {
			t.Fatalf("file %+v closed %d times", f.info, f.closed)
		}
		fmt.Fprintf(&b, "%+v %q %d %v;", f.info, f.data.String(), f.gaps, f.end)
	}
	return b.String()
}

// FuzzSplitURL checks that SplitURL never panics and that its parts come
// from its input.
func FuzzSplitURL(f *testing.F) {
	for _, s := range []string{"/a/b?x=1#f", "http://u:p@h:8080/p?q", "[::1]:443", "example.com:443", "*", "/Hello Arkime", "HTTP://[::1]", "//x", "a://", "/?#"} {
		f.Add(s, "host.example:8080", uint16(80))
	}
	f.Add("/", "[::1]:8000", uint16(8000))
	f.Fuzz(func(t *testing.T, uri, host string, port uint16) {
		u := SplitURL(uri, host, "http", port)
		if u.Original != uri || u.Port < 0 || u.Port > 65535 {
			t.Fatalf("%+v", u)
		}
		for _, part := range []string{u.Path, u.Query, u.Fragment} {
			if !strings.Contains(uri, part) {
				t.Fatalf("part %q not from %q", part, uri)
			}
		}
		if !strings.Contains(uri, u.Domain) && !strings.Contains(host, u.Domain) {
			t.Fatalf("domain %q from nowhere", u.Domain)
		}
		if strings.Contains(u.Domain, "@") {
			t.Fatalf("userinfo kept: %q", u.Domain)
		}
	})
}
