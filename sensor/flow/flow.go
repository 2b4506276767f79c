// Package flow tracks connections: a bidirectional flow table keyed by
// 5-tuple and VLAN, with per-direction counters, Zeek-style connection state
// and history, Community ID, timeouts on packet time and a bounded size.
// A Table belongs to one worker and takes no locks.
package flow

import (
	"net/netip"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// Key identifies a flow whichever way its packets go: the endpoints are
// stored in order (A ≤ B by address, then port).
type Key struct {
	A, B         netip.Addr
	PortA, PortB uint16
	Proto        uint8
	VLAN         uint16
}

// Hash is a symmetric, stable hash of the key, used to shard flows across
// workers. It is not persisted anywhere.
func (k *Key) Hash() uint64 {
	a, b := k.A.As16(), k.B.As16()
	h := uint64(k.Proto)<<48 ^ uint64(k.VLAN)<<32 ^ uint64(k.PortA)<<16 ^ uint64(k.PortB)
	for i := 0; i < 16; i += 8 {
		h = mix(h ^ le64(a[i:]))
		h = mix(h ^ le64(b[i:]))
	}
	return mix(h)
}

func le64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// mix is the splitmix64 finaliser.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// KeyOf returns the flow key of a decoded packet.
func KeyOf(p *decode.Packet) (k Key) {
	sport, dport := p.SrcPort, p.DstPort
	if p.Proto == decode.ProtoICMP || p.Proto == decode.ProtoICMPv6 {
		sport, dport, _ = icmpPorts(p.Proto == decode.ProtoICMPv6, p.ICMPType, p.ICMPCode)
	}
	k.Proto, k.VLAN = p.Proto, p.VLAN
	if lessEndpoint(p.Src, sport, p.Dst, dport) {
		k.A, k.B, k.PortA, k.PortB = p.Src, p.Dst, sport, dport
		return k
	}
	k.A, k.B, k.PortA, k.PortB = p.Dst, p.Src, dport, sport
	return k
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
	EndEvicted                  // pushed out by the max-flows bound
	EndEOF                      // still open at the end of input
)

var endReasonNames = [...]string{"timeout", "fin", "rst", "evicted", "eof"}

func (r EndReason) String() string { return endReasonNames[r] }

// Flow is one connection. The Table owns it: after the end callback returns,
// it is recycled for another connection.
type Flow struct {
	Key        Key
	Orig, Resp Endpoint
	Proto      uint8
	IPVersion  uint8
	VLAN       uint16
	InnerVLAN  uint16
	Interface  int
	Tunnel     decode.Tunnel

	// For ICMP flows: type and code of the first packet, and whether the
	// Community ID keeps direction (messages without a reply type).
	ICMPType, ICMPCode uint8
	ICMPOneWay         bool

	First, Last time.Time
	Packets     [2]uint64 // by Dir
	Bytes       [2]uint64 // frame bytes on the wire, by Dir
	Payload     [2]uint64 // transport payload bytes, by Dir
	TCPFlags    [2]uint8  // OR of the TCP flags seen, by Dir

	CommunityID string
	EndReason   EndReason

	// App is the application-layer state (reassembly, parsers) attached by
	// the worker; the Table never looks at it.
	App any

	tcp        tcpState
	class      timeoutClass
	prev, next *Flow // activity list of the flow's timeout class

	anomalies anomaly.Set // kinds already reported on this flow

	// Interim reports: the next one is due at reportAt; reported is the
	// flow's Last at the previous one.
	reportAt, reported time.Time
	rprev, rnext       *Flow
}

// MarkAnomaly records that k was reported on f and tells whether it was the
// first time (anomaly.Flow).
func (f *Flow) MarkAnomaly(k anomaly.Kind) bool {
	first := !f.anomalies.Has(k)
	f.anomalies.Add(k)
	return first
}

// FillNetwork writes the flow's network and endpoint fields (anomaly.Flow).
func (f *Flow) FillNetwork(ev *schemas.Event) { FillNetwork(ev, f) }

// Duration is the time between the first and last packets.
func (f *Flow) Duration() time.Duration { return f.Last.Sub(f.First) }
