package http

import (
	"bytes"
	"fmt"
	"runtime"
	"slices"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// bodyCase is one compressed response and how its connection ends.
type bodyCase struct {
	name string
	resp []byte
	cut  int // > 0: the connection ends this many bytes into the response
	gap  int // > 0: this many bytes into the response, a gap of gap bytes
}

// brokenAndSoundBodies are bodies that leave a decoder in every way it can
// end (error, stopped mid-stream, limit, peeked bytes not read again, the
// end of its stream) in each layer, followed by sound ones of every coding.
func brokenAndSoundBodies(t *testing.T) []bodyCase {
	plain := bytes.Repeat([]byte("a reused decoder must decode as a fresh one. "), 3000)
	resp := func(ce string, z []byte) []byte { return []byte(gzipResponse(z, ce)) }
	corrupt := func(z []byte) []byte {
		z = bytes.Clone(z)
		for i := len(z) / 3; i < len(z)/3+16; i++ {
			z[i] ^= 0x5a
		}
		return z
	}
	gz, zl, raw := gzipped(t, "gzip", plain), gzipped(t, "zlib", plain), gzipped(t, "raw", plain)
	stacked := encode(t, plain, "gzip", "gzip")
	innerBroken := encode(t, corrupt(gzipped(t, "gzip", plain)), "gzip")
	var bomb bytes.Buffer
	bomb.Write(gzipped(t, "gzip", make([]byte, 4<<20)))
	return []bodyCase{
		{name: "corrupt gzip", resp: resp("gzip", corrupt(gz))},
		{name: "sound gzip", resp: resp("gzip", gz)},
		{name: "raw deflate cut", resp: resp("deflate", raw), cut: 200 + len(raw)/2},
		{name: "sound zlib", resp: resp("deflate", zl)},
		{name: "zlib cut after its header", resp: resp("deflate", zl), cut: len(resp("deflate", zl)) - len(zl) + 1},
		{name: "sound raw deflate", resp: resp("deflate", raw)},
		{name: "inner layer corrupt", resp: resp("gzip, gzip", innerBroken)},
		{name: "sound stacked", resp: resp("gzip, gzip", stacked)},
		{name: "gap in gzip", resp: resp("gzip", gz), gap: len(resp("gzip", gz)) - len(gz)/2},
		{name: "bomb past the limit", resp: resp("gzip", bomb.Bytes())},
		{name: "three layers", resp: resp("gzip, gzip, gzip", encode(t, plain, "gzip", "gzip", "gzip"))},
		{name: "empty gzip body", resp: []byte("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 0\r\n\r\n")},
		{name: "sound gzip again", resp: resp("gzip", gz)},
	}
}

// decodedSummary is what a decoder's result shows in a transaction.
func decodedSummary(tx Transaction) string {
	r := tx.Response
	return fmt.Sprintf("decoded %d wire %d limited %v notes %v", r.BodyDecodedBytes, r.BodyBytes, tx.DecoderLimited, tx.Notes)
}

// runBodies sends each case on a connection of its own, in order, each in
// pieces of split bytes, and sums up the transactions.
func runBodies(t *testing.T, cfg Config, cases []bodyCase, split int) []string {
	var got []string
	for _, k := range cases {
		var out []Transaction
		c := collect(cfg, &out)
		mustData(t, c, parsers.ToServer, "GET / HTTP/1.1\r\n\r\n")
		b := k.resp
		if k.cut > 0 {
			b = b[:k.cut]
		}
		for off := 0; off < len(b); {
			if k.gap > 0 && off == k.gap {
				c.Gap(parsers.ToClient, 100, t0)
				off += 100
				continue
			}
			n := min(split, len(b)-off)
			if k.gap > off && k.gap < off+n {
				n = k.gap - off
			}
			_ = c.Data(parsers.ToClient, b[off:off+n], t0)
			off += n
		}
		c.End(t0)
		c.Release()
		if len(out) != 1 {
			t.Fatalf("%s: %d transactions", k.name, len(out))
		}
		got = append(got, k.name+": "+decodedSummary(out[0]))
	}
	return got
}

// A decoder taken from the Pool after a body that broke, was cut, hit the
// limit or was abandoned in any layer decodes exactly as a fresh one.
func TestPooledDecodersDecodeAsFresh(t *testing.T) {
	cases := brokenAndSoundBodies(t)
	for _, split := range []int{1 << 20, 977, 1} {
		if split == 1 {
			cases = cases[:4] // byte by byte: the first few are enough
		}
		cfg := Config{DecodeBodies: On, MaxDecoded: 1 << 20}
		fresh := runBodies(t, cfg, cases, split)
		t.Logf("split %d: %q", split, fresh)
		var p Pool
		cfg.Pool = &p
		goroutines := runtime.NumGoroutine()
		pooled := runBodies(t, cfg, append(slices.Clone(cases), cases...), split)
		if !slices.Equal(pooled[:len(cases)], fresh) || !slices.Equal(pooled[len(cases):], fresh) {
			t.Errorf("split %d: pooled decoders differ from fresh ones:\nfresh  %q\npooled %q", split, fresh, pooled)
		}
		if n := p.inflaters.Len(); n == 0 || n > maxPooledInflaters {
			t.Errorf("split %d: %d inflaters parked, want 1..%d", split, n, maxPooledInflaters)
		}
		parked := runtime.NumGoroutine()
		p.Close()
		if p.inflaters.Len() != 0 || runtime.NumGoroutine() != goroutines {
			t.Errorf("split %d: after Close %d inflaters parked, %d goroutines (%d before Close, %d before the bodies)",
				split, p.inflaters.Len(), runtime.NumGoroutine(), parked, goroutines)
		}
	}
}

// Once the Pool has a parked decoder, decoding a body allocates nothing.
func TestPooledDecoderAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	z := gzipped(t, "gzip", bytes.Repeat([]byte("allocation-free "), 5000))
	acct := budget.New(1 << 30).NewAccount()
	var p Pool
	defer p.Close()
	body := func() {
		f := newDecoder([]encoding{encGzip}, 1<<30, acct, DefaultMaxDecoders, &p)
		for b := z; len(b) > 0; b = b[min(len(b), 1000):] {
			f.push(b[:min(len(b), 1000)])
		}
		if r := f.finish(true, &p); r.out != 5000*16 || r.failed {
			t.Fatalf("decoded %+v", r)
		}
	}
	if n := testing.AllocsPerRun(50, body); n != 0 {
		t.Errorf("%.1f allocations a body, want 0", n)
	}
}
