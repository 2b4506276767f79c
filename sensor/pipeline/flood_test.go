package pipeline

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
)

// writeFlood writes a SYN flood of n packets into a temporary capture.
func writeFlood(t testing.TB, n int) string {
	path := filepath.Join(t.TempDir(), "flood.pcap")
	if err := pcapgen.WriteSYNFloodFile(path, n, 1); err != nil {
		t.Fatal(err)
	}
	return path
}

// A SYN flood larger than the memory budget: the replay finishes, the flow
// tables stay under the budget by evicting (counted, reported as
// limit.memory), and every flow still gets its flow event.
func TestSYNFloodStaysUnderBudget(t *testing.T) {
	const limit = 2 << 20
	n := 3 * limit / int(flow.FlowBytes) // three times what the budget holds
	path := writeFlood(t, n)
	for _, workers := range []int{1, 2} {
		for _, flowsOnly := range []bool{true, false} {
			t.Run(fmt.Sprintf("workers=%d/flows-only=%v", workers, flowsOnly), func(t *testing.T) {
				b := budget.New(limit)
				out, st := replay(t, Config{Workers: workers, Budget: b, FlowsOnly: flowsOnly}, path)
				if got := len(out.dataset("packetsleuth.flow")); got != n {
					t.Errorf("%d flow events for %d SYNs", got, n)
				}
				fs := st.Flows
				if fs.Created != uint64(n) || fs.EvictedMemory == 0 || fs.Ended[flow.EndEvicted] != fs.EvictedMemory+fs.EvictedMaxFlows {
					t.Errorf("flows %+v", fs)
				}
				// What the budget cannot hold was evicted: at most limit/FlowBytes
				// flows (less the index) were open at the end of input.
				if held := fs.Ended[flow.EndEOF]; held > limit/uint64(flow.FlowBytes) || fs.Created-fs.EvictedMemory != held {
					t.Errorf("%d flows held at the end, %d evicted of %d, budget %d", held, fs.EvictedMemory, fs.Created, limit)
				}
				if fs.OverBudget != 0 {
					t.Errorf("%d flows created over budget", fs.OverBudget)
				}
				bs := b.Stats()
				if bs.Peak > limit || bs.Pools[budget.Flows].Denied == 0 || bs.Used != 0 {
					t.Errorf("budget peak %d of %d, flows denied %d, used after the run %d", bs.Peak, limit, bs.Pools[budget.Flows].Denied, bs.Used)
				}
				if c := st.App.Anomalies.Seen[anomaly.MemoryLimit]; c != fs.EvictedMemory {
					t.Errorf("%d limit.memory anomalies for %d evictions", c, fs.EvictedMemory)
				}
				if len(out.dataset("packetsleuth.anomaly")) == 0 {
					t.Error("no anomaly event")
				}
			})
		}
	}
}
