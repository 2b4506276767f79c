package tls

import (
	"testing"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// Sniff's verdicts hold whatever bytes follow, and More is never given on
// 6 bytes or more.
func FuzzSniff(f *testing.F) {
	f.Add([]byte{22, 3, 1, 0, 200, 1}, []byte{0, 0, 196})
	f.Add([]byte{22, 3}, []byte{1, 0, 2, 1})
	f.Fuzz(func(t *testing.T, b, more []byte) {
		v := Sniff(b)
		v2 := Sniff(append(b[:len(b):len(b)], more...))
		if (v != parsers.More && v2 != v) || (v == parsers.More && len(b) >= 6) {
			t.Fatalf("Sniff(%x) = %v, Sniff(%x+%x) = %v", b, v, b, more, v2)
		}
	})
}
