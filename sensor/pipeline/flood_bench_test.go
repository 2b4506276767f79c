package pipeline

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/rules"
)

// BenchmarkSYNFlood replays a SYN flood (every packet a new flow, each
// ending in a flow event) on 1 and 2 workers: flows only, and full DPI with
// the shipped rules; without a budget, and with one small enough to evict
// most flows. It reports new flows/s of wall time and of CPU time (the
// process's user+system time: steadier than wall time on a shared
// machine), and allocations per flow. Goal (issue 12): 1M/s per worker
// flows only, 400k/s full DPI.
func BenchmarkSYNFlood(b *testing.B) {
	const n = 500_000
	path := writeFlood(b, n)
	warm(b, path)
	set := shippedSet(b)
	for _, mode := range []string{"flows", "dpi+rules"} {
		for _, workers := range []int{1, 2} {
			for _, limit := range []int64{0, 32 << 20} {
				benchFlood(b, path, set, mode, workers, limit)
			}
		}
	}
}

func benchFlood(b *testing.B, path string, set *rules.Set, mode string, workers int, limit int64) {
	b.Run(fmt.Sprintf("%s/workers=%d/budget=%dMiB", mode, workers, limit>>20), func(b *testing.B) {
		cfg := Config{Workers: workers, Output: discard{}, FlowsOnly: mode == "flows"}
		var flows uint64
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		cpu0 := cpuTime()
		b.ReportAllocs()
		for b.Loop() {
			cfg.Budget = budget.New(limit)
			if !cfg.FlowsOnly {
				cfg.NewDetector = detectors(set, workers) // fresh state, shared as the sensor shares it
			}
			flows += replayOnce(b, cfg, path).Flows.Created
		}
		b.ReportMetric(float64(flows)/b.Elapsed().Seconds(), "flows/s")
		b.ReportMetric(float64(flows)/(cpuTime()-cpu0).Seconds(), "flows/cpu-s")
		runtime.ReadMemStats(&ms1)
		b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(flows), "allocs/flow")
	})
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
