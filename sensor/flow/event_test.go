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

// FillEvent writes no group but EventGroups: flows of every shape (TCP
// with its history, UDP, ICMP and ICMPv6, IPv6, MACs, QinQ, a tunnel, an
// observer with its interface) encode told only of those as in full.
func TestFillEventWritesEventGroups(t *testing.T) {
	base := decode.Packet{
		Timestamp: time.Unix(1700000000, 5), Src: netip.MustParseAddr("10.1.0.10"), Dst: netip.MustParseAddr("192.0.2.80"),
		SrcPort: 40000, DstPort: 443, Proto: decode.ProtoTCP, IPVersion: 4, TCPFlags: 0x02, WireLen: 60,
	}
	shapes := map[string]func(p *decode.Packet){
		"tcp": func(*decode.Packet) {},
		"udp": func(p *decode.Packet) { p.Proto = decode.ProtoUDP },
		"icmp": func(p *decode.Packet) {
			p.Proto, p.ICMPType, p.ICMPCode, p.SrcPort, p.DstPort = decode.ProtoICMP, 3, 3, 0, 0
		},
		"icmp6": func(p *decode.Packet) {
			p.Src, p.Dst, p.IPVersion = netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2"), 6
			p.Proto, p.ICMPType, p.SrcPort, p.DstPort = decode.ProtoICMPv6, 128, 0, 0
		},
		"macs and vlans": func(p *decode.Packet) {
			p.HasMAC, p.SrcMAC, p.DstMAC = true, [6]byte{2, 0, 0, 0, 0, 1}, [6]byte{2, 0, 0, 0, 0, 2}
			p.VLAN, p.InnerVLAN = 100, 200
		},
		"tunnel": func(p *decode.Packet) {
			p.Tunnel = decode.Tunnel{Type: decode.VXLAN, Src: netip.MustParseAddr("198.51.100.1"), Dst: netip.MustParseAddr("198.51.100.2"), VNI: 42}
		},
	}
	obs := &schemas.Observer{Name: "edge-1", Type: "sensor"}
	obs.Ingress.Interface.Name = "eth0"
	for name, shape := range shapes {
		t.Run(name, func(t *testing.T) {
			p := base
			shape(&p)
			tab := NewTable(Config{}, func(*Flow) {})
			f, _ := tab.Update(&p)
			reply := p
			reply.Src, reply.Dst, reply.SrcPort, reply.DstPort = p.Dst, p.Src, p.DstPort, p.SrcPort
			reply.Timestamp, reply.TCPFlags = p.Timestamp.Add(time.Millisecond), 0x12
			tab.Update(&reply)
			var ev schemas.Event
			f.FillEvent(&ev, obs)
			want, err := schemas.EncodeWithID(nil, &ev)
			if err != nil {
				t.Fatal(err)
			}
			var c schemas.EncodeCache
			if got, _ := c.EncodeGroupsWithID(nil, &ev, EventGroups); string(got) != string(want) {
				t.Errorf("told EventGroups:\n%s\nin full:\n%s", got, want)
			}
		})
	}
}
