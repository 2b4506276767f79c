package pcapgen

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// MalformedFrame is an Ethernet frame (not padded) a decoder must refuse, made from a
// valid one with one field that lies; Kind is the anomaly the sensor
// reports it as. Hosts: the frame still holds its IP addresses (and
// Ports, its transport ports), so the report can name them.
type MalformedFrame struct {
	Name, Kind   string
	Frame        Frame
	Hosts, Ports bool
}

// Malformed hosts: the sender of every malformed frame, and its target.
var (
	MalformedSender = netip.MustParseAddrPort("198.51.100.23:40000")
	MalformedTarget = netip.MustParseAddrPort("10.0.0.80:80")
)

// MalformedFrames returns one frame of each malformation the decoder
// tells apart, a millisecond apart from t (each frame is whole: its
// original length is its captured length).
func MalformedFrames(t time.Time) []MalformedFrame {
	src, dst := MalformedSender, MalformedTarget
	tcp4, tcp6, udp4 := malformedBase()
	// ip4 sets the IPv4 total length of b to its length and returns it.
	ip4 := func(b []byte) []byte {
		binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
		return b
	}
	edit := func(b []byte, f func(b []byte)) []byte {
		b = slices.Clone(b)
		f(b)
		return b
	}
	withProto := func(proto layers.IPProtocol, transport []byte) []byte {
		return ip4(append(edit(tcp4[:20], func(b []byte) { b[9] = byte(proto) }), transport...))
	}
	nested := tcp4 // more IP-in-IP headers than any decoder should walk
	for range 30 {
		nested = ip4(append(edit(tcp4[:20], func(b []byte) { b[9] = byte(layers.IPProtocolIPv4) }), nested...))
	}
	eth4 := func(ip []byte) []byte { return unpadded(ip, false) }
	eth6 := func(ip []byte) []byte { return unpadded(ip, true) }
	cases := []MalformedFrame{
		{Name: "link-truncated", Kind: "decode.link_malformed", Frame: Frame{Data: eth4(tcp4)[:10]}},
		{Name: "ipv4-truncated", Kind: "decode.ipv4_truncated", Frame: Frame{Data: eth4(tcp4[:12])}},
		{Name: "ipv4-header-length-below-20", Kind: "decode.ipv4_bad_header_length", Hosts: true,
			Frame: Frame{Data: eth4(edit(tcp4, func(b []byte) { b[0] = 0x44 }))}},
		{Name: "ipv4-total-length-below-header", Kind: "decode.ipv4_bad_length", Hosts: true,
			Frame: Frame{Data: eth4(edit(tcp4, func(b []byte) { binary.BigEndian.PutUint16(b[2:], 16) }))}},
		{Name: "ipv4-option-past-header", Kind: "decode.ipv4_bad_option", Hosts: true,
			Frame: Frame{Data: eth4(ip4(append(edit(tcp4[:20], func(b []byte) { b[0] = 0x46 }), append([]byte{0x44, 12, 5, 0}, tcp4[20:]...)...)))}},
		{Name: "ip-version-not-the-links", Kind: "decode.ip_bad_version",
			Frame: Frame{Data: eth4(edit(tcp4, func(b []byte) { b[0] = 0x55 }))}},
		{Name: "ipv6-truncated", Kind: "decode.ipv6_truncated", Frame: Frame{Data: eth6(tcp6[:30])}},
		{Name: "ipv6-payload-length-0", Kind: "decode.ipv6_bad_length", Hosts: true,
			Frame: Frame{Data: eth6(edit(tcp6, func(b []byte) { binary.BigEndian.PutUint16(b[4:], 0) }))}},
		{Name: "ipv6-extension-past-packet", Kind: "decode.ipv6_bad_extension", Hosts: true,
			Frame: Frame{Data: eth6(edit(append(tcp6[:40:40], byte(layers.IPProtocolTCP), 200, 0, 0, 0, 0, 0, 0), func(b []byte) {
				b[6] = byte(layers.IPProtocolIPv6Destination)
				binary.BigEndian.PutUint16(b[4:], 8)
			}))}},
		{Name: "tcp-truncated", Kind: "decode.tcp_truncated", Hosts: true, Ports: true, Frame: Frame{Data: eth4(ip4(slices.Clone(tcp4[:30])))}},
		{Name: "tcp-data-offset-past-segment", Kind: "decode.tcp_bad_header_length", Hosts: true, Ports: true,
			Frame: Frame{Data: eth4(edit(tcp4, func(b []byte) { b[32] = 15 << 4 }))}},
		{Name: "tcp-data-offset-below-20", Kind: "decode.tcp_bad_header_length", Hosts: true, Ports: true,
			Frame: Frame{Data: eth4(edit(tcp4, func(b []byte) { b[32] = 3 << 4 }))}},
		{Name: "udp-truncated", Kind: "decode.udp_truncated", Hosts: true, Ports: true, Frame: Frame{Data: eth4(ip4(slices.Clone(udp4[:26])))}},
		{Name: "udp-length-below-header", Kind: "decode.udp_bad_length", Hosts: true, Ports: true,
			Frame: Frame{Data: eth4(edit(udp4, func(b []byte) { binary.BigEndian.PutUint16(b[24:], 4) }))}},
		{Name: "icmp-truncated", Kind: "decode.icmp_truncated", Hosts: true, Frame: Frame{Data: eth4(withProto(layers.IPProtocolICMPv4, []byte{8, 0}))}},
		{Name: "gre-truncated", Kind: "decode.tunnel_malformed", Hosts: true, Frame: Frame{Data: eth4(withProto(layers.IPProtocolGRE, []byte{0, 0}))}},
		{Name: "fragment-past-65535", Kind: "decode.fragment_malformed", Hosts: true,
			Frame: Frame{Data: eth4(RawFragment(src.Addr(), dst.Addr(), 7, layers.IPProtocolUDP, 65520, true, make([]byte, 64)))}},
		{Name: "ip-in-ip-too-deep", Kind: "decode.too_deep", Hosts: true, Frame: Frame{Data: eth4(nested)}},
	}
	return spaced(cases, t)
}

