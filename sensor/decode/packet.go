// Package decode turns a captured frame into the few fields the flow table and
// the protocol parsers need, without allocating: link layers (Ethernet, Linux
// SLL/SLL2, BSD loopback, raw IP), 802.1Q/QinQ, IPv4/IPv6 with extension
// headers and fragment reassembly, TCP/UDP/ICMP/ICMPv6, and GRE, ERSPAN and
// VXLAN tunnels (the innermost IP header is the packet's flow).
package decode

import (
	"net/netip"
	"time"

	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
)

// Packet is the decoded summary of one frame. Decoder.Decode overwrites it;
// Payload aliases the frame (or the defragmenter's buffer) and is only valid
// until the next call.
type Packet struct {
	Timestamp time.Time
	WireLen   int // length of the frame on the wire (pcap "orig len")
	Interface int // capture interface index (pcapng IDB / live interface)

	HasMAC         bool
	SrcMAC, DstMAC [6]byte
	VLAN           uint16 // outermost 802.1Q id, 0 if none
	InnerVLAN      uint16 // second 802.1Q id of a QinQ frame

	IPVersion    uint8 // 4 or 6
	Src, Dst     netip.Addr
	Proto        uint8 // IANA protocol number of the transport
	Defragmented bool  // rebuilt from IP fragments
	// Fragment: the frame is an IP fragment (held, or completing a
	// datagram); FragID is its datagram's identification. With Src, Dst
	// and Proto it names the datagram, so a packet index can give every
	// fragment the flow of the datagram it completes.
	Fragment bool
	FragID   uint32

	SrcPort, DstPort uint16
	ICMPType         uint8
	ICMPCode         uint8

	TCPFlags uint8 // FIN=0x01 SYN=0x02 RST=0x04 PSH=0x08 ACK=0x10 URG=0x20 ECE=0x40 CWR=0x80
	Seq, Ack uint32
	Window   uint16
	// TCP options the stream checks need: which are present (OptMD5,
	// OptWindowScale) and the window scale's shift (at most 14).
	TCPOptions  uint8
	WindowScale uint8

	Payload []byte // transport payload (TCP/UDP data, ICMP body)
	// Lasting: Payload stays in place, unchanged, until the feeder's
	// source is done (a slice of a mapped capture, source.Lasting); set by
	// the feeder, never by Decode.
	Lasting bool
	// TeachesHosts: a DHCP message the host table learns from, as the
	// feeder admitted it in packet order (the pipeline's hostorder.go);
	// set by the feeder, never by Decode.
	TeachesHosts bool
	// Number is the packet's place in its feeder's stream (from 1), set
	// by the feeder: several workers put the uses of state spanning host
	// pairs in this order (pipeline's sequencer).
	Number uint64

	Tunnel Tunnel // outermost encapsulation, if any

	// Anomalies the decoder (or the source) noted on this packet, for the
	// worker to report once the packet has a flow.
	Anomalies anomaly.Set
	// Fault: the frame was malformed (status Malformed), and why. The
	// other fields hold what was read: the addresses and protocol of an
	// IP header whose addresses were there, the ports of a transport
	// header that was read; never a payload.
	Fault Fault
	// cut: the capture holds fewer bytes of the frame than the wire had
	// (a snap length), so its length fields cannot be judged.
	cut bool
}

// TCPOptions bits.
const (
	OptMD5         = 1 << iota // TCP MD5 signature (RFC 2385, kind 19)
	OptWindowScale             // window scale (RFC 7323, kind 3)
)

// TCP flag bits as in the TCP header.
const (
	FIN = 0x01
	SYN = 0x02
	RST = 0x04
	PSH = 0x08
	ACK = 0x10
	URG = 0x20
	ECE = 0x40
	CWR = 0x80
)

// TunnelType names an encapsulation.
type TunnelType uint8

const (
	NoTunnel TunnelType = iota
	GRE
	ERSPAN
	VXLAN
	IPinIP
)

func (t TunnelType) String() string {
	switch t {
	case GRE:
		return "gre"
	case ERSPAN:
		return "erspan"
	case VXLAN:
		return "vxlan"
	case IPinIP:
		return "ipip"
	}
	return ""
}

// Tunnel records the outermost encapsulation of a decapsulated packet.
type Tunnel struct {
	Type     TunnelType
	Src, Dst netip.Addr // outer IP addresses
	VNI      uint32     // VXLAN network identifier
}

// IANA protocol numbers the sensor names.
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoGRE    = 47
	ProtoICMPv6 = 58
	ProtoSCTP   = 132
)
