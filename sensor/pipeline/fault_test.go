package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/sensor/source"
)

// A capture cut by another process while the sensor reads it from its
// memory mapping ends that capture with an error, not the process.
func TestCaptureCutWhileRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.pcap")
	w, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := pcapgen.WriteSYNFlood(w, 200000, 1); err != nil {
		t.Fatal(err)
	}
	w.Close()
	src, err := source.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if err := os.Truncate(path, 4096); err != nil {
		t.Fatal(err)
	}
	p, err := New(Config{Output: &collector{}, FlowsOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	err = p.NewFeeder("big").Feed(context.Background(), src)
	p.Close()
	if err == nil || !strings.Contains(err.Error(), "changed while it was read") {
		t.Fatalf("feed of a cut capture: %v", err)
	}
}

// A batch read without a fault costs no allocation, and a feeder keeps its
// first fault only.
func TestFaultedKeepsTheFirstAndAllocatesNothingWithout(t *testing.T) {
	var f Feeder
	if n := testing.AllocsPerRun(100, func() { f.faulted(nil) }); n != 0 || f.fault.Load() != nil {
		t.Fatalf("no fault: %v allocations, kept %v", n, f.fault.Load())
	}
	first, second := errors.New("first"), errors.New("second")
	f.faulted(first)
	f.faulted(second)
	if got := f.fault.Load(); got == nil || *got != first {
		t.Fatalf("kept %v, want the first fault", got)
	}
}
