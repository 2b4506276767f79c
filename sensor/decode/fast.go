package decode

import (
	"encoding/binary"
	"net/netip"

	"github.com/gopacket/gopacket/layers"
)

// The common frame — Ethernet (up to two VLAN tags) or raw IP, IPv4
// without options or IPv6 without extension headers, not a fragment, TCP or
// UDP — decoded by hand in one pass. Anything else, malformed or merely
// unusual (other links, IP options, fragments, MPTCP options, a VXLAN port,
// a zero length field), is left to walk and gopacket's layers, so the fast
// path decides only frames on which both give the same Packet
// (TestFastMatchesWalk, FuzzDecodeFast).

// tcpOptionMPTCP is the Multipath TCP option's kind: gopacket checks its
// subtypes' lengths and may stop reading options there, so walk decodes it.
const tcpOptionMPTCP = 30

// fastEthernet decodes frame into p if it is the common case; false leaves
// p untouched for walk. Up to two 802.1Q/QinQ tags are read as walk reads
// them.
func fastEthernet(frame []byte, p *Packet) bool {
	if len(frame) < 14 {
		return false
	}
	typ, b := layers.EthernetType(binary.BigEndian.Uint16(frame[12:14])), frame[14:]
	var vlan, inner uint16
	for tags := 0; typ == layers.EthernetTypeDot1Q || typ == layers.EthernetTypeQinQ; tags++ {
		if tags == 2 || len(b) < 4 {
			return false
		}
		switch id := binary.BigEndian.Uint16(b[0:2]) & 0x0fff; {
		case vlan == 0:
			vlan = id
		case inner == 0:
			inner = id
		}
		typ, b = layers.EthernetType(binary.BigEndian.Uint16(b[2:4])), b[4:]
	}
	var ok bool
	switch typ {
	case layers.EthernetTypeIPv4:
		ok = fastIPv4(b, p)
	case layers.EthernetTypeIPv6:
		ok = fastIPv6(b, p)
	}
	if ok {
		p.HasMAC = true
		copy(p.DstMAC[:], frame[0:6])
		copy(p.SrcMAC[:], frame[6:12])
		p.VLAN, p.InnerVLAN = vlan, inner
	}
	return ok
}

// fastRawIP decodes a raw IP frame (no link header) into p if it is the
// common case.
func fastRawIP(b []byte, p *Packet) bool {
	return fastIPv4(b, p) || fastIPv6(b, p)
}

// fastIPv4 takes a header of exactly 20 bytes with a non-zero total length
// of at least 20, not a fragment, over TCP or UDP. As gopacket, the payload
// ends at the total length, or at the end of the capture if it is cut (a
// total length past a frame captured whole is walk's to judge).
func fastIPv4(b []byte, p *Packet) bool {
	if len(b) < 20 || b[0] != 0x45 || binary.BigEndian.Uint16(b[6:8])&0x3fff != 0 {
		return false
	}
	n := int(binary.BigEndian.Uint16(b[2:4]))
	if n < 20 {
		return false
	}
	if n > len(b) && !p.cut {
		return false
	}
	proto := b[9]
	if !fastTransport(b[20:min(n, len(b))], proto, p) {
		return false
	}
	p.IPVersion, p.Proto = 4, proto
	p.Src = netip.AddrFrom4([4]byte(b[12:16]))
	p.Dst = netip.AddrFrom4([4]byte(b[16:20]))
	return true
}

// fastIPv6 takes a header whose next header is TCP or UDP and whose payload
// length is not zero (a jumbogram's is).
func fastIPv6(b []byte, p *Packet) bool {
	if len(b) < 40 || b[0]>>4 != 6 {
		return false
	}
	n := int(binary.BigEndian.Uint16(b[4:6]))
	if n == 0 {
		return false
	}
	if n > len(b)-40 && !p.cut {
		return false
	}
	proto := b[6]
	if !fastTransport(b[40:min(40+n, len(b))], proto, p) {
		return false
	}
	p.IPVersion, p.Proto = 6, proto
	p.Src = netip.AddrFrom16([16]byte(b[8:24]))
	p.Dst = netip.AddrFrom16([16]byte(b[24:40]))
	return true
}

func fastTransport(b []byte, proto uint8, p *Packet) bool {
	switch proto {
	case ProtoTCP:
		return fastTCP(b, p)
	case ProtoUDP:
		return fastUDP(b, p)
	}
	return false
}

// fastUDP takes a UDP header whose length field is 8 or more; the payload
// ends there or at the end of the capture. A length past b in a frame
// captured whole (a lie, noted by walk) is walk's, and so is port 4789,
// which may be VXLAN.
func fastUDP(b []byte, p *Packet) bool {
	if len(b) < 8 {
		return false
	}
	src, dst := binary.BigEndian.Uint16(b[0:2]), binary.BigEndian.Uint16(b[2:4])
	n := int(binary.BigEndian.Uint16(b[4:6]))
	if n < 8 || n > len(b) && !p.cut || src == vxlanPort || dst == vxlanPort {
		return false
	}
	p.SrcPort, p.DstPort = src, dst
	p.Payload = b[8:min(n, len(b))]
	return true
}

// fastTCP takes a TCP header that fits in b, reading its options as
// gopacket does: an end-of-list or an option whose length cannot be
// followed stops them; an MPTCP option sends the frame to walk.
func fastTCP(b []byte, p *Packet) bool {
	if len(b) < 20 {
		return false
	}
	hl := int(b[12]>>4) * 4
	if hl < 20 || hl > len(b) {
		return false
	}
	var opts, scale uint8
	for o := b[20:hl]; len(o) > 0; {
		kind := o[0]
		if kind == 0 { // end of options
			break
		}
		if kind == 1 { // no-op
			o = o[1:]
			continue
		}
		if kind == tcpOptionMPTCP {
			return false
		}
		if len(o) < 2 || o[1] < 2 || int(o[1]) > len(o) {
			break
		}
		switch n := o[1]; {
		case kind == tcpOptionMD5:
			opts |= OptMD5
		case kind == uint8(layers.TCPOptionKindWindowScale) && n == 3:
			opts |= OptWindowScale
			scale = min(o[2], maxWindowScale)
		}
		o = o[o[1]:]
	}
	p.SrcPort = binary.BigEndian.Uint16(b[0:2])
	p.DstPort = binary.BigEndian.Uint16(b[2:4])
	p.Seq = binary.BigEndian.Uint32(b[4:8])
	p.Ack = binary.BigEndian.Uint32(b[8:12])
	p.TCPFlags = b[13] // FIN..CWR, the order of the flag constants
	p.Window = binary.BigEndian.Uint16(b[14:16])
	p.TCPOptions, p.WindowScale = opts, scale
	p.Payload = b[hl:]
	return true
}
