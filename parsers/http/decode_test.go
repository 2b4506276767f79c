package http

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"runtime"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// encode applies the codings of list ("gzip, deflate" = gzip first) to data.
func encode(t *testing.T, data []byte, list ...string) []byte {
	for _, k := range list {
		if k == "deflate" {
			k = "zlib"
		}
		data = gzipped(t, k, data)
	}
	return data
}

func gzipResponse(body []byte, ce string) string {
	return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n%s", ce, len(body), body)
}

// anyCount: the decoded count so far when a decoder fails is not checked.
const anyCount = -2

func TestStackedEncodings(t *testing.T) {
	plain := bytes.Repeat([]byte("stacked codings are legal and rare. "), 3000)
	for _, k := range []struct {
		ce      string
		applied []string
		decoded int64
		note    string
	}{
		{"gzip, gzip", []string{"gzip", "gzip"}, int64(len(plain)), ""},
		{"gzip,deflate", []string{"gzip", "deflate"}, int64(len(plain)), ""},
		{"deflate, identity, gzip", []string{"deflate", "gzip"}, int64(len(plain)), ""},
		{"gzip, gzip, gzip", []string{"gzip", "gzip", "gzip"}, int64(len(plain)), ""},
		{"gzip, gzip, gzip, gzip", []string{"gzip", "gzip", "gzip", "gzip"}, -1, NoteDecodeUnsupported},
		{"gzip, br", []string{"gzip"}, -1, NoteDecodeUnsupported},
		// the header lies about the order: the outer layer is not zlib
		{"deflate, gzip", []string{"gzip"}, anyCount, NoteDecodeError},
	} {
		z := encode(t, plain, k.applied...)
		for _, split := range []int{1, 13, 1 << 20} {
			var out []Transaction
			c := collect(decodeOn, &out)
			mustData(t, c, parsers.ToServer, "GET / HTTP/1.1\r\n\r\n")
			for b := []byte(gzipResponse(z, k.ce)); len(b) > 0; {
				n := min(split, len(b))
				mustData(t, c, parsers.ToClient, string(b[:n]))
				b = b[n:]
			}
			c.End(t0)
			r := out[0].Response
			if (k.decoded != anyCount && r.BodyDecodedBytes != k.decoded) || r.BodyBytes != int64(len(z)) || (k.note != "") != (len(out[0].Notes) > 0) ||
				(k.note != "" && !hasNote(out[0], k.note)) {
				t.Errorf("%q split %d: decoded %d (want %d), wire %d, notes %v", k.ce, split, r.BodyDecodedBytes, k.decoded, r.BodyBytes, out[0].Notes)
			}
		}
	}
}

// A bomb in two layers (gzip of gzip of 64 MiB of zeros: a few hundred
// bytes on the wire) stops at MaxDecoded, in every layer.
func TestStackedZipBomb(t *testing.T) {
	var inner bytes.Buffer
	w, _ := gzip.NewWriterLevel(&inner, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for range 64 {
		w.Write(zeros)
	}
	w.Close()
	z := encode(t, inner.Bytes(), "gzip")
	cfg := Config{DecodeBodies: On, MaxDecoded: 1 << 20}
	out := run(t, cfg, "GET /bomb HTTP/1.1\r\n\r\nGET /next HTTP/1.1\r\n\r\n",
		gzipResponse(z, "gzip, gzip")+"HTTP/1.1 204 No Content\r\n\r\n")
	if len(out) != 2 || out[1].Response.StatusCode != 204 {
		t.Fatalf("the bomb broke framing: %+v", out)
	}
	r := out[0].Response
	if r.BodyDecodedBytes != 1<<20 || !hasNote(out[0], NoteDecodeLimit) || r.BodyBytes != int64(len(z)) {
		t.Fatalf("decoded %d of %d wire bytes, notes %v", r.BodyDecodedBytes, r.BodyBytes, out[0].Notes)
	}
}

// Decoders reserve their footprint; when the budget is spent, bodies are
// counted without decoding and say so, and a finished decoder's room is
// used again.
func TestDecoderBudget(t *testing.T) {
	acct := budget.New(2 * DecoderFootprint).NewAccount()
	cfg := Config{DecodeBodies: On, Budget: acct}
	plain := bytes.Repeat([]byte("budget "), 10000)
	z := encode(t, plain, "gzip")
	resp := gzipResponse(z, "gzip")
	half := len(resp) - len(z)/2
	var out []Transaction
	conns := make([]*Conn, 3)
	for i := range conns {
		conns[i] = collect(cfg, &out)
		mustData(t, conns[i], parsers.ToServer, "GET / HTTP/1.1\r\n\r\n")
		mustData(t, conns[i], parsers.ToClient, resp[:half]) // all three bodies open at once
	}
	if used := acct.Used(budget.Decoders); used != 2*DecoderFootprint {
		t.Fatalf("decoders hold %d bytes of budget, want %d", used, 2*DecoderFootprint)
	}
	for _, c := range conns {
		mustData(t, c, parsers.ToClient, resp[half:])
		c.End(t0)
	}
	for i, tx := range out {
		r := tx.Response
		limited := i == 2
		if tx.DecoderLimited != limited || hasNote(tx, NoteDecoderLimit) != limited || r.BodyBytes != int64(len(z)) ||
			(limited && r.BodyDecodedBytes != -1) || (!limited && r.BodyDecodedBytes != int64(len(plain))) {
			t.Errorf("response %d: decoded %d, limited %v, notes %v", i, r.BodyDecodedBytes, tx.DecoderLimited, tx.Notes)
		}
	}
	if used := acct.Used(budget.Decoders); used != 0 {
		t.Fatalf("%d bytes still reserved after the bodies ended", used)
	}
	// the room is free again; two stacked layers fit, three do not
	for _, k := range []struct {
		ce     string
		layers int
	}{{"gzip, gzip", 2}, {"gzip, gzip, gzip", 3}} {
		applied := []string{"gzip", "gzip", "gzip"}[:k.layers]
		out := run(t, cfg, "GET / HTTP/1.1\r\n\r\n", gzipResponse(encode(t, plain, applied...), k.ce))
		if got := out[0].Response.BodyDecodedBytes; (k.layers == 2) != (got == int64(len(plain))) || (k.layers == 3) != out[0].DecoderLimited {
			t.Errorf("%q: decoded %d, limited %v", k.ce, got, out[0].DecoderLimited)
		}
	}
}

// openBodies starts n gzip responses on n connections and leaves each in
// the middle of its body, as 20,000 concurrent downloads would be.
func openBodies(tb testing.TB, cfg Config, n int) []*Conn {
	z := gzipped(nil, "gzip", bytes.Repeat([]byte("<p>concurrent</p>\n"), 4000))
	resp := []byte(gzipResponse(z, "gzip"))
	half := len(resp) - len(z)/2
	conns := make([]*Conn, n)
	for i := range conns {
		conns[i] = NewConn(cfg, nil)
		_ = conns[i].Data(parsers.ToServer, []byte("GET / HTTP/1.1\r\n\r\n"), t0)
		_ = conns[i].Data(parsers.ToClient, resp[:half], t0)
	}
	return conns
}

// inUse is the heap and stack memory in use after a collection.
func inUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse + m.StackInuse)
}

