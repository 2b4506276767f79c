package http

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
)

var t0 = time.Unix(1700000000, 0).UTC()

// collect returns a parser whose transactions are copied into *out.
func collect(cfg Config, out *[]Transaction) *Conn {
	return NewConn(cfg, func(tx *Transaction) { *out = append(*out, keep(tx)) })
}

func mustData(t *testing.T, c *Conn, d parsers.Dir, s string) {
	t.Helper()
	if err := c.Data(d, []byte(s), t0); err != nil {
		t.Fatalf("Data(%v, %.40q): %v", d, s, err)
	}
}

func hasNote(tx Transaction, n string) bool { return slices.Contains(tx.Notes, n) }

// run feeds a whole exchange (client bytes, then server bytes) and ends.
func run(t *testing.T, cfg Config, req, resp string) []Transaction {
	t.Helper()
	var out []Transaction
	c := collect(cfg, &out)
	mustData(t, c, parsers.ToServer, req)
	mustData(t, c, parsers.ToClient, resp)
	c.End(t0)
	return out
}

const pipeReq = "GET /a?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t/1\r\n\r\n" +
	"POST /form HTTP/1.1\r\nHost: example.com\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8\r\nContent-Length: 7\r\n\r\na=1&b=2" +
	"\r\n" + // stray CRLF between requests, tolerated
	"PUT /up HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 1\r\n\r\n" +
	"HEAD /h HTTP/1.1\r\nHost: example.com\r\n\r\n"

const pipeResp = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello" +
	"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nLocation: /form/1\r\n\r\n3\r\nabc\r\n0\r\n\r\n" +
	"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n" +
	"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"

func TestPipelined(t *testing.T) {
	out := run(t, Config{BodyCapture: 4}, pipeReq, pipeResp)
	if len(out) != 4 {
		t.Fatalf("got %d transactions", len(out))
	}
	want := []struct {
		method, uri  string
		code         int
		reqBody      int64
		respBody     int64
		respWire     int64
		reqWire      int64
		capture, loc string
	}{
		{"GET", "/a?x=1", 200, 0, 5, 5, 0, "", ""},
		{"POST", "/form", 201, 7, 3, int64(len("3\r\nabc\r\n0\r\n\r\n")), 7, "a=1&", "/form/1"},
		{"PUT", "/up", 304, 11, 0, 0, int64(len("5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 1\r\n\r\n")), "hell", ""},
		{"HEAD", "/h", 200, 0, 0, 0, 0, "", ""},
	}
	for i, w := range want {
		tx := out[i]
		q, s := tx.Request, tx.Response
		if q.Method != w.method || q.URI != w.uri || s.StatusCode != w.code || q.BodyBytes != w.reqBody ||
			s.BodyBytes != w.respBody || s.BodyWireBytes != w.respWire || q.BodyWireBytes != w.reqWire ||
			string(q.Body) != w.capture || s.Location != w.loc || tx.ResponseMissing || tx.RequestTruncated || len(tx.Notes) != 0 {
			t.Errorf("tx %d: %+v", i, tx)
		}
	}
	if q := out[1].Request; q.MimeType != "application/x-www-form-urlencoded" || q.ContentLength != 7 {
		t.Errorf("content type: %q %d", q.MimeType, q.ContentLength)
	}
	if out[3].Response.ContentLength != 1234 {
		t.Errorf("HEAD response CL %d", out[3].Response.ContentLength)
	}
}

