package http

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// keepAlive builds one connection with n browser-like transactions: GETs
// with a chunked or Content-Length response. Each message is cut into
// 1460-byte segments; txs[i] holds request i's then response i's segments.
func keepAlive(n int) (txs [][2][][]byte, total int) {
	seg := func(s string) [][]byte {
		var out [][]byte
		for b := []byte(s); len(b) > 0; {
			k := min(1460, len(b))
			out = append(out, b[:k])
			b = b[k:]
		}
		total += len(s)
		return out
	}
	for i := 0; i < n; i++ {
		q := fmt.Sprintf("GET /static/app-%d.js?v=3 HTTP/1.1\r\nHost: www.example.com\r\n"+
			"User-Agent: Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0\r\n"+
			"Accept: */*\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate\r\n"+
			"Referer: http://www.example.com/\r\nCookie: sid=0123456789abcdef\r\nConnection: keep-alive\r\n\r\n", i)
		body := strings.Repeat("x", 2000+i*10)
		var s string
		if i%2 == 0 {
			s = fmt.Sprintf("HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n"+
				"Content-Type: application/javascript; charset=utf-8\r\nContent-Length: %d\r\n"+
				"Cache-Control: max-age=3600\r\nConnection: keep-alive\r\n\r\n%s", len(body), body)
		} else {
			s = fmt.Sprintf("HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\n"+
				"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(body), body)
		}
		txs = append(txs, [2][][]byte{seg(q), seg(s)})
	}
	return txs, total
}

// BenchmarkKeepAlive parses one keep-alive connection of 100 transactions
// per iteration; allocs/tx is the cost per transaction.
func BenchmarkKeepAlive(b *testing.B) {
	txs, total := keepAlive(100)
	b.SetBytes(int64(total))
	b.ReportAllocs()
	n, iters := 0, 0
	for b.Loop() {
		iters++
		c := NewConn(Config{}, func(*Transaction) { n++ })
		for _, tx := range txs {
			for d, segs := range tx {
				for _, s := range segs {
					_ = c.Data(parsers.Dir(d), s, t0)
				}
			}
		}
		c.End(t0)
	}
	if n != 100*iters {
		b.Fatalf("%d transactions in %d runs", n, iters)
	}
	b.StopTimer()
	allocs := testing.AllocsPerRun(20, func() {
		c := NewConn(Config{}, func(*Transaction) {})
		for _, tx := range txs {
			for d, segs := range tx {
				for _, s := range segs {
					_ = c.Data(parsers.Dir(d), s, t0)
				}
			}
		}
		c.End(t0)
	})
	b.ReportMetric(allocs/100, "allocs/tx")
}

// gzipKeepAlive is keepAlive with gzip-encoded response bodies (64 KiB of
// text each, Content-Length framed).
func gzipKeepAlive(n int) (txs [][2][][]byte, total int) {
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	_, _ = zw.Write(bytes.Repeat([]byte("var a = function(x) { return x * 2; };\n"), 64<<10/40))
	_ = zw.Close()
	body := zb.String()
	for i := range n {
		q := fmt.Sprintf("GET /app-%d.js HTTP/1.1\r\nHost: www.example.com\r\nAccept-Encoding: gzip\r\n\r\n", i)
		s := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/javascript\r\nContent-Encoding: gzip\r\n"+
			"Content-Length: %d\r\n\r\n%s", len(body), body)
		txs = append(txs, [2][][]byte{segments(q), segments(s)})
		total += len(q) + len(s)
	}
	return txs, total
}

// segments cuts s into 1460-byte segments.
func segments(s string) [][]byte {
	var out [][]byte
	for b := []byte(s); len(b) > 0; {
		k := min(1460, len(b))
		out = append(out, b[:k])
		b = b[k:]
	}
	return out
}

// BenchmarkKeepAliveGzip parses 100 gzip-encoded responses per iteration,
// with the default configuration and with body decoding on.
func BenchmarkKeepAliveGzip(b *testing.B) {
	txs, total := gzipKeepAlive(100)
	for _, bc := range []struct {
		name string
		cfg  Config
	}{{"default", Config{}}, {"decode", Config{DecodeBodies: On}}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(total))
			b.ReportAllocs()
			for b.Loop() {
				c := NewConn(bc.cfg, func(*Transaction) {})
				for _, tx := range txs {
					for d, segs := range tx {
						for _, s := range segs {
							_ = c.Data(parsers.Dir(d), s, t0)
						}
					}
				}
				c.End(t0)
			}
		})
	}
}