// DecoderFootprint is what an open decoder really holds, so that the budget
// reservation is honest.
func TestDecoderFootprint(t *testing.T) {
	const n = 500
	base := inUse()
	noDecode := openBodies(t, Config{}, n)
	withoutDecoders := inUse() - base
	decoding := openBodies(t, decodeOn, n)
	perDecoder := (inUse() - base - withoutDecoders) / n
	t.Logf("connection mid-body: %d bytes; an open decoder adds %d bytes (reserved: %d)", withoutDecoders/n, perDecoder, DecoderFootprint)
	if perDecoder > DecoderFootprint {
		t.Errorf("an open decoder holds %d bytes, more than the %d it reserves", perDecoder, DecoderFootprint)
	}
	if perDecoder < DecoderFootprint/4 {
		t.Errorf("an open decoder holds %d bytes: DecoderFootprint (%d) is far too high", perDecoder, DecoderFootprint)
	}
	for _, c := range append(noDecode, decoding...) {
		c.End(t0)
	}
}

// 20,000 concurrent compressed responses with decoding on stay within the
// decoders' budget: the first budget/DecoderFootprint are decoded, the rest
// counted and noted, and memory grows by the connections' own state only.
func TestConcurrentCompressedBodiesBounded(t *testing.T) {
	const n, limit = 20000, 4 << 20
	b := budget.New(limit)
	base := inUse()
	conns := openBodies(t, Config{DecodeBodies: On, Budget: b.NewAccount()}, n)
	grown := inUse() - base
	var decoding, limited int
	for _, c := range conns {
		if c.h[parsers.ToClient].dec != nil {
			decoding++
		}
		if c.resp != nil && c.resp.tx.DecoderLimited {
			limited++
		}
	}
	t.Logf("%d open compressed bodies: %d decoding, %d counted only; memory +%d MiB (%d bytes per connection); decoders pool %d KiB",
		n, decoding, limited, grown>>20, grown/n, b.Stats().Pools[budget.Decoders].Used>>10)
	if decoding != limit/DecoderFootprint || decoding+limited != n {
		t.Errorf("%d decoding, %d limited: want %d and the rest", decoding, limited, limit/DecoderFootprint)
	}
	if used := b.Stats().Pools[budget.Decoders].Used; used > limit {
		t.Errorf("decoders hold %d bytes, over the %d budget", used, limit)
	}
	// without the bound every body would hold a decoder: n*DecoderFootprint
	if max := int64(limit) + n*8<<10; grown > max {
		t.Errorf("memory grew by %d bytes, more than the budget plus 8 KiB per connection (%d)", grown, max)
	}
	for _, c := range conns {
		c.End(t0)
	}
	if used := b.Stats().Pools[budget.Decoders].Used; used != 0 {
		t.Errorf("%d bytes still reserved", used)
	}
}
