// Package flow tracks connections: a bidirectional flow table keyed by
// 5-tuple and VLAN, with per-direction counters, Zeek-style connection state
// and history, Community ID, timeouts on packet time and a bounded size.
// A Table belongs to one worker and takes no locks.
package flow

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/splitmix"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// Key identifies a flow whichever way its packets go: the endpoints are
// stored in order (A ≤ B by address, then port). It holds no pointer, so a
// table of millions costs the garbage collector nothing to scan.
type Key struct {
	A, B         [16]byte // addresses, IPv4 as IPv4-mapped IPv6
	PortA, PortB uint16
	VLAN         uint16
	Proto        uint8
	V6           bool // the packets are IPv6 (an IPv4-mapped IPv6 address stays IPv6)
}

// PairHash is a symmetric, stable hash of p's two addresses (and VLAN),
// without ports or protocol: the pipeline gives every flow between two
// hosts to one worker, so a connection announced in another (an FTP data
// connection, a DCE/RPC endpoint) is read after its announcement, and a
// rule's group of one host pair is counted in packet order. It is worked
// out from the packet, not its Key: the feeder needs it for every packet
// and the worker builds the key anyway. An address is hashed as its Key
// holds it (IPv4 mapped into IPv6), and the two are added: either
// direction gives the same sum.
func PairHash(p *decode.Packet) uint64 {
	return addrHash(p.Src) + addrHash(p.Dst) + uint64(p.VLAN)*0x9e3779b97f4a7c15
}

func addrHash(a netip.Addr) uint64 {
	b := a.As16()
	return splitmix.Mix(binary.LittleEndian.Uint64(b[:8])*0x9e3779b97f4a7c15 ^ binary.LittleEndian.Uint64(b[8:]))
}

// equal says whether k and o are the same key, as k == o does, field by
// field in a few inline compares: == on the 40-byte Key calls memequal
// (about 50 instructions, in the lookup of every packet's flow).
func (k *Key) equal(o *Key) bool {
	return k.A == o.A && k.B == o.B && k.PortA == o.PortA && k.PortB == o.PortB && k.VLAN == o.VLAN && k.Proto == o.Proto && k.V6 == o.V6
}

// KeyOf returns the flow key of a decoded packet.
func KeyOf(p *decode.Packet) Key {
	k, _ := keyOf(p)
	return k
}

// keyOf returns the flow key of p and whether p's source is the key's A.
func keyOf(p *decode.Packet) (k Key, srcIsA bool) {
	sport, dport := p.SrcPort, p.DstPort
	if p.Proto == decode.ProtoICMP || p.Proto == decode.ProtoICMPv6 {
		sport, dport, _ = icmpPorts(p.Proto == decode.ProtoICMPv6, p.ICMPType, p.ICMPCode)
	}
	k.Proto, k.VLAN, k.V6 = p.Proto, p.VLAN, p.IPVersion == 6
	if lessEndpoint(p.Src, sport, p.Dst, dport) {
		k.A, k.B, k.PortA, k.PortB = p.Src.As16(), p.Dst.As16(), sport, dport
		return k, true
	}
	k.A, k.B, k.PortA, k.PortB = p.Dst.As16(), p.Src.As16(), dport, sport
	return k, false
}

func (k *Key) addr(a [16]byte) netip.Addr {
	if k.V6 {
		return netip.AddrFrom16(a)
	}
	return netip.AddrFrom16(a).Unmap()
}

// Dir is a packet's direction within its flow.
type Dir uint8

const (
	FromOrig Dir = 0 // sent by the originator
	FromResp Dir = 1 // sent by the responder
)

// Endpoint is one side of a flow.
type Endpoint struct {
	IP     netip.Addr
	Port   uint16
	MAC    [6]byte
	HasMAC bool
}

// EndReason says why a flow was ended.
type EndReason uint8

const (
	EndTimeout EndReason = iota // inactive longer than its timeout
	EndFIN                      // closed by FIN in both directions
	EndRST                      // reset
	EndEvicted                  // pushed out by the max-flows bound or the memory budget
	EndEOF                      // still open at the end of input
)

var endReasonNames = [...]string{"timeout", "fin", "rst", "evicted", "eof"}

func (r EndReason) String() string { return endReasonNames[r] }

