package pipeline

import (
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
)

// probesOf keeps the packets of pkts whose flows the pipeline gives
// worker i of n.
func probesOf(t *testing.T, pkts []pcapgen.Packet, i, n int) []pcapgen.Packet {
	dec := decode.NewDecoder(decode.DefragConfig{}, nil)
	var out []pcapgen.Packet
	var p decode.Packet
	for _, pk := range pkts {
		fr := pcapgen.Frames([]pcapgen.Packet{pk}, pcapgen.Ethernet)[0]
		if dec.Decode(fr.Data, pk.Time, len(fr.Data), layers.LinkTypeEthernet, &p) != decode.OK {
			t.Fatal("generated SYN does not decode")
		}
		if workerOf(&p, n) == i {
			out = append(out, pk)
		}
	}
	return out
}

// One worker takes the whole budget first (a flood of new flows all its
// own); then the other worker's flows arrive. The first gives back what it
// holds past its fair share (half the budget), evicting its least valuable
// flows, so the second keeps its flows within the budget: no flow is made
// over budget, and most of the second's flows are still held at the end.
func TestLateWorkerGetsItsShare(t *testing.T) {
	const limit = 2 << 20
	perShare := int(limit / 2 / flow.FlowBytes)
	first := probesOf(t, pcapgen.Probes(8*perShare, netip.MustParseAddrPort("192.0.2.1:80"), pcapgen.Epoch), 0, 2)
	late := pcapgen.Epoch.Add(2 * time.Second)
	second := probesOf(t, pcapgen.Probes(2*perShare, netip.MustParseAddrPort("192.0.2.2:443"), late), 1, 2)
	if len(first) < 3*perShare || len(second) < perShare/2 {
		t.Fatalf("%d and %d probes", len(first), len(second))
	}
	path := writePackets(t, append(first, second...))
	b := budget.New(limit)
	out, st := replay(t, Config{Workers: 2, Budget: b, FlowsOnly: true}, path)
	fs := st.Flows
	if fs.OverBudget != 0 || fs.EvictedForShare == 0 {
		t.Errorf("%d flows over budget, %d evicted for the other's share", fs.OverBudget, fs.EvictedForShare)
	}
	if bs := b.Stats(); bs.Peak > limit || bs.Used != 0 {
		t.Errorf("budget peak %d of %d, %d used after the run", bs.Peak, limit, bs.Used)
	}
	// The second worker's flows held at the end of input: near its share
	// (less its index and a credit chunk), not the one or two flows it
	// could keep by evicting its own.
	held := 0
	for _, ev := range out.dataset("packetsleuth.flow") {
		if str(ev, "destination.ip") == "192.0.2.2" && str(ev, "packetsleuth.flow.end_reason") == "eof" {
			held++
		}
	}
	if held < perShare*3/4 {
		t.Errorf("the late worker holds %d flows at the end; its share is about %d", held, perShare)
	}
	t.Logf("share ~%d flows; late worker held %d at the end; %d evicted to give back", perShare, held, fs.EvictedForShare)
}
