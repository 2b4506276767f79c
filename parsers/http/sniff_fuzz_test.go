package http

import (
	"testing"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// Sniff's verdicts hold whatever bytes follow: a No stays No, a Yes stays
// Yes (same kind), and More is only given to prefixes of something it
// accepts, so more bytes always end it.
func FuzzSniff(f *testing.F) {
	for _, s := range []string{"GET / HTTP/1.1\r\n", "HTTP/1.1 200 OK", "M-SEARCH * HTTP/1.1", "H", "HTTP/1.", "\x16\x03\x01"} {
		f.Add([]byte(s), []byte(" x"))
	}
	f.Fuzz(func(t *testing.T, b, more []byte) {
		req, v := Sniff(b)
		req2, v2 := Sniff(append(b[:len(b):len(b)], more...))
		switch v {
		case parsers.No, parsers.Yes:
			if v2 != v || (v == parsers.Yes && req2 != req) {
				t.Fatalf("Sniff(%q) = %v,%v but Sniff(%q+%q) = %v,%v", b, req, v, b, more, req2, v2)
			}
		case parsers.More:
			if len(b) > maxMethodLen {
				t.Fatalf("More on %d bytes", len(b))
			}
		}
	})
}
