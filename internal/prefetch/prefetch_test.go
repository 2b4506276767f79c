//go:build amd64

package prefetch

import (
	"testing"
	"unsafe"
)

// A prefetch is a hint: of nil, of a range ending at an allocation's last
// byte, it neither faults nor changes memory.
func TestPrefetchOnlyHints(t *testing.T) {
	b := make([]byte, 200)
	for i := range b {
		b[i] = byte(i)
	}
	Lines(nil, 8)
	Lines(unsafe.Pointer(&b[0]), uintptr(len(b)))
	Lines(unsafe.Pointer(&b[len(b)-1]), 1)
	for i := range b {
		if b[i] != byte(i) {
			t.Fatalf("b[%d] = %d after prefetch", i, b[i])
		}
	}
}