// malformedBase returns the valid packets the malformed frames are made
// from: a TCP SYN over IPv4 and over IPv6, and a DNS query over UDP.
func malformedBase() (tcp4, tcp6, udp4 []byte) {
	src, dst := MalformedSender, MalformedTarget
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	syn := func(ip gopacket.NetworkLayer) *layers.TCP {
		tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), SYN: true, Window: 64240}
		_ = tcp.SetNetworkLayerForChecksum(ip)
		return tcp
	}
	tcp4 = serialize(ip, syn(ip))
	ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP,
		SrcIP: netip.MustParseAddr("2001:db8::23").AsSlice(), DstIP: netip.MustParseAddr("2001:db8::80").AsSlice()}
	tcp6 = serialize(ip6, syn(ip6))
	ipu := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	udp := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: 53}
	_ = udp.SetNetworkLayerForChecksum(ipu)
	udp4 = serialize(ipu, udp, gopacket.Payload(DNSQuery))
	return tcp4, tcp6, udp4
}

// LyingLengths returns frames the decoder reads but whose length field
// claims more bytes than there are, though the frame was captured whole:
// an IPv4 total length or IPv6 payload length past the frame, a UDP length
// past its datagram. Each is reported on its flow, as Kind.
func LyingLengths(t time.Time) []MalformedFrame {
	tcp4, tcp6, udp4 := malformedBase()
	grow := func(b []byte, at, by int) []byte {
		b = slices.Clone(b)
		binary.BigEndian.PutUint16(b[at:], binary.BigEndian.Uint16(b[at:])+uint16(by))
		return b
	}
	cases := []MalformedFrame{
		{Name: "ipv4-total-length-past-frame", Kind: "decode.ipv4_bad_length", Hosts: true, Ports: true, Frame: Frame{Data: unpadded(grow(tcp4, 2, 100), false)}},
		{Name: "ipv6-payload-length-past-frame", Kind: "decode.ipv6_bad_length", Hosts: true, Ports: true, Frame: Frame{Data: unpadded(grow(tcp6, 4, 100), true)}},
		{Name: "udp-length-past-datagram", Kind: "decode.udp_bad_length", Hosts: true, Ports: true, Frame: Frame{Data: unpadded(grow(udp4, 24, 100), false)}},
	}
	return spaced(cases, t)
}

// spaced stamps the frames of cases a millisecond apart from t.
func spaced(cases []MalformedFrame, t time.Time) []MalformedFrame {
	for i := range cases {
		cases[i].Frame.Time = t.Add(time.Duration(i) * time.Millisecond)
	}
	return cases
}

// unpadded frames ip in Ethernet II without padding it to 60 bytes, as a
// capture on the sending host shows it.
func unpadded(ip []byte, v6 bool) []byte {
	h := make([]byte, 14, 14+len(ip))
	copy(h[0:], macServer)
	copy(h[6:], macClient)
	binary.BigEndian.PutUint16(h[12:], uint16(ethType(v6)))
	return append(h, ip...)
}
