package pipeline

import (
	"slices"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/rules"
	"github.com/packetsleuth/packetsleuth/sensor/hosts"
)

// State spanning host pairs is used in packet order whatever the number
// of workers (the sequencer, and the host table's waits): each generated
// capture isolates one such state, checked with one worker, then 2, 3
// and 4 workers give its events, three runs each (the workers' interleaving
// changes from run to run).
func TestWorkersOrderStateAcrossPairs(t *testing.T) {
	set := shippedSet(t)
	for _, tc := range []struct {
		name  string
		pkts  []pcapgen.Packet
		hosts bool
		check func(t *testing.T, one *collector)
	}{
		{"suppression by server", pcapgen.RogueDHCPAnswers(12), false, func(t *testing.T, one *collector) {
			var alerts []string
			for _, ev := range one.dataset("packetsleuth.alert") {
				if str(ev, "rule.id") == "PS-DHCP-001" {
					alerts = append(alerts, str(ev, "destination.ip"))
				}
			}
			if !slices.Equal(alerts, []string{"255.255.255.255"}) {
				t.Fatalf("PS-DHCP-001 alerts to %v, want one, of the first OFFER (to broadcast)", alerts)
			}
		}},
		{"anomaly rate limit", pcapgen.ResetsAcrossPairs(30), false, func(t *testing.T, one *collector) {
			var n int
			var held []float64
			for _, ev := range one.dataset("packetsleuth.anomaly") {
				if str(ev, "event.action") == "tcp.rst_ignored" {
					n++
					if s, ok := field(ev, "packetsleuth.anomaly.suppressed").(float64); ok {
						held = append(held, s)
					}
				}
			}
			if n != 40 || !slices.Equal(held, []float64{10}) {
				t.Fatalf("%d tcp.rst_ignored events, suppressed counts %v; want 40 (20 a second), one carrying 10", n, held)
			}
		}},
		{"host table", pcapgen.NamedClients(12), true, func(t *testing.T, one *collector) {
			var flows, acks int
			for _, ev := range one.dataset("packetsleuth.flow") {
				if field(ev, "source.port") == float64(5000) && str(ev, "source.domain") != "" {
					flows++
				}
			}
			for _, ev := range one.dataset("packetsleuth.dhcp") {
				if str(ev, "packetsleuth.dhcp.message_type") == "ack" && str(ev, "destination.domain") != "" {
					acks++
				}
			}
			if flows != 12 || acks != 12 {
				t.Fatalf("%d flows and %d ACKs named by their client's REQUEST, want 12 and 12", flows, acks)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writePackets(t, tc.pkts)
			run := func(workers int) *collector {
				cfg := Config{Workers: workers, NewDetector: detectors(set, workers)}
				if tc.hosts {
					cfg.Hosts = hosts.New(hosts.Config{}, nil)
				}
				out, _ := replay(t, cfg, path)
				return out
			}
			one := run(1)
			tc.check(t, one)
			want := sortedLines(one.raw)
			for _, workers := range []int{2, 3, 4} {
				for range 3 {
					if got := sortedLines(run(workers).raw); !slices.Equal(got, want) {
						t.Fatalf("%d workers: events differ from one worker's:\n%s", workers, lineDiff(want, got))
					}
				}
			}
		})
	}
}

// shippedSet loads the shipped rule set.
func shippedSet(t testing.TB) *rules.Set {
	t.Helper()
	set, errs := rules.LoadFiles(rules.Options{Defaults: true})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return set
}

// detectors makes the workers' evaluators of set as the sensor does: with
// several workers, sharing one state.
func detectors(set *rules.Set, workers int) func() Detector {
	opts := rules.EvalOptions{}
	if workers > 1 {
		opts.Shared = rules.NewSharedState(set, opts)
	}
	return func() Detector { return rules.NewEvaluator(set, opts) }
}
