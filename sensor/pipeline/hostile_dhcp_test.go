package pipeline

import (
	"slices"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/sensor/hosts"
)

// An attacker's DHCP-looking flood (pcapgen.DHCPFlood) over 97 address
// pairs, 300 steps a second for 3 s: the magic cookie on ports that are not
// DHCP's, OFFERs (which teach the host table nothing), and named REQUESTs
// with ACKs (300 clients' messages and 300 servers' answers a second that
// do teach it). Each DHCP-looking datagram made the other workers wait
// (3,600 barriers); now only what can teach the table does, at most
// hosts.max_learn_rate (here 100) clients' messages and as many answers a
// second of packet time, decided in packet order: the rest is counted, the
// first refused in each second reported as limit.hosts on its flow (the
// REQUEST and the ACK refused first are one flow's), and one worker and two
// give the same events.
func TestDHCPFloodBoundsHostBarriers(t *testing.T) {
	const pairs, perSecond, seconds, rate = 97, 300, 3, 100
	path := writePackets(t, pcapgen.DHCPFlood(pairs, perSecond, seconds))
	run := func(workers int) (*collector, Stats) {
		return replay(t, Config{Workers: workers, Hosts: hosts.New(hosts.Config{MaxLearnRate: rate}, nil)}, path)
	}
	one, st1 := run(1)
	two, st2 := run(2)
	if st1.HostBarriers != 0 || st2.HostBarriers != 2*seconds*rate {
		t.Errorf("barriers: %d with one worker, %d with two; want 0 and %d (the learning rates')", st1.HostBarriers, st2.HostBarriers, 2*seconds*rate)
	}
	for i, st := range []Stats{st1, st2} {
		// Each second, rate REQUESTs and rate ACKs are learnt from; none
		// is the cookie on ports 6767 and 6768.
		if h := st.Hosts; h.Limited != 2*(perSecond-rate)*seconds || h.Learned != seconds*rate {
			t.Errorf("%d workers: %d messages limited, %d leases learnt; want %d and %d", i+1, h.Limited, h.Learned, 2*(perSecond-rate)*seconds, seconds*rate)
		}
	}
	var limits int
	for _, ev := range two.dataset("packetsleuth.anomaly") {
		if str(ev, "packetsleuth.anomaly.kind") != "limit.hosts" {
			continue
		}
		limits++
		if d := str(ev, "packetsleuth.anomaly.detail"); d != learnRateDetail {
			t.Errorf("limit.hosts detail %q, want %q", d, learnRateDetail)
		}
	}
	if limits != seconds {
		t.Errorf("%d limit.hosts anomalies, want one a second (%d)", limits, seconds)
	}
	if want, got := sortedLines(one.raw), sortedLines(two.raw); !slices.Equal(got, want) {
		t.Fatalf("two workers: events differ from one worker's:\n%s", lineDiff(want, got))
	}
}
