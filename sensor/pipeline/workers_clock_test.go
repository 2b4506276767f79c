package pipeline

import (
	"slices"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// Idle flows of a worker that sees no packets meanwhile time out when the
// other worker's packets carry the clock past their timeout, as they do
// with one worker: every worker sweeps at the feeder's packet times. The
// port scan's flows, spread over the workers and ended at one sweep, give
// the same alert whatever the interleaving of the workers.
func TestWorkersSweepOnOneClock(t *testing.T) {
	path := writePackets(t, pcapgen.WorkerClocks())
	set := shippedSet(t)
	run := func(workers int) *collector {
		out, _ := replay(t, Config{Workers: workers, NewDetector: detectors(set, workers)}, path)
		return out
	}
	one := run(1)
	var timeouts, alerts int
	for _, ev := range one.dataset("packetsleuth.flow") {
		if str(ev, "packetsleuth.flow.end_reason") == "timeout" {
			timeouts++
		}
	}
	for _, ev := range one.dataset("packetsleuth.alert") {
		if str(ev, "rule.id") == "PS-NET-002" {
			alerts++
		}
	}
	if timeouts != 60 || alerts != 1 {
		t.Fatalf("one worker: %d flows timed out, %d port-scan alerts; want 60 and 1", timeouts, alerts)
	}
	want := sortedLines(one.raw)
	for _, workers := range []int{2, 3} {
		for range 3 { // the interleaving of the workers changes from run to run
			got := sortedLines(run(workers).raw)
			if !slices.Equal(got, want) {
				t.Fatalf("%d workers: events differ from one worker's:\n%s", workers, lineDiff(want, got))
			}
		}
	}
}

// lineDiff lists the lines only in a (-) or only in b (+), both sorted.
func lineDiff(a, b []string) string {
	var s string
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i] < b[j]:
			s += "- " + a[i] + "\n"
			i++
		case i == len(a) || b[j] < a[i]:
			s += "+ " + b[j] + "\n"
			j++
		default:
			i++
			j++
		}
	}
	return s
}
