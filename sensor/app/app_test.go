package app

import (
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
)

// In live capture, bytes held behind a hole are delivered once the hole is
// older than holeTimeout: the tick reports the gap instead of waiting for
// the connection to end.
func TestTickSkipsOldHoles(t *testing.T) {
	conn := pcapgen.NewTCPConn(netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:80"), pcapgen.Epoch)
	conn.Handshake().Data(true, []byte("GET /a HTTP/1.1\r\nHost: x\r\n"), 1460).Data(true, []byte("\r\n"), 1460)
	pkts := conn.Packets
	pkts = append(pkts[:3], pkts[4:]...) // lose the first data segment: a hole
	var events []schemas.Event
	a := New(Config{}, nil, func(ev *schemas.Event) { events = append(events, *ev) }, nil)
	tab := flow.NewTable(flow.Config{}, func(f *flow.Flow) {})
	feedPackets(t, a, tab, pkts)
	before := a.Stats().Reassembly
	a.Tick(pcapgen.Epoch.Add(time.Second))
	if a.Stats().Reassembly.Gaps != before.Gaps {
		t.Fatal("a fresh hole was skipped")
	}
	a.Tick(pcapgen.Epoch.Add(holeTimeout + 2*time.Second))
	if got := a.Stats().Reassembly; got.Gaps != before.Gaps+1 {
		t.Errorf("gaps %d -> %d after the hole timed out", before.Gaps, got.Gaps)
	}
}

// feedPackets decodes generated Ethernet packets and hands each to tab
// and a.
func feedPackets(t *testing.T, a *Analyzer, tab *flow.Table, pkts []pcapgen.Packet) {
	t.Helper()
	dec := decode.NewDecoder(decode.DefragConfig{}, nil)
	var p decode.Packet
	for _, fr := range pcapgen.Frames(pkts, pcapgen.Ethernet) {
		if dec.Decode(fr.Data, fr.Time, len(fr.Data), layers.LinkTypeEthernet, &p) != decode.OK {
			t.Fatal("decode")
		}
		f, d := tab.Update(&p)
		a.Packet(f, d, &p)
	}
}
