package flow

import (
	"net/netip"
	"strconv"
	"sync/atomic"
	"unsafe"

	"github.com/packetsleuth/packetsleuth/internal/splitmix"
	"github.com/packetsleuth/packetsleuth/parsers/icmp"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// FillEvent writes the ECS connection event of an ended flow into ev, which
// the caller has zeroed or reused; obs describes the sensor.
func (f *Flow) FillEvent(ev *schemas.Event, obs *schemas.Observer) {
	f.FillEventFrom(ev, obs, nil, nil)
}

// EventGroups are the groups of an event FillEvent writes: a caller that
// wrote no other into the zeroed event has it encoded without the encoder
// looking at the rest (schemas.EncodeCache.EncodeGroupsWithID).
const EventGroups = schemas.GroupNetwork | schemas.GroupSource | schemas.GroupDestination | schemas.GroupRelated |
	schemas.GroupObserver | schemas.GroupSensor | schemas.GroupSensorFlow | schemas.GroupSensorTunnel

// FillEventFrom is FillEvent with the addresses the flow's other events
// printed and the worker's Texts (FillNetworkFrom); it returns the
// addresses source.ip and destination.ip were printed from, as
// FillNetworkFrom does.
func (f *Flow) FillEventFrom(ev *schemas.Event, obs *schemas.Observer, addrs *Addrs, t *Texts) (src, dst netip.Addr) {
	ev.Timestamp = f.Last()
	ev.ECS.Version = schemas.ECSVersion
	e := &ev.Event
	e.Kind = "event"
	e.Category = categoryNetwork
	e.Type = typeConnectionEnd
	e.Dataset = schemas.DatasetFlow
	e.Action = "network_flow"
	e.Start, e.End, e.Duration = f.First(), ev.Timestamp, f.Duration()

	src, dst = FillNetworkFrom(ev, f, addrs, t)
	ev.Network.Bytes = int64(f.Bytes[FromOrig] + f.Bytes[FromResp])
	ev.Network.Packets = int64(f.Packets[FromOrig] + f.Packets[FromResp])
	ev.Source.Bytes, ev.Source.Packets = int64(f.Bytes[FromOrig]), int64(f.Packets[FromOrig])
	ev.Destination.Bytes, ev.Destination.Packets = int64(f.Bytes[FromResp]), int64(f.Packets[FromResp])
	if f.bits&hasOrigMAC != 0 {
		ev.Source.MAC = t.MAC(f.mac[FromOrig])
	}
	if f.bits&hasRespMAC != 0 {
		ev.Destination.MAC = t.MAC(f.mac[FromResp])
	}
	if obs != nil {
		ev.Observer = *obs
	}

	fi := &ev.Sensor.Flow
	fi.State = f.ConnState()
	fi.EndReason = f.EndReason.String()
	if f.Proto == decode.ProtoTCP {
		fi.History = f.History()
		fi.TCPFlagsOrig = tcpFlagString(f.TCPFlags[FromOrig])
		fi.TCPFlagsResp = tcpFlagString(f.TCPFlags[FromResp])
	}
	if f.Proto == decode.ProtoICMP || f.Proto == decode.ProtoICMPv6 {
		// The rest of fi.ICMP (echo payloads, quoted packet) is the app's.
		v6 := f.Proto == decode.ProtoICMPv6
		fi.ICMP.Type, fi.ICMP.Code = int(f.ICMPType), int(f.ICMPCode)
		fi.ICMP.TypeName, fi.ICMP.CodeName = icmp.TypeName(v6, f.ICMPType), icmp.CodeName(v6, f.ICMPType, f.ICMPCode)
	}
	return src, dst
}

// FillNetwork writes the fields every event of the flow shares: network.*,
// the endpoints' addresses and ports, related.ip and the tunnel.
func FillNetwork(ev *schemas.Event, f *Flow) { FillNetworkFrom(ev, f, nil, nil) }

// FillNetworkFrom is FillNetwork for a caller that keeps the flow's
// printed addresses across its events (addrs: printed here when empty or
// printed before the flow changed sides, so they always name the flow's
// sides as they are now; nil: kept by no one) and cuts the event's
// strings from t (nil: one allocation for the three). An enricher told
// the strings (pipeline.AddrReader) may trust they are those addresses.
// It returns the addresses it printed them from, Orig's and Resp's, so
// that a caller telling them builds no endpoint again.
func FillNetworkFrom(ev *schemas.Event, f *Flow, addrs *Addrs, t *Texts) (src, dst netip.Addr) {
	fillIP(&ev.Network, f.IPVersion, f.Proto)
	fillVLANs(&ev.Network, f.VLAN, f.InnerVLAN)
	o, r := f.Orig(), f.Resp()
	var printed Addrs
	a := addrs
	if a == nil {
		a = &printed
	}
	var buf [2*maxAddrLen + communityIDLen]byte
	var fresh []byte // the text, when printed now
	if a.n == 0 || a.origIsA != (f.bits&origIsA != 0) {
		fresh = f.printAddrs(a, o, r, buf[:0])
	}
	s := t.text(a, o, r, fresh)
	ev.Source.IP, ev.Source.Port = s[:a.src], int(o.Port)
	ev.Destination.IP, ev.Destination.Port = s[a.src:a.dst], int(r.Port)
	ev.Network.CommunityID = s[a.dst:]
	fillRelated(ev, o.IP != r.IP)
	if f.Tunnel != nil {
		ev.Sensor.Tunnel = schemas.Tunnel{
			Type: f.Tunnel.Type.String(), SourceIP: addrString(f.Tunnel.Src),
			DestinationIP: addrString(f.Tunnel.Dst), VNI: int(f.Tunnel.VNI),
		}
	}
	return o.IP, r.IP
}

// fillIP writes network.type, .transport and .iana_number.
func fillIP(n *schemas.Network, version, proto uint8) {
	n.Transport = TransportName(proto)
	n.IANANumber = strconv.Itoa(int(proto))
	n.Type = "ipv4"
	if version == 6 {
		n.Type = "ipv6"
	}
}

func fillVLANs(n *schemas.Network, vlan, inner uint16) {
	if vlan != 0 {
		n.VLAN.ID = strconv.Itoa(int(vlan))
	}
	if inner != 0 {
		n.Inner.VLAN.ID = strconv.Itoa(int(inner))
	}
}

// fillRelated writes related.ip: source.ip, and destination.ip if other.
func fillRelated(ev *schemas.Event, other bool) {
	ev.Related.IP = append(ev.Related.IP[:0], ev.Source.IP)
	if other {
		ev.Related.IP = append(ev.Related.IP, ev.Destination.IP)
	}
}

// Frame is a decoded frame that has no flow (the decoder refused it), as
// the network of its anomaly report (anomaly.Network).
type Frame decode.Packet

// FillNetwork writes what was read of the frame before it failed: its MAC
// addresses and VLANs, once an IP header was read its network type,
// transport and addresses, and its ports once a transport header was;
// network.bytes is its length on the wire.
func (fr *Frame) FillNetwork(ev *schemas.Event) {
	p := (*decode.Packet)(fr)
	n := &ev.Network
	n.Bytes, n.Packets = int64(p.WireLen), 1
	fillVLANs(n, p.VLAN, p.InnerVLAN)
	if p.HasMAC {
		ev.Source.MAC = FormatMAC(p.SrcMAC)
		if p.DstMAC != ([6]byte{}) { // SLL names the sender only
			ev.Destination.MAC = FormatMAC(p.DstMAC)
		}
	}
	if p.IPVersion == 0 {
		return
	}
	fillIP(n, p.IPVersion, p.Proto)
	ev.Source.IP, ev.Destination.IP = p.Src.String(), p.Dst.String()
	ev.Source.Port, ev.Destination.Port = int(p.SrcPort), int(p.DstPort)
	fillRelated(ev, p.Src != p.Dst)
}

// Addrs is what a flow's events print of its source.ip, destination.ip
// and Community ID, kept by value by the flow's app state (no allocation,
// and on the budget with the state), so that its events hash the
// Community ID (a SHA-1) once: the Community ID itself, the lengths of
// the addresses, and where a Texts cut the text last (Texts.text). It
// notes the sides it was printed for: after the flow changes sides
// (Reverse), FillNetworkFrom prints afresh rather than name the old
// originator the source. The zero Addrs is none.
type Addrs struct {
	cid         [communityIDLen]byte
	n, src, dst uint8 // ends of the text, of source.ip and of destination.ip in it
	origIsA     bool  // the flow's origIsA when it was printed
	off         uint16
	gen         uint64 // the text lies at off in the Texts block gen (0: none)
}

// printAddrs prints the addresses of the flow's endpoints o and r (Orig
// and Resp) into a, and returns their text appended to b.
func (f *Flow) printAddrs(a *Addrs, o, r Endpoint, b []byte) []byte {
	b = appendAddrString(b, o.IP)
	src := len(b)
	b = appendAddrString(b, r.IP)
	dst := len(b)
	b = f.appendCommunityID(b, o, r)
	copy(a.cid[:], b[dst:])
	a.n, a.src, a.dst, a.origIsA = uint8(len(b)), uint8(src), uint8(dst), f.bits&origIsA != 0
	a.gen = 0
	return b
}

// appendText appends the text of a, printed for endpoints o and r.
func (a *Addrs) appendText(b []byte, o, r Endpoint) []byte {
	b = appendAddrString(b, o.IP)
	b = appendAddrString(b, r.IP)
	return append(b, a.cid[:int(a.n-a.dst)]...)
}

var (
	categoryNetwork   = []string{"network"}
	typeConnectionEnd = []string{"connection", "end"}
)

// maxAddrLen is the longest address a flow's endpoint can print as
// (an IPv4-mapped IPv6 address; flow addresses have no zone).
const maxAddrLen = len("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255")

// appendAddrString appends a.String() to b.
func appendAddrString(b []byte, a netip.Addr) []byte {
	if a.Is4() {
		return appendIPv4(b, a.As4())
	}
	if !a.IsValid() {
		return append(b, a.String()...)
	}
	return a.AppendTo(b)
}

// appendIPv4 appends the dotted decimal of an IPv4 address to b, as
// netip.Addr.String writes it, each byte's digits and dot stored as one
// word from a table (netip divides by ten and a hundred for each: two
// addresses of a flow's every event).
func appendIPv4(b []byte, ip [4]byte) []byte {
	n := len(b)
	b = append(b, "255.255.255.255."...) // room for each store of 4
	p := unsafe.Pointer(&b[n])
	at := uintptr(0)
	for _, v := range ip { // at <= 12: each byte's text is at most 4
		o := octets[v]
		*(*[4]byte)(unsafe.Add(p, at)) = o.text
		at += uintptr(o.n)
	}
	return b[:n+int(at)-1] // no dot after the last
}

// octets[v] is the decimal digits of v and a dot, padded to 4 bytes.
var octets = func() (t [256]struct {
	text [4]byte
	n    uint8
}) {
	for v := range t {
		s := strconv.Itoa(v) + "."
		copy(t[v].text[:], s)
		t[v].n = uint8(len(s))
	}
	return t
}()

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// TransportName is the IANA keyword ECS uses in network.transport.
func TransportName(proto uint8) string {
	switch proto {
	case 1:
		return "icmp"
	case 2:
		return "igmp"
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 41:
		return "ipv6"
	case 46:
		return "rsvp"
	case 47:
		return "gre"
	case 50:
		return "esp"
	case 51:
		return "ah"
	case 58:
		return "ipv6-icmp"
	case 89:
		return "ospf"
	case 103:
		return "pim"
	case 112:
		return "vrrp"
	case 132:
		return "sctp"
	}
	return strconv.Itoa(int(proto))
}

// FormatMAC writes a MAC address the way ECS wants it: 00-00-5E-00-53-23.
// A link carries few distinct MACs (hosts, gateways), so the strings are
// kept in a cache shared by the workers: a flood of new flows through one
// router makes no string per flow.
func FormatMAC(m [6]byte) string { return (*Texts)(nil).MAC(m) }

// MAC is FormatMAC with the cache entry of a MAC it misses cut from a
// block of macBlock entries of t (nil: allocated alone).
func (t *Texts) MAC(m [6]byte) string {
	k := uint64(m[0])<<40 | uint64(m[1])<<32 | uint64(m[2])<<24 | uint64(m[3])<<16 | uint64(m[4])<<8 | uint64(m[5])
	slot := &macCache[splitmix.Mix(k)%uint64(len(macCache))]
	if e := slot.Load(); e != nil && e.mac == m {
		return unsafe.String(&e.s[0], len(e.s))
	}
	e := t.macEntry()
	e.mac = m
	appendMAC(e.s[:0], m)
	slot.Store(e)
	return unsafe.String(&e.s[0], len(e.s))
}

// macCache maps a MAC to its string; entries are immutable, replaced whole
// on a miss (the string is the entry's bytes). 4096 slots hold the hosts
// of a busy LAN segment for 32 KiB of pointers. An entry cut from a
// Texts' block keeps the whole block alive: at most 4096 blocks, 1.5 MiB,
// whatever the traffic.
var macCache [4096]atomic.Pointer[macString]

// macBlock is how many cache entries a Texts' block holds: a miss is an
// allocation every 16 (bench-large misses 10,849 times a run).
const macBlock = 16

// macEntry returns an unused cache entry, cut from t's block.
func (t *Texts) macEntry() *macString {
	if t == nil {
		return new(macString)
	}
	if len(t.macs) == 0 {
		t.macs = make([]macString, macBlock)
	}
	e := &t.macs[0]
	t.macs = t.macs[1:]
	return e
}

type macString struct {
	mac [6]byte
	s   [17]byte
}

// appendMAC appends m as ECS writes a MAC to b.
func appendMAC(b []byte, m [6]byte) []byte {
	const hex = "0123456789ABCDEF"
	for i, v := range m {
		if i > 0 {
			b = append(b, '-')
		}
		b = append(b, hex[v>>4], hex[v&0xf])
	}
	return b
}

// tcpFlagString is the letters of the TCP flags in f.
func tcpFlagString(f uint8) string { return tcpFlagStrings[f] }

// tcpFlagStrings holds every set of TCP flags' letters, made once.
var tcpFlagStrings = func() (t [256]string) {
	const names = "FSRPAUEC"
	for f := range t {
		var b [8]byte
		n := 0
		for i := 0; i < 8; i++ {
			if f&(1<<i) != 0 {
				b[n] = names[i]
				n++
			}
		}
		t[f] = string(b[:n])
	}
	return t
}()
