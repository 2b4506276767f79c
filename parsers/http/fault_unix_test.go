//go:build unix

package http

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/budget"
)

// A body's bytes may be slices of a mapped capture that another process
// cuts meanwhile. The worker makes faults panics and turns them into an
// error of the capture (source.FaultIsError); the decoder's coroutine reads
// those bytes on a goroutine of its own, and must fault the same way
// rather than end the process.
func TestFaultInDecoderReachesTheCaller(t *testing.T) {
	z := gzipped(t, "gzip", make([]byte, 1<<20))
	path := filepath.Join(t.TempDir(), "capture")
	if err := os.WriteFile(path, z, 0o600); err != nil {
		t.Fatal(err)
	}
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	mapped, err := syscall.Mmap(int(file.Fd()), 0, len(z), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Skipf("no mmap here: %v", err)
	}
	defer syscall.Munmap(mapped)
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}

	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	var p Pool
	defer p.Close()
	f := newDecoder([]encoding{encGzip}, 1<<30, budget.New(1<<30).NewAccount(), DefaultMaxDecoders, &p)
	defer func() {
		r := recover()
		if _, fault := r.(interface{ Addr() uintptr }); !fault {
			t.Fatalf("recovered %v, want the memory fault", r)
		}
	}()
	f.push(mapped)
	t.Fatal("the decoder read a cut mapping without a fault")
}
