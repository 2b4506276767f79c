package flow

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"net/netip"

	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// CommunityID computes Community ID v1 (corelight/community-id-spec) for a
// flow from src to dst. For ICMP and ICMPv6 the ports are the mapped
// type/code of icmpPorts, and oneWay keeps the given order.
func CommunityID(seed uint16, src, dst netip.Addr, sport, dport uint16, proto uint8, oneWay bool) string {
	var out [communityIDLen]byte
	return string(AppendCommunityID(out[:0], seed, src, dst, sport, dport, proto, oneWay))
}

// QuotedCommunityID is the Community ID, with the flow's seed, of the
// packet an ICMP error of flow f quotes (src to dst, its transport and
// ports; for a quoted ICMP message, its type and code as the ports): the
// flow the error is about.
func (f *Flow) QuotedCommunityID(src, dst netip.Addr, proto uint8, sport, dport uint16) string {
	oneWay := false
	if proto == decode.ProtoICMP || proto == decode.ProtoICMPv6 {
		sport, dport, oneWay = icmpPorts(proto == decode.ProtoICMPv6, uint8(sport), uint8(dport))
	}
	return CommunityID(f.cidSeed, src, dst, sport, dport, proto, oneWay)
}

// communityIDLen is the length of a Community ID v1: "1:" and the base64
// of a SHA-1.
const communityIDLen = 2 + 28

// AppendCommunityID appends the Community ID of CommunityID to out.
func AppendCommunityID(out []byte, seed uint16, src, dst netip.Addr, sport, dport uint16, proto uint8, oneWay bool) []byte {
	if !oneWay && !lessEndpoint(src, sport, dst, dport) {
		src, dst, sport, dport = dst, src, dport, sport
	}
	var buf [2 + 16 + 16 + 2 + 4]byte
	b := buf[:0]
	b = binary.BigEndian.AppendUint16(b, seed)
	b = appendAddr(b, src)
	b = appendAddr(b, dst)
	b = append(b, proto, 0)
	if hasPorts(proto) {
		b = binary.BigEndian.AppendUint16(b, sport)
		b = binary.BigEndian.AppendUint16(b, dport)
	}
	sum := sha1.Sum(b)
	out = append(out, "1:"...)
	return base64.StdEncoding.AppendEncode(out, sum[:])
}

func appendAddr(b []byte, a netip.Addr) []byte {
	if a.Is4() {
		v := a.As4()
		return append(b, v[:]...)
	}
	v := a.As16()
	return append(b, v[:]...)
}

// lessEndpoint orders endpoints as the spec does: address first, then port.
func lessEndpoint(a netip.Addr, ap uint16, b netip.Addr, bp uint16) bool {
	if c := a.Compare(b); c != 0 {
		return c < 0
	}
	return ap <= bp
}

// hasPorts says which IP protocols have ports in the hash (TCP, UDP, SCTP,
// and ICMP/ICMPv6 through their type/code mapping).
func hasPorts(proto uint8) bool {
	switch proto {
	case 1, 6, 17, 58, 132:
		return true
	}
	return false
}

// icmpPorts maps an ICMP type/code to the port pair used for flow keys and
// Community ID, after Zeek: a request/reply pair maps both ways to the same
// two numbers; any other message is one-way, keyed on (type, code).
func icmpPorts(v6 bool, typ, code uint8) (sport, dport uint16, oneWay bool) {
	pairs := icmp4Pairs
	if v6 {
		pairs = icmp6Pairs
	}
	if other, ok := pairs[typ]; ok {
		return uint16(typ), uint16(other), false
	}
	return uint16(typ), uint16(code), true
}

// Request/response ICMP types, both ways.
var icmp4Pairs = map[uint8]uint8{
	8: 0, 0: 8, // echo
	13: 14, 14: 13, // timestamp
	15: 16, 16: 15, // information
	10: 9, 9: 10, // router solicitation / advertisement
	17: 18, 18: 17, // address mask
}

var icmp6Pairs = map[uint8]uint8{
	128: 129, 129: 128, // echo
	133: 134, 134: 133, // router solicitation / advertisement
	135: 136, 136: 135, // neighbour solicitation / advertisement
	130: 131, 131: 130, // multicast listener query / report
	139: 140, 140: 139, // node information query / response
	144: 145, 145: 144, // home agent address discovery
}

// PacketCommunityID is the Community ID of the flow a packet would start:
// its sender as the originator, ICMP keyed on its type and code. Every
// packet of a flow gets its flow's ID from it (the ID is symmetric), but
// for a one-way ICMP message sent back the other way: compute it once per
// Key, from the flow's first packet.
func PacketCommunityID(seed uint16, p *decode.Packet) string {
	sport, dport, oneWay := p.SrcPort, p.DstPort, false
	if p.Proto == decode.ProtoICMP || p.Proto == decode.ProtoICMPv6 {
		sport, dport, oneWay = icmpPorts(p.Proto == decode.ProtoICMPv6, p.ICMPType, p.ICMPCode)
	}
	return CommunityID(seed, p.Src, p.Dst, sport, dport, p.Proto, oneWay)
}
