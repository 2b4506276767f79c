package pipeline

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"unsafe"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/schemas"
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

// A SYN flood whose flows all end at the end of input, on 2 workers with
// the shipped rules: each flow event hands the sequencer its uses of the
// scan thresholds. The workers hand them in chunks as their flushes go,
// and the sequencer makes those the others have passed: it holds a few
// chunks, not every use of the flood. The events are one worker's. (It
// fails without the chunks; what it holds stays below maxHeld, so it does
// not make the workers wait for the sequencer.)
func TestFloodEndHeldBounded(t *testing.T) {
	const n = 30_000
	path := writeFlood(t, n)
	set := shippedSet(t)
	one, _ := replay(t, Config{Workers: 1, NewDetector: detectors(set, 1)}, path)
	want := sortedLines(one.raw)
	out, st := replay(t, Config{Workers: 2, NewDetector: detectors(set, 2)}, path)
	if got := sortedLines(out.raw); !slices.Equal(got, want) {
		t.Fatalf("2 workers: events differ from one worker's:\n%s", lineDiff(want, got))
	}
	// Each worker hands a chunk before it waits, and its last without waiting.
	if bound := maxHeld + 3*handChunk*(schemas.HeldBytes+int64(unsafe.Sizeof(deferred{}))); st.HeldPeak == 0 || st.HeldPeak > bound {
		t.Errorf("the sequencer held up to %d bytes of uses, want some and at most %d", st.HeldPeak, bound)
	}
}

// Horizontal scans whose flows all end at the end of input: each
// scanner's threshold (PS-NET-003) counts flows of many host pairs, so of
// both workers, in the order of the flush. The workers hand their uses in
// chunks as they flush, and the sequencer makes them in that order: the
// alerts are one worker's.
func TestScansEndingAtEndOfInput(t *testing.T) {
	const scanners, hosts = 100, 30 // a few chunks of uses per worker
	path := writePackets(t, pcapgen.HorizontalScans(scanners, hosts, pcapgen.Epoch))
	set := shippedSet(t)
	run := func(workers int) *collector {
		out, _ := replay(t, Config{Workers: workers, NewDetector: detectors(set, workers)}, path)
		return out
	}
	one := run(1)
	if n := len(one.dataset("packetsleuth.alert")); n != scanners {
		t.Fatalf("one worker: %d alerts, want %d (one a scanner)", n, scanners)
	}
	want := sortedLines(one.raw)
	for _, workers := range []int{2, 3} {
		if got := sortedLines(run(workers).raw); !slices.Equal(got, want) {
			t.Fatalf("%d workers: events differ from one worker's:\n%s", workers, lineDiff(want, got))
		}
	}
}