// Flow is one connection. The Table owns it: after the end callback returns,
// it is recycled for another connection.
//
// A flow that never carries payload must stay cheap (a SYN flood makes
// millions): the fields are ordered for packing, the endpoints live in the
// Key only, times are nanoseconds, the Community ID is computed when an
// event asks for it and a tunnel's outer addresses are kept apart.
type Flow struct {
	Key Key

	// App is the application-layer state (reassembly, parsers) attached by
	// the worker; the Table never looks at it.
	App any

	// Tunnel is the encapsulation of the flow's first packet (nil: none).
	Tunnel *decode.Tunnel

	prev, next   *Flow // activity list of the flow's timeout class
	rprev, rnext *Flow // interim report list

	first, last int64 // packet time, Unix nanoseconds
	// Interim reports: the next one is due at reportAt; reported is the
	// flow's last at the previous one (Unix nanoseconds).
	reportAt, reported int64

	Packets [2]uint64 // by Dir
	Bytes   [2]uint64 // frame bytes on the wire, by Dir
	Payload [2]uint64 // transport payload bytes, by Dir

	tcp       tcpState
	mac       [2][6]byte  // by Dir
	anomalies anomaly.Set // kinds already reported on this flow
	// number is the low 32 bits of the last packet's decode.Packet.Number
	// (see LastNumber).
	number uint32

	Interface          uint16 // capture interface of the first packet
	origPort, respPort uint16
	VLAN, InnerVLAN    uint16
	cidSeed            uint16 // Community ID seed of the table
	hash               uint32 // the index's hash of Key

	Proto     uint8
	IPVersion uint8
	TCPFlags  [2]uint8 // OR of the TCP flags seen, by Dir

	// For ICMP flows: type and code of the first packet, and whether the
	// Community ID keeps direction (messages without a reply type).
	ICMPType, ICMPCode uint8
	ICMPOneWay         bool

	EndReason EndReason
	class     timeoutClass
	bits      flowBits
}

// flowBits are a flow's flags.
type flowBits uint8

const (
	origIsA    flowBits = 1 << iota // the originator is the Key's A side
	hasOrigMAC                      // mac[FromOrig] is known
	hasRespMAC                      // mac[FromResp] is known
	unpaid                          // allocated although the budget refused it
	byMemory                        // evicted for the memory budget (not max_flows)
	tunnelPaid                      // the budget holds tunnelBytes for Tunnel
)

// Orig is the endpoint that opened the flow.
func (f *Flow) Orig() Endpoint { return f.endpoint(f.bits&origIsA != 0, FromOrig, f.origPort) }

// Resp is the endpoint that answers.
func (f *Flow) Resp() Endpoint { return f.endpoint(f.bits&origIsA == 0, FromResp, f.respPort) }

func (f *Flow) endpoint(isA bool, d Dir, port uint16) Endpoint {
	e := Endpoint{Port: port, MAC: f.mac[d], HasMAC: f.bits&(hasOrigMAC<<d) != 0}
	if isA {
		e.IP = f.Key.addr(f.Key.A)
	} else {
		e.IP = f.Key.addr(f.Key.B)
	}
	return e
}

// First is the time of the flow's first packet, in UTC as packet times
// are (events then carry one zone, and the encoder formats UTC fast).
func (f *Flow) First() time.Time { return time.Unix(0, f.first).UTC() }

// Last is the time of the flow's latest packet, in UTC.
func (f *Flow) Last() time.Time { return time.Unix(0, f.last).UTC() }

// LastNumber is the decode.Packet.Number of the flow's last packet, given
// the number n of one not before it (the flow keeps its low 32 bits).
func (f *Flow) LastNumber(n uint64) uint64 { return n - uint64(uint32(n)-f.number) }

// Class is the flow's timeout class: an expiry sweep ends flows class by
// class, each class least recently active first.
func (f *Flow) Class() int { return int(f.class) }

// EvictedForMemory says whether an evicted flow made room for the memory
// budget (else for the max_flows bound).
func (f *Flow) EvictedForMemory() bool { return f.bits&byMemory != 0 }

// CommunityID is the flow's Community ID v1, computed on each call (events
// need it; the flow does not keep it).
func (f *Flow) CommunityID() string {
	var out [communityIDLen]byte
	return string(f.appendCommunityID(out[:0], f.Orig(), f.Resp()))
}

// appendCommunityID appends the Community ID of f, whose endpoints are o
// and r (Orig and Resp), to out.
func (f *Flow) appendCommunityID(out []byte, o, r Endpoint) []byte {
	sport, dport := o.Port, r.Port
	if f.Proto == decode.ProtoICMP || f.Proto == decode.ProtoICMPv6 {
		sport, dport, _ = icmpPorts(f.Proto == decode.ProtoICMPv6, f.ICMPType, f.ICMPCode)
	}
	return AppendCommunityID(out, f.cidSeed, o.IP, r.IP, sport, dport, f.Proto, f.ICMPOneWay)
}

// MarkAnomaly records that k was reported on f and tells whether it was the
// first time (anomaly.Flow).
func (f *Flow) MarkAnomaly(k anomaly.Kind) bool {
	first := !f.anomalies.Has(k)
	f.anomalies.Add(k)
	return first
}

// Reported tells whether an anomaly of kind k was reported on f already
// (a later one is suppressed: its detail need not be written).
func (f *Flow) Reported(k anomaly.Kind) bool { return f.anomalies.Has(k) }

// FillNetwork writes the flow's network and endpoint fields (anomaly.Flow).
func (f *Flow) FillNetwork(ev *schemas.Event) { FillNetwork(ev, f) }

// Duration is the time between the first and last packets.
func (f *Flow) Duration() time.Duration { return time.Duration(f.last - f.first) }