// TestSplitInvariance feeds the same exchange in one piece, one byte at a
// time and in random pieces: the transactions must be identical.
func TestSplitInvariance(t *testing.T) {
	whole := run(t, Config{BodyCapture: 8}, pipeReq, pipeResp)
	feed := func(sizes func() int) []Transaction {
		var out []Transaction
		c := collect(Config{BodyCapture: 8}, &out)
		for d, s := range []string{pipeReq, pipeResp} {
			for b := []byte(s); len(b) > 0; {
				n := min(sizes(), len(b))
				if err := c.Data(parsers.Dir(d), b[:n], t0); err != nil {
					t.Fatal(err)
				}
				b = b[n:]
			}
		}
		c.End(t0)
		return out
	}
	if got := feed(func() int { return 1 }); !reflect.DeepEqual(got, whole) {
		t.Errorf("byte by byte differs:\n%+v\n%+v", got, whole)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		if got := feed(func() int { return 1 + rng.IntN(40) }); !reflect.DeepEqual(got, whole) {
			t.Fatalf("random split %d differs", i)
		}
	}
	// Interleaved byte by byte, as a client and server would send them: a
	// response starts only once its request was sent.
	reqs := strings.SplitAfter(pipeReq, "\r\n\r\n")
	resps := strings.SplitAfter(pipeResp, "\r\n\r\n")
	var out []Transaction
	c := collect(Config{BodyCapture: 8}, &out)
	zip := func(a, b string) {
		for len(a)+len(b) > 0 {
			if a != "" {
				mustData(t, c, parsers.ToServer, a[:1])
				a = a[1:]
			}
			if b != "" {
				mustData(t, c, parsers.ToClient, b[:1])
				b = b[1:]
			}
		}
	}
	zip(reqs[0]+reqs[1], "")                           // GET, POST headers
	zip(strings.Join(reqs[2:], ""), resps[0]+resps[1]) // POST body, PUT, HEAD / 200, 201 headers
	zip("", strings.Join(resps[2:], ""))
	c.End(t0)
	if !reflect.DeepEqual(out, whole) {
		t.Errorf("interleaved differs:\n%+v\n%+v", out, whole)
	}
}

func TestHugeHeader(t *testing.T) {
	var out []Transaction
	c := collect(Config{}, &out)
	mustData(t, c, parsers.ToServer, "GET / HTTP/1.1\r\nHost: a\r\n")
	line := "X-Pad: " + strings.Repeat("a", 1000) + "\r\n"
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		err = c.Data(parsers.ToServer, []byte(line), t0)
	}
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v", err)
	}
	if err := c.Data(parsers.ToClient, []byte("HTTP/1.1 200 OK\r\n\r\n"), t0); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("parser kept going: %v", err)
	}
	if n := cap(c.h[0].buf); n > DefaultMaxHeaderBytes+DefaultMaxLineBytes {
		t.Errorf("header buffer grew to %d", n)
	}
	c.End(t0)
	if len(out) != 1 || !hasNote(out[0], NoteHeaderTooLarge) || !out[0].RequestTruncated || !out[0].ResponseMissing ||
		out[0].Request.Host != "a" || out[0].Request.HeaderBytes != DefaultMaxHeaderBytes {
		t.Fatalf("%+v", out)
	}

	// One overlong line, and too many headers.
	out = out[:0]
	c = collect(Config{}, &out)
	err = c.Data(parsers.ToServer, []byte("GET /"+strings.Repeat("x", 9000)+" HTTP/1.1\r\n"), t0)
	c.End(t0)
	if !errors.Is(err, ErrTooLarge) || len(out) != 1 || !hasNote(out[0], NoteLineTooLong) || out[0].Request.Method != "GET" {
		t.Fatalf("long line: %v %+v", err, out)
	}
	out = out[:0]
	c = collect(Config{MaxHeaders: 5}, &out)
	err = c.Data(parsers.ToServer, []byte("GET / HTTP/1.1\r\n"+strings.Repeat("A: b\r\n", 6)+"\r\n"), t0)
	c.End(t0)
	if !errors.Is(err, ErrTooLarge) || len(out) != 1 || !hasNote(out[0], NoteTooManyHeaders) || len(out[0].Request.Headers) != 5 {
		t.Fatalf("many headers: %v %+v", err, out)
	}
}

