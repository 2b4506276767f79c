package pipeline

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/rules"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// discard is an Output that drops events (the benchmark measures the sensor,
// not a disk).
type discard struct{}

func (discard) Write([]schemas.Record) error { return nil }

// benchCapture is $PS_BENCH_PCAP (make bench makes a 1 GB one), or a 64 MB mix
// generated for the run.
func benchCapture(b *testing.B) string {
	if p := os.Getenv("PS_BENCH_PCAP"); p != "" {
		warm(b, p)
		return p
	}
	path := filepath.Join(b.TempDir(), "mix.pcap")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := pcapgen.WriteMix(f, 64<<20, 1); err != nil {
		b.Fatal(err)
	}
	f.Close()
	return path
}

// BenchmarkReplay replays the capture with flows only, with full DPI, and
// with full DPI and the shipped rules (what `sensor replay` does by
// default), and reports packets/s, Gbit/s, allocations per packet and per
// emitted event, and the peak RSS.
func BenchmarkReplay(b *testing.B) {
	path := benchCapture(b)
	for _, mode := range []string{"flows", "dpi", "dpi+rules"} {
		for _, workers := range []int{1, 2} {
			benchReplay(b, path, mode, workers)
		}
	}
}

func benchReplay(b *testing.B, path, mode string, workers int) {
	{
		b.Run(fmt.Sprintf("%s/workers=%d", mode, workers), func(b *testing.B) {
			var frames, bytes, events uint64
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			cfg := Config{Workers: workers, Output: discard{}, FlowsOnly: mode == "flows"}
			var set *rules.Set
			if mode == "dpi+rules" {
				set = shippedSet(b)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if set != nil {
					cfg.NewDetector = detectors(set, workers) // fresh state, shared as the sensor shares it
				}
				st := replayOnce(b, cfg, path)
				frames += st.Frames
				bytes += st.Bytes
				for _, n := range st.Events {
					events += n
				}
			}
			b.StopTimer()
			runtime.ReadMemStats(&ms1)
			sec := b.Elapsed().Seconds()
			b.SetBytes(int64(bytes) / int64(b.N))
			b.ReportMetric(float64(frames)/sec, "packets/s")
			b.ReportMetric(float64(bytes)*8/sec/1e9, "Gbit/s")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(frames), "allocs/packet")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(events), "allocs/event")
			var ru syscall.Rusage
			if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
				b.ReportMetric(float64(ru.Maxrss)/1024, "peakRSS-MB")
			}
		})
	}
}

// replayOnce runs a new pipeline of cfg over the capture at path.
func replayOnce(b *testing.B, cfg Config, path string) Stats {
	p, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	st, err := p.Replay(b.Context(), []string{path})
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// warm reads the file once so every run measures the sensor, not the disk.
func warm(b *testing.B, path string) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(io.Discard, f); err != nil {
		b.Fatal(err)
	}
}
