package pipeline

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/rules"
)

// BenchmarkSYNFlood replays a SYN flood (every packet a new flow) on one
// worker: flows only, and full DPI with the shipped rules; without a
// budget, and with one small enough to evict most flows. It reports new
// flows/s of wall time and of CPU time (the process's user+system time:
// steadier than wall time on a shared machine). Goal (issue 12): 1M/s
// flows only, 400k/s full DPI.
func BenchmarkSYNFlood(b *testing.B) {
	const n = 500_000
	path := writeFlood(b, n)
	warm(b, path)
	set, errs := rules.LoadFiles(rules.Options{Defaults: true})
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	for _, mode := range []string{"flows", "dpi+rules"} {
		for _, limit := range []int64{0, 32 << 20} {
			b.Run(fmt.Sprintf("%s/budget=%dMiB", mode, limit>>20), func(b *testing.B) {
				cfg := Config{Output: discard{}, FlowsOnly: mode == "flows"}
				if !cfg.FlowsOnly {
					cfg.NewDetector = func() Detector { return rules.NewEvaluator(set, rules.EvalOptions{}) }
				}
				var flows uint64
				cpu0 := cpuTime()
				b.ReportAllocs()
				for b.Loop() {
					cfg.Budget = budget.New(limit)
					p, err := New(cfg)
					if err != nil {
						b.Fatal(err)
					}
					st, err := p.Replay(b.Context(), []string{path})
					if err != nil {
						b.Fatal(err)
					}
					flows += st.Flows.Created
				}
				b.ReportMetric(float64(flows)/b.Elapsed().Seconds(), "flows/s")
				b.ReportMetric(float64(flows)/(cpuTime()-cpu0).Seconds(), "flows/cpu-s")
			})
		}
	}
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