func TestNotHTTP(t *testing.T) {
	for _, s := range []string{"\x16\x03\x01\x02\x00", "SSH-2.0-OpenSSH_9.6\r\n", "GET /nothing\r\n", "EHLO mail.example\r\n"} {
		var out []Transaction
		c := collect(Config{}, &out)
		if err := c.Data(parsers.ToServer, []byte(s), t0); !errors.Is(err, ErrNotHTTP) {
			t.Errorf("%q: err %v", s, err)
		}
		c.End(t0)
		if len(out) != 0 {
			t.Errorf("%q: emitted %+v", s, out)
		}
	}
	var out []Transaction
	c := collect(Config{}, &out)
	if err := c.Data(parsers.ToClient, []byte("HTTX/1.1 200"), t0); !errors.Is(err, ErrNotHTTP) {
		t.Errorf("response: %v", err)
	}
}

// TestEndlessChunked streams 64 MiB of chunked body in small pieces: the
// parser must neither buffer it nor allocate per piece.
func TestEndlessChunked(t *testing.T) {
	var out []Transaction
	c := collect(Config{}, &out)
	mustData(t, c, parsers.ToServer, "GET /stream HTTP/1.1\r\nHost: a\r\n\r\n")
	mustData(t, c, parsers.ToClient, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
	chunk := []byte("1000;e=x\r\n" + strings.Repeat("z", 4096) + "\r\n")
	pieces := [][]byte{chunk[:3], chunk[3:700], chunk[700:4000], chunk[4000:]}
	feed := func() {
		for _, p := range pieces {
			if err := c.Data(parsers.ToClient, p, t0); err != nil {
				t.Fatal(err)
			}
		}
	}
	allocs := testing.AllocsPerRun(16384, feed)
	if allocs != 0 {
		t.Errorf("%.1f allocations per chunk", allocs)
	}
	if n := cap(c.h[1].buf); n > 64 {
		t.Errorf("line buffer grew to %d", n)
	}
	if len(out) != 0 {
		t.Fatalf("emitted early")
	}
	mustData(t, c, parsers.ToClient, "0\r\n\r\n")
	c.End(t0)
	if len(out) != 1 || out[0].Response.BodyBytes != 16385*4096 || out[0].Response.BodyWireBytes != 16385*int64(len(chunk))+5 {
		t.Fatalf("%+v", out)
	}
}

func TestGapInHeaderThenGoodRequest(t *testing.T) {
	var out []Transaction
	c := collect(Config{}, &out)
	mustData(t, c, parsers.ToServer, "GET /first HTTP/1.1\r\nHost: one\r\nUser-")
	c.Gap(parsers.ToServer, 300, t0)
	mustData(t, c, parsers.ToServer, "rest of a lost line\r\nGET /not-a-request-line\r\nGET /second HTTP/1.1\r\nHost: two\r\n\r\n")
	mustData(t, c, parsers.ToClient, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	mustData(t, c, parsers.ToClient, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
	c.End(t0)
	if len(out) != 2 {
		t.Fatalf("got %d: %+v", len(out), out)
	}
	a, b := out[0], out[1]
	if a.Request.URI != "/first" || a.Request.Host != "one" || !a.RequestTruncated || !hasNote(a, NoteGap) || a.Response.StatusCode != 200 {
		t.Errorf("first: %+v", a)
	}
	if b.Request.URI != "/second" || b.Request.Host != "two" || b.RequestTruncated || !hasNote(b, NoteResync) || b.Response.StatusCode != 404 {
		t.Errorf("second: %+v", b)
	}
}

func TestGapInBody(t *testing.T) {
	var out []Transaction
	c := collect(Config{}, &out)
	mustData(t, c, parsers.ToServer, "POST /u HTTP/1.1\r\nContent-Length: 1000\r\n\r\nabc")
	c.Gap(parsers.ToServer, 900, t0)
	mustData(t, c, parsers.ToServer, strings.Repeat("d", 97)+"GET /next HTTP/1.1\r\n\r\n")
	// a gap that swallows the end of a body and the start of the next message
	mustData(t, c, parsers.ToClient, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345")
	c.Gap(parsers.ToClient, 40, t0)
	mustData(t, c, parsers.ToClient, "tail\r\nHTTP/1.1 204 No Content\r\n\r\n")
	c.End(t0)
	if len(out) != 2 {
		t.Fatalf("%+v", out)
	}
	if q := out[0].Request; q.BodyWireBytes != 1000 || q.BodyBytes != 100 || !hasNote(out[0], NoteGap) {
		t.Errorf("gap body: %+v", out[0])
	}
	if out[1].Request.URI != "/next" || out[1].Response.StatusCode != 204 || !hasNote(out[1], NoteResync) {
		t.Errorf("after gap: %+v", out[1])
	}
}

func TestContinue100(t *testing.T) {
	var out []Transaction
	c := collect(Config{}, &out)
	mustData(t, c, parsers.ToServer, "POST /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
	mustData(t, c, parsers.ToClient, "HTTP/1.1 100 Continue\r\n\r\n")
	mustData(t, c, parsers.ToServer, "da")
	mustData(t, c, parsers.ToClient, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	if len(out) != 0 {
		t.Fatal("emitted before the request body ended")
	}
	mustData(t, c, parsers.ToServer, "ta")
	c.End(t0)
	if len(out) != 1 || !out[0].Continue100 || out[0].Response.StatusCode != 200 || out[0].Request.BodyBytes != 4 {
		t.Fatalf("%+v", out)
	}
}

func TestResponseToClose(t *testing.T) {
	out := run(t, Config{}, "GET / HTTP/1.0\r\n\r\n", "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>body</html>")
	if len(out) != 1 || out[0].Response.BodyBytes != 17 || out[0].ResponseTruncated || out[0].Request.Version != "1.0" {
		t.Fatalf("%+v", out)
	}
}

func TestConnectTunnel(t *testing.T) {
	var out []Transaction
	c := collect(Config{}, &out)
	mustData(t, c, parsers.ToServer, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
	// an eager client sends its TLS hello before the 200 arrives
	mustData(t, c, parsers.ToServer, "\x16\x03\x01\x00\x05hello")
	err := c.Data(parsers.ToClient, []byte("HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03"), t0)
	if !errors.Is(err, ErrSwitched) {
		t.Fatalf("err %v", err)
	}
	if err := c.Data(parsers.ToServer, []byte("\x17\x03\x03"), t0); !errors.Is(err, ErrSwitched) {
		t.Fatalf("after tunnel: %v", err)
	}
	c.End(t0)
	if len(out) != 1 || !out[0].Tunnel || out[0].Request.URI != "example.com:443" || out[0].Response.StatusCode != 200 {
		t.Fatalf("%+v", out)
	}
	u := SplitURL(out[0].Request.URI, out[0].Request.Host, "http", 3128)
	if u.Domain != "example.com" || u.Port != 443 || u.Scheme != "" || u.Path != "" {
		t.Errorf("%+v", u)
	}

	// A refused CONNECT: HTTP goes on.
	out = out[:0]
	c = collect(Config{}, &out)
	mustData(t, c, parsers.ToServer, "CONNECT a:443 HTTP/1.1\r\n\r\n")
	mustData(t, c, parsers.ToClient, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
	mustData(t, c, parsers.ToServer, "CONNECT a:443 HTTP/1.1\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\n\r\n")
	if err := c.Data(parsers.ToClient, []byte("HTTP/1.1 200 OK\r\n\r\n"), t0); !errors.Is(err, ErrSwitched) {
		t.Fatal(err)
	}
	c.End(t0)
	if len(out) != 2 || out[0].Tunnel || out[0].Response.StatusCode != 407 || !out[1].Tunnel || out[1].Request.AuthUser != "user" {
		t.Fatalf("%+v", out)
	}
}

func TestWebSocketUpgrade(t *testing.T) {
	var out []Transaction
	c := collect(Config{}, &out)
	mustData(t, c, parsers.ToServer, "GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	err := c.Data(parsers.ToClient, []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello"), t0)
	if !errors.Is(err, ErrSwitched) {
		t.Fatalf("err %v", err)
	}
	c.End(t0)
	if len(out) != 1 || !out[0].Upgraded || out[0].UpgradeProtocol != "websocket" || out[0].Response.StatusCode != 101 {
		t.Fatalf("%+v", out)
	}
	// An Upgrade the server ignores is plain HTTP.
	out = run(t, Config{}, "GET / HTTP/1.1\r\nUpgrade: h2c\r\n\r\nGET /2 HTTP/1.1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	if len(out) != 2 || out[0].Upgraded || out[0].UpgradeProtocol != "" || out[0].Request.Upgrade != "h2c" {
		t.Fatalf("%+v", out)
	}
}

func TestBothCLAndTE(t *testing.T) {
	// The shared capture's obfuscated header: TE wins (RFC 9112 6.3).
	out := run(t, Config{}, "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: ,\tchunked,\r\n\r\n1\r\nx\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n", "")
	if len(out) != 2 || !hasNote(out[0], NoteCLAndTE) || out[0].Request.BodyBytes != 1 || out[1].Request.URI != "/smuggled" {
		t.Fatalf("%+v", out)
	}
	// Transfer-Encoding not ending in chunked on a request: cannot frame.
	var got []Transaction
	c := collect(Config{}, &got)
	err := c.Data(parsers.ToServer, []byte("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), t0)
	c.End(t0)
	if !errors.Is(err, ErrFraming) || len(got) != 1 || !hasNote(got[0], NoteTENotChunked) {
		t.Fatalf("%v %+v", err, got)
	}
}

func TestContentLengthVariants(t *testing.T) {
	cases := []struct {
		hdr  string
		cl   int64
		note string
	}{
		{"Content-Length: 2\r\nContent-Length: 2\r\n", 2, NoteDuplicateCL},
		{"Content-Length: 2, 2\r\n", 2, NoteDuplicateCL},
		{"Content-Length: 2\r\nContent-Length: 3\r\n", -1, NoteConflictingCL},
		{"Content-Length: -2\r\n", -1, NoteInvalidCL},
		{"Content-Length: 0x10\r\n", -1, NoteInvalidCL},
		{"Content-Length: 99999999999999999999\r\n", -1, NoteInvalidCL},
	}
	for _, k := range cases {
		out := run(t, Config{}, "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n"+k.hdr+"\r\nok")
		if len(out) != 1 || out[0].Response.ContentLength != k.cl || !hasNote(out[0], k.note) {
			t.Errorf("%q: %+v", k.hdr, out)
			continue
		}
		// an invalid length on a response means: read to close
		if k.cl < 0 && out[0].Response.BodyBytes != 2 {
			t.Errorf("%q: body %d", k.hdr, out[0].Response.BodyBytes)
		}
	}
}

func gzipped(t *testing.T, kind string, data []byte) []byte {
	var b bytes.Buffer
	switch kind {
	case "gzip":
		w := gzip.NewWriter(&b)
		w.Write(data)
		w.Close()
	case "zlib":
		w := zlib.NewWriter(&b)
		w.Write(data)
		w.Close()
	case "raw":
		w, _ := flate.NewWriter(&b, flate.BestCompression)
		w.Write(data)
		w.Close()
	}
	return b.Bytes()
}

// decodeOn turns content decoding on (it is off by default).
var decodeOn = Config{DecodeBodies: On}

func TestContentDecoding(t *testing.T) {
	plain := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog. "), 2000)
	for _, k := range []struct{ kind, ce string }{{"gzip", "gzip"}, {"gzip", "x-gzip"}, {"zlib", "deflate"}, {"raw", "deflate"}} {
		z := gzipped(t, k.kind, plain)
		resp := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n%s", k.ce, len(z), z)
		// twice on one connection: the decoder state is reused
		for _, split := range []int{1, 7, 1 << 20} {
			var out []Transaction
			c := collect(decodeOn, &out)
			mustData(t, c, parsers.ToServer, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n")
			both := []byte(resp + resp)
			for len(both) > 0 {
				n := min(split, len(both))
				mustData(t, c, parsers.ToClient, string(both[:n]))
				both = both[n:]
			}
			c.End(t0)
			for _, tx := range out {
				r := tx.Response
				if r.BodyBytes != int64(len(z)) || r.BodyDecodedBytes != int64(len(plain)) || len(tx.Notes) != 0 {
					t.Errorf("%s/%s split %d: wire %d decoded %d notes %v", k.kind, k.ce, split, r.BodyBytes, r.BodyDecodedBytes, tx.Notes)
				}
			}
			if len(out) != 2 {
				t.Fatalf("%d transactions", len(out))
			}
		}
	}
	// chunked + gzip
	z := gzipped(t, "gzip", plain)
	resp := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(z), z)
	out := run(t, decodeOn, "GET / HTTP/1.1\r\n\r\n", resp)
	if out[0].Response.BodyDecodedBytes != int64(len(plain)) {
		t.Errorf("chunked gzip: %+v", out[0].Response)
	}
	// decoding off (the default), unknown coding, corrupt data
	for _, cfg := range []Config{{}, {DecodeBodies: Off}} {
		out = run(t, cfg, "GET / HTTP/1.1\r\n\r\n", resp)
		if out[0].Response.BodyDecodedBytes != -1 || !hasNote(out[0], NoteDecodeSkipped) {
			t.Errorf("decoding off: %d %v", out[0].Response.BodyDecodedBytes, out[0].Notes)
		}
	}
	out = run(t, decodeOn, "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 3\r\n\r\nabc")
	if out[0].Response.BodyDecodedBytes != -1 || out[0].Response.BodyBytes != 3 || !hasNote(out[0], NoteDecodeUnsupported) {
		t.Errorf("br: %+v %v", out[0].Response, out[0].Notes)
	}
	out = run(t, decodeOn, "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 20\r\n\r\nnot gzip at all!!!!!")
	if !hasNote(out[0], NoteDecodeError) {
		t.Errorf("corrupt gzip: %+v", out[0])
	}
}

func TestZipBomb(t *testing.T) {
	z := gzipped(t, "gzip", make([]byte, 64<<20)) // 64 MiB of zeros, ~64 KiB compressed
	resp := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s", len(z), z)
	out := run(t, Config{DecodeBodies: On, MaxDecoded: 1 << 20}, "GET /bomb HTTP/1.1\r\n\r\n", resp)
	r := out[0].Response
	if !hasNote(out[0], NoteDecodeLimit) || r.BodyDecodedBytes != 1<<20 || r.BodyBytes != int64(len(z)) {
		t.Fatalf("%+v %v", r, out[0].Notes)
	}
}

func TestSecrets(t *testing.T) {
	req := "GET / HTTP/1.1\r\nAuthorization: Basic YWxpY2U6czNjcjN0\r\nCookie: session=abcdef\r\n\r\n"
	resp := "HTTP/1.1 200 OK\r\nSet-Cookie: session=zzz\r\nContent-Length: 0\r\n\r\n"
	out := run(t, Config{}, req, resp)
	q := out[0].Request
	if q.AuthScheme != "Basic" || q.AuthUser != "alice" || !strings.HasPrefix(q.Authorization, "Basic <redacted sha256:") ||
		len(q.Authorization) != len("Basic <redacted sha256:0123456789abcdef>") || !strings.HasPrefix(q.Cookie, "<redacted sha256:") {
		t.Fatalf("%+v", q)
	}
	dump := fmt.Sprintf("%+v", out[0])
	for _, secret := range []string{"YWxpY2U6czNjcjN0", "s3cr3t", "abcdef", "zzz"} {
		if strings.Contains(dump, secret) {
			t.Errorf("secret %q leaked: %s", secret, dump)
		}
	}
	// same value, same fingerprint; different value, different one
	out2 := run(t, Config{}, req, resp)
	if out2[0].Request.Authorization != q.Authorization {
		t.Error("fingerprint not stable")
	}
	out3 := run(t, Config{}, strings.Replace(req, "czNjcjN0", "b3RoZXI=", 1), resp)
	if out3[0].Request.Authorization == q.Authorization || out3[0].Request.AuthUser != "alice" {
		t.Error("fingerprint does not depend on the value")
	}
	raw := run(t, Config{RedactSecrets: Off}, req, resp)
	if raw[0].Request.Authorization != "Basic YWxpY2U6czNjcjN0" || raw[0].Request.Cookie != "session=abcdef" {
		t.Errorf("redaction off: %+v", raw[0].Request)
	}
	bearer := run(t, Config{}, "GET / HTTP/1.1\r\nAuthorization: Bearer eyJhbGciOi.x.y\r\n\r\n", "")
	if b := bearer[0].Request; b.AuthScheme != "Bearer" || b.AuthUser != "" || strings.Contains(b.Authorization, "eyJ") {
		t.Errorf("bearer: %+v", b)
	}
	bad := run(t, Config{}, "GET / HTTP/1.1\r\nAuthorization: Basic !!!\r\n\r\n", "")
	if !hasNote(bad[0], NoteBadBasicAuth) {
		t.Errorf("bad basic: %+v", bad[0])
	}
}

func TestOrphanAndMissing(t *testing.T) {
	out := run(t, Config{}, "", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx")
	if len(out) != 1 || !out[0].RequestMissing || !hasNote(out[0], NoteNoRequest) || out[0].Response.BodyBytes != 1 {
		t.Fatalf("orphan: %+v", out)
	}
	out = run(t, Config{}, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	if len(out) != 2 || out[0].ResponseMissing || !out[1].ResponseMissing || out[1].Request.URI != "/b" {
		t.Fatalf("missing: %+v", out)
	}
	// bound on pipelined requests waiting for a response
	out = run(t, Config{MaxPending: 4}, strings.Repeat("GET /x HTTP/1.1\r\n\r\n", 10), "")
	if len(out) != 10 || !hasNote(out[0], NoteTooManyPending) || hasNote(out[9], NoteTooManyPending) {
		t.Fatalf("pending bound: %d %+v", len(out), out)
	}
	// End in the middle of things
	var got []Transaction
	c := collect(Config{}, &got)
	mustData(t, c, parsers.ToServer, "GET /a HTTP/1.1\r\nHost: h\r\n")
	mustData(t, c, parsers.ToClient, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
	c.End(t0)
	if len(got) != 1 || !got[0].RequestTruncated || !got[0].ResponseTruncated || !hasNote(got[0], NoteEndInHeaders) || !hasNote(got[0], NoteEndInBody) {
		t.Fatalf("end: %+v", got)
	}
}

func TestHeaderDetails(t *testing.T) {
	req := "GET /p HTTP/1.1\r\nHost: a\r\nX-Long: one\r\n two\r\nbad line\r\nReferer: http://r/\r\n\r\n"
	out := run(t, Config{}, req, "HTTP/1.1 204\r\n\r\n")
	q := out[0].Request
	if q.Referer != "http://r/" || !hasNote(out[0], NoteObsFold) || !hasNote(out[0], NoteMalformedHeader) || len(q.Headers) != 3 ||
		!strings.HasPrefix(q.Headers[1].Value, "one") || !strings.HasSuffix(q.Headers[1].Value, "two") {
		t.Fatalf("%+v %q", q, q.Headers)
	}
	if r := out[0].Response; r.StatusCode != 204 || r.Reason != "" {
		t.Errorf("%+v", r)
	}
	out = run(t, Config{}, "GET / HTTP/1.1\r\nHost: good\r\nhost: evil\r\n\r\n", "")
	if out[0].Request.Host != "good" || !hasNote(out[0], NoteDuplicateHost) {
		t.Errorf("duplicate host: %+v", out[0])
	}
	// A space inside the URI (the shared GRE capture).
	out = run(t, Config{}, "GET /Hello Arkime HTTP/1.0\r\n\r\n", "")
	if out[0].Request.URI != "/Hello Arkime" || out[0].Request.Version != "1.0" {
		t.Errorf("%+v", out[0].Request)
	}
}

func TestSniff(t *testing.T) {
	cases := []struct {
		in  string
		req bool
		v   parsers.Verdict
	}{
		{"GET / HTTP/1.1", true, parsers.Yes},
		{"M-SEARCH * HTTP/1.1", true, parsers.Yes},
		{"UNSUBSCRIBE * HTTP/1.1", true, parsers.Yes},
		{"HTTP/1.1 200 OK", false, parsers.Yes},
		{"HTTP/1.0 404", false, parsers.Yes},
		{"HTTP/2 200", false, parsers.No},
		{"get / HTTP/1.1", false, parsers.No},
		{"GETX / HTTP/1.1", false, parsers.No},
		{"\x16\x03\x01", false, parsers.No},
		{"PRI * HTTP/2.0", false, parsers.No},
		{"UNSUBSCRIBEX", false, parsers.No},
		// Prefixes of a method or of a status line: too few bytes to tell.
		{"", false, parsers.More},
		{"G", true, parsers.More},
		{"GET", true, parsers.More},
		{"H", false, parsers.More},
		{"HTTP/1.", false, parsers.More},
		{"UNSUBSCRIB", true, parsers.More},
	}
	for _, k := range cases {
		if req, v := Sniff([]byte(k.in)); req != k.req || v != k.v {
			t.Errorf("Sniff(%q) = %v,%v want %v,%v", k.in, req, v, k.req, k.v)
		}
	}
}

func TestSplitURL(t *testing.T) {
	cases := []struct {
		uri, host, scheme string
		port              uint16
		full              string
		want              URL
	}{
		{"/a/b?x=1&y=2#frag", "example.com", "http", 80, "http://example.com/a/b?x=1&y=2#frag", URL{Scheme: "http", Domain: "example.com", Port: 80, Path: "/a/b", Query: "x=1&y=2", Fragment: "frag"}},
		{"/", "[::1]:8000", "http", 8000, "http://[::1]:8000/", URL{Scheme: "http", Domain: "[::1]", Port: 8000, Path: "/"}},
		{"/", "[::1]", "http", 8080, "http://[::1]:8080/", URL{Scheme: "http", Domain: "[::1]", Port: 8080, Path: "/"}},
		{"/x", "localhost:8080", "http", 9999, "http://localhost:8080/x", URL{Scheme: "http", Domain: "localhost", Port: 8080, Path: "/x"}},
		{"HTTP://user:pw@Proxy.example:3128/p?q", "ignored", "http", 8080, "http://Proxy.example:3128/p?q", URL{Scheme: "http", Domain: "Proxy.example", Port: 3128, Path: "/p", Query: "q"}},
		{"https://secure.example/login", "", "http", 3128, "https://secure.example/login", URL{Scheme: "https", Domain: "secure.example", Port: 443, Path: "/login"}},
		{"http://[2001:db8::1]:8080", "", "http", 0, "http://[2001:db8::1]:8080", URL{Scheme: "http", Domain: "[2001:db8::1]", Port: 8080}},
		{"example.com:443", "example.com:443", "http", 3128, "example.com:443", URL{Domain: "example.com", Port: 443}},
		{"*", "h", "http", 80, "http://h*", URL{Scheme: "http", Domain: "h", Port: 80, Path: "*"}},
		{"/Hello Arkime", "", "http", 80, "", URL{Scheme: "http", Port: 80, Path: "/Hello Arkime"}},
		{"/a", "h:99999", "http", 81, "http://h:81/a", URL{Scheme: "http", Domain: "h", Port: 81, Path: "/a"}},
	}
	for _, k := range cases {
		got := SplitURL(k.uri, k.host, k.scheme, k.port)
		k.want.Original = k.uri
		if got != k.want || got.Full() != k.full {
			t.Errorf("SplitURL(%q, %q):\n got %+v %q\nwant %+v %q", k.uri, k.host, got, got.Full(), k.want, k.full)
		}
	}
}
