package flow

import (
	"net/netip"
	"strconv"
	"sync/atomic"
	"unsafe"

	"github.com/packetsleuth/packetsleuth/parsers/icmp"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// FillEvent writes the ECS connection event of an ended flow into ev, which
// the caller has zeroed or reused; obs describes the sensor.
func (f *Flow) FillEvent(ev *schemas.Event, obs *schemas.Observer) { f.FillEventFrom(ev, obs, Addrs{}) }

// EventGroups are the groups of an event FillEvent writes: a caller that
// wrote no other into the zeroed event has it encoded without the encoder
// looking at the rest (schemas.EncodeCache.EncodeGroupsWithID).
const EventGroups = schemas.GroupNetwork | schemas.GroupSource | schemas.GroupDestination | schemas.GroupRelated |
	schemas.GroupObserver | schemas.GroupSensor | schemas.GroupSensorFlow | schemas.GroupSensorTunnel

// FillEventFrom is FillEvent with the address strings the flow's other
// events used (FillNetworkFrom); it returns the addresses source.ip and
// destination.ip were printed from, as FillNetworkFrom does.
func (f *Flow) FillEventFrom(ev *schemas.Event, obs *schemas.Observer, addrs Addrs) (src, dst netip.Addr) {
	ev.Timestamp = f.Last()
	ev.ECS.Version = schemas.ECSVersion
	e := &ev.Event
	e.Kind = "event"
	e.Category = categoryNetwork
	e.Type = typeConnectionEnd
	e.Dataset = schemas.DatasetFlow
	e.Action = "network_flow"
	e.Start, e.End, e.Duration = f.First(), ev.Timestamp, f.Duration()

	src, dst = FillNetworkFrom(ev, f, addrs)
	ev.Network.Bytes = int64(f.Bytes[FromOrig] + f.Bytes[FromResp])
	ev.Network.Packets = int64(f.Packets[FromOrig] + f.Packets[FromResp])
	ev.Source.Bytes, ev.Source.Packets = int64(f.Bytes[FromOrig]), int64(f.Packets[FromOrig])
	ev.Destination.Bytes, ev.Destination.Packets = int64(f.Bytes[FromResp]), int64(f.Packets[FromResp])
	if f.bits&hasOrigMAC != 0 {
		ev.Source.MAC = FormatMAC(f.mac[FromOrig])
	}
	if f.bits&hasRespMAC != 0 {
		ev.Destination.MAC = FormatMAC(f.mac[FromResp])
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
func FillNetwork(ev *schemas.Event, f *Flow) { FillNetworkFrom(ev, f, Addrs{}) }

// FillNetworkFrom is FillNetwork with the flow's address strings made
// earlier by f.Addrs (the zero Addrs, or one made before the flow changed
// sides: made here), for a caller that keeps them across the flow's
// events. So the strings always name the flow's sides as they are now:
// an enricher told them (pipeline.AddrReader) may trust they are the
// same addresses. It returns the addresses it printed them from, Orig's
// and Resp's, so that a caller telling them builds no endpoint again.
func FillNetworkFrom(ev *schemas.Event, f *Flow, addrs Addrs) (src, dst netip.Addr) {
	fillIP(&ev.Network, f.IPVersion, f.Proto)
	fillVLANs(&ev.Network, f.VLAN, f.InnerVLAN)
	o, r := f.Orig(), f.Resp()
	a := addrs
	if a.s == "" || a.origIsA != (f.bits&origIsA != 0) {
		a = f.addrsOf(o, r)
	}
	ev.Source.IP, ev.Source.Port = a.s[:a.src], int(o.Port)
	ev.Destination.IP, ev.Destination.Port = a.s[a.src:a.dst], int(r.Port)
	ev.Network.CommunityID = a.s[a.dst:]
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

// Addrs is a flow's source.ip, destination.ip and Community ID as its
// events print them, in one string (one allocation instead of three). The
// zero Addrs is none. It notes the sides it was printed for: after the
// flow changes sides (Reverse), FillNetworkFrom prints the addresses
// afresh rather than name the old originator the source.
type Addrs struct {
	s        string
	src, dst uint8 // ends of source.ip and destination.ip in s
	origIsA  bool  // the flow's origIsA when s was printed
}

// AddrsBytes bounds what an Addrs costs its keeper (the size class of its
// string).
const AddrsBytes = 128

// Addrs returns the flow's address strings.
func (f *Flow) Addrs() Addrs { return f.addrsOf(f.Orig(), f.Resp()) }

// addrsOf is Addrs of the flow's endpoints o and r (Orig and Resp), made
// once for the whole event.
func (f *Flow) addrsOf(o, r Endpoint) Addrs {
	var buf [2*maxAddrLen + communityIDLen]byte
	b := appendAddrString(buf[:0], o.IP)
	src := len(b)
	b = appendAddrString(b, r.IP)
	dst := len(b)
	return Addrs{s: string(f.appendCommunityID(b, o, r)), src: uint8(src), dst: uint8(dst), origIsA: f.bits&origIsA != 0}
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
	if !a.IsValid() {
		return append(b, a.String()...)
	}
	return a.AppendTo(b)
}

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
func FormatMAC(m [6]byte) string {
	k := uint64(m[0])<<40 | uint64(m[1])<<32 | uint64(m[2])<<24 | uint64(m[3])<<16 | uint64(m[4])<<8 | uint64(m[5])
	slot := &macCache[mix(k)%uint64(len(macCache))]
	if e := slot.Load(); e != nil && e.mac == m {
		return unsafe.String(&e.s[0], len(e.s))
	}
	e := &macString{mac: m}
	appendMAC(e.s[:0], m)
	slot.Store(e)
	return unsafe.String(&e.s[0], len(e.s))
}

// macCache maps a MAC to its string; entries are immutable, replaced whole
// on a miss (one allocation: the string is the entry's bytes). 4096 slots
// hold the hosts of a busy LAN segment for 32 KiB of pointers.
var macCache [4096]atomic.Pointer[macString]

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
