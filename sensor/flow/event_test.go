package flow

import (
	"net/netip"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// FillNetwork writes the addresses and the Community ID as their own
// formatting would, in one allocation for all three.
func TestFillNetworkStringsInOneAllocation(t *testing.T) {
	cases := []struct {
		name     string
		src, dst string
		proto    uint8
	}{
		{"tcp4", "10.1.0.10", "192.0.2.80", decode.ProtoTCP},
		{"udp6", "2001:db8::1", "2001:db8:ffff:ffff:ffff:ffff:ffff:fffe", decode.ProtoUDP},
		{"long6", "fe80:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", decode.ProtoTCP},
		{"icmp", "198.51.100.1", "198.51.100.2", decode.ProtoICMP},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := decode.Packet{
				Timestamp: time.Unix(1700000000, 0), Src: netip.MustParseAddr(c.src), Dst: netip.MustParseAddr(c.dst),
				SrcPort: 40000, DstPort: 443, Proto: c.proto, IPVersion: 4, ICMPType: 8,
			}
			if p.Src.Is6() && !p.Src.Is4In6() {
				p.IPVersion = 6
			}
			var f *Flow
			tab := NewTable(Config{CommunityIDSeed: 7}, func(*Flow) {})
			f, _ = tab.Update(&p)
			var ev schemas.Event
			FillNetwork(&ev, f)
			if ev.Source.IP != p.Src.String() || ev.Destination.IP != p.Dst.String() {
				t.Errorf("addresses %q %q, want %v %v", ev.Source.IP, ev.Destination.IP, p.Src, p.Dst)
			}
			if want := PacketCommunityID(7, &p); ev.Network.CommunityID != want {
				t.Errorf("community_id %q, want %q", ev.Network.CommunityID, want)
			}
			if ev.Network.CommunityID != f.CommunityID() {
				t.Errorf("community_id %q, Flow.CommunityID %q", ev.Network.CommunityID, f.CommunityID())
			}
			if n := testing.AllocsPerRun(100, func() { FillNetwork(&ev, f) }); n != 1 {
				t.Errorf("FillNetwork: %v allocations, want 1", n)
			}
		})
	}
}
