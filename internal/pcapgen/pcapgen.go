// Package pcapgen writes the synthetic captures PacketSleuth tests and
// benchmarks with: every link type and encapsulation the decoder handles,
// TCP connections in each Zeek state, fragments, and large realistic mixes.
// Captures are deterministic: the same call writes the same bytes.
package pcapgen

import (
	"encoding/binary"
	"net"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Packet is one IP packet of a scenario, before link-layer framing.
type Packet struct {
	Time   time.Time
	Layers []gopacket.SerializableLayer // from the IP header on
}

// Frame is a packet framed for a link type.
type Frame struct {
	Time time.Time
	Data []byte
}

// Link frames IP packets for one capture link type, possibly inside tunnels.
type Link func(ip []byte, v6 bool) []byte

var serOpts = gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}

func serialize(ls ...gopacket.SerializableLayer) []byte {
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, serOpts, ls...); err != nil {
		panic(err) // the generator only builds valid layers
	}
	return append([]byte(nil), buf.Bytes()...)
}

// Bytes serializes p's layers.
func (p Packet) Bytes() []byte { return serialize(p.Layers...) }

var (
	macClient = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
	macServer = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}
)

func ethType(v6 bool) layers.EthernetType {
	if v6 {
		return layers.EthernetTypeIPv6
	}
	return layers.EthernetTypeIPv4
}

// Ethernet frames packets in Ethernet II.
func Ethernet(ip []byte, v6 bool) []byte {
	// The payload is serialized with the header: alone, the header would be
	// padded to Ethernet's 60-byte minimum.
	return serialize(&layers.Ethernet{SrcMAC: macClient, DstMAC: macServer, EthernetType: ethType(v6)}, gopacket.Payload(ip))
}

// VLAN frames packets in 802.1Q tags (two ids make QinQ).
func VLAN(ids ...uint16) Link {
	return func(ip []byte, v6 bool) []byte {
		ls := []gopacket.SerializableLayer{&layers.Ethernet{SrcMAC: macClient, DstMAC: macServer, EthernetType: layers.EthernetTypeDot1Q}}
		for i, id := range ids {
			next := layers.EthernetTypeDot1Q
			if i == len(ids)-1 {
				next = ethType(v6)
			}
			ls = append(ls, &layers.Dot1Q{VLANIdentifier: id, Type: next})
		}
		return serialize(append(ls, gopacket.Payload(ip))...)
	}
}

// SLL frames packets in Linux cooked headers (v1).
func SLL(ip []byte, v6 bool) []byte {
	h := make([]byte, 16)
	binary.BigEndian.PutUint16(h[0:], 0) // to us
	binary.BigEndian.PutUint16(h[2:], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(h[4:], 6)
	copy(h[6:], macClient)
	binary.BigEndian.PutUint16(h[14:], uint16(ethType(v6)))
	return append(h, ip...)
}

// SLL2 frames packets in Linux cooked headers (v2).
func SLL2(ip []byte, v6 bool) []byte {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h[0:], uint16(ethType(v6)))
	binary.BigEndian.PutUint32(h[4:], 2) // interface index
	binary.BigEndian.PutUint16(h[8:], 1) // ARPHRD_ETHER
	h[10] = 0                            // to us
	h[11] = 6
	copy(h[12:], macClient)
	return append(h, ip...)
}

// Null frames packets in BSD loopback headers.
func Null(ip []byte, v6 bool) []byte {
	h := make([]byte, 4)
	family := uint32(2)
	if v6 {
		family = 30 // AF_INET6 on macOS
	}
	binary.LittleEndian.PutUint32(h, family)
	return append(h, ip...)
}

// Raw leaves packets as bare IP.
func Raw(ip []byte, v6 bool) []byte { return ip }

var (
	tunnelA = netip.MustParseAddr("198.18.0.1")
	tunnelB = netip.MustParseAddr("198.18.0.2")
)

func outerIPv4(proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: tunnelA.AsSlice(), DstIP: tunnelB.AsSlice()}
}

// GRE carries packets in GRE over IPv4 over Ethernet.
func GRE(ip []byte, v6 bool) []byte {
	outer := serialize(&layers.Ethernet{SrcMAC: macClient, DstMAC: macServer, EthernetType: layers.EthernetTypeIPv4},
		outerIPv4(layers.IPProtocolGRE), &layers.GRE{Protocol: ethType(v6)}, gopacket.Payload(ip))
	return outer
}

// VXLAN carries Ethernet frames in VXLAN (UDP 4789) with network id vni.
func VXLAN(vni uint32) Link {
	return func(ip []byte, v6 bool) []byte {
		inner := Ethernet(ip, v6)
		outer := outerIPv4(layers.IPProtocolUDP)
		udp := &layers.UDP{SrcPort: 40000, DstPort: 4789}
		udp.SetNetworkLayerForChecksum(outer)
		return serialize(&layers.Ethernet{SrcMAC: macClient, DstMAC: macServer, EthernetType: layers.EthernetTypeIPv4},
			outer, udp, &layers.VXLAN{ValidIDFlag: true, VNI: vni}, gopacket.Payload(inner))
	}
}

// ERSPAN carries Ethernet frames in ERSPAN type II over GRE.
func ERSPAN(ip []byte, v6 bool) []byte {
	inner := Ethernet(ip, v6)
	return serialize(&layers.Ethernet{SrcMAC: macClient, DstMAC: macServer, EthernetType: layers.EthernetTypeIPv4},
		outerIPv4(layers.IPProtocolGRE), &layers.GRE{Protocol: layers.EthernetTypeERSPAN, SeqPresent: true},
		&layers.ERSPANII{Version: 1, SessionID: 7}, gopacket.Payload(inner))
}

// Frames frames every packet with link.
func Frames(pkts []Packet, link Link) []Frame {
	out := make([]Frame, len(pkts))
	for i, p := range pkts {
		_, v6 := p.Layers[0].(*layers.IPv6)
		out[i] = Frame{Time: p.Time, Data: link(p.Bytes(), v6)}
	}
	return out
}
