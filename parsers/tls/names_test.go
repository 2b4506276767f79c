package tls

import (
	"fmt"
	"testing"
)

// CipherSuiteName names every value the table names, and every other one
// by its hex: the pages agree with the table for all 65,536 values.
func TestCipherSuiteNameIsTheTable(t *testing.T) {
	for v := range 1 << 16 {
		want, ok := cipherNames[uint16(v)]
		if !ok {
			want = fmt.Sprintf("0x%04x", v)
		}
		if got := CipherSuiteName(uint16(v)); got != want {
			t.Fatalf("%#04x: %q, want %q", v, got, want)
		}
	}
}
