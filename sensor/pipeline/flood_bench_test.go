package pipeline

import (
	"fmt"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/budget"
)

// BenchmarkSYNFlood replays a SYN flood (every packet a new flow) on one
// worker, flows only and with full DPI, with and without a budget small
// enough to evict, and reports new flows/s (issue 12: >= 1M/s flows
// only, >= 400k/s with DPI). Rules are added by the caller's detector
// (none here: see cmd/sensor's benchmark for the shipped rules).
func BenchmarkSYNFlood(b *testing.B) {
	const n = 500_000
	path := writeFlood(b, n)
	warm(b, path)
	for _, mode := range []string{"flows", "dpi"} {
		for _, limit := range []int64{0, 32 << 20} {
			b.Run(fmt.Sprintf("%s/budget=%dMiB", mode, limit>>20), func(b *testing.B) {
				var flows uint64
				b.ReportAllocs()
				for b.Loop() {
					p, err := New(Config{Output: discard{}, FlowsOnly: mode == "flows", Budget: budget.New(limit)})
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
			})
		}
	}
}
