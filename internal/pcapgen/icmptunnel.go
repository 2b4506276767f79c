package pcapgen

import (
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// ICMPEchoData is an echo request carrying payload and its reply carrying
// back (IPv4): pings with chosen data, as tunnels (ptunnel, icmpsh) or
// ping -p/-s send.
func ICMPEchoData(a, b netip.Addr, t time.Time, seq uint16, payload, back []byte) []Packet {
	mk := func(src, dst netip.Addr, at time.Time, typ uint8, data []byte) Packet {
		return Packet{Time: at, Layers: []gopacket.SerializableLayer{ipLayer(src, dst, layers.IPProtocolICMPv4),
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, 0), Id: 0x4a4a, Seq: seq}, gopacket.Payload(data)}}
	}
	return []Packet{mk(a, b, t, layers.ICMPv4TypeEchoRequest, payload), mk(b, a, t.Add(time.Millisecond), layers.ICMPv4TypeEchoReply, back)}
}
