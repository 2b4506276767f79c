package decode

import (
	"encoding/binary"
	"maps"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
)

// Status says what Decode made of a frame.
type Status uint8

const (
	// OK: p holds a packet with an IP flow.
	OK Status = iota
	// NotIP: a frame without IP (ARP, LLDP, …); counted, carries no flow.
	NotIP
	// Held: an IP fragment was buffered; its datagram completes later.
	Held
	// Malformed: the frame could not be decoded; Decoder.Errors counts why.
	Malformed
	// UnknownLink: the capture's link type is not supported.
	UnknownLink
)

// ErrKind names why a frame was malformed: the layer that failed.
type ErrKind uint8

const (
	ErrLink ErrKind = iota // Ethernet, SLL, SLL2, loopback or 802.1Q header
	ErrIPv4
	ErrIPv6
	ErrTCP
	ErrUDP
	ErrICMP
	ErrTunnel   // GRE, ERSPAN or VXLAN header
	ErrFragment // fragment that cannot be reassembled (overlap, too large)
	ErrTooDeep  // more nested headers than maxLayers
	numErrKinds
)

var errKindNames = [numErrKinds]string{"link", "ipv4", "ipv6", "tcp", "udp", "icmp", "tunnel", "fragment", "too_deep"}

func (k ErrKind) String() string { return errKindNames[k] }

// maxLayers bounds the headers walked per frame, so nested tunnels cannot loop.
const maxLayers = 24

// Stats counts what the decoder saw. It is owned by the Decoder's goroutine.
type Stats struct {
	Errors       [numErrKinds]uint64
	NotIP        uint64
	Tunnelled    uint64
	Fragments    uint64 // fragments received
	Reassembled  uint64 // datagrams rebuilt from fragments
	FragTimeouts uint64 // incomplete datagrams dropped at timeout
	FragLimited  uint64 // incomplete datagrams dropped at a bound (count, bytes, fragments, budget)
	FragOverlaps uint64 // fragments overlapping bytes already held (first wins)
	FragConflict uint64 // of those, fragments whose bytes differ from the held ones
	UnknownLinks map[layers.LinkType]uint64
}

// ErrorCounts returns the non-zero malformed counts by kind name.
func (s *Stats) ErrorCounts() map[string]uint64 {
	m := map[string]uint64{}
	for k, n := range s.Errors {
		if n > 0 {
			m[ErrKind(k).String()] = n
		}
	}
	return m
}

// Decoder decodes frames into Packets. It is not safe for concurrent use; a
// worker owns one. All layers are preallocated and decoded in place.
type Decoder struct {
	eth    layers.Ethernet
	dot1q  layers.Dot1Q
	sll    layers.LinuxSLL
	sll2   layers.LinuxSLL2
	lo     layers.Loopback
	ip4    layers.IPv4
	ip6    layers.IPv6
	ip6ext layers.IPv6ExtensionSkipper
	ip6frg layers.IPv6Fragment
	tcp    layers.TCP
	udp    layers.UDP
	gre    layers.GRE
	erspan layers.ERSPANII
	vxlan  layers.VXLAN

	defrag *Defragmenter
	Stats  Stats
}

// NewDecoder returns a Decoder whose fragment reassembly follows cfg and
// reserves its memory from acct (nil: unlimited).
func NewDecoder(cfg DefragConfig, acct *budget.Account) *Decoder {
	return &Decoder{defrag: NewDefragmenter(cfg, acct)}
}

// Snapshot returns the decoder's counters, the reassembler's included.
func (d *Decoder) Snapshot() Stats {
	s := d.Stats
	s.FragTimeouts, s.FragLimited = d.defrag.Timeouts, d.defrag.Limited
	s.FragOverlaps, s.FragConflict = d.defrag.Overlaps, d.defrag.Conflicts
	if s.UnknownLinks != nil {
		s.UnknownLinks = maps.Clone(s.UnknownLinks)
	}
	return s
}

// firstLayer maps a capture link type to the layer its frames start with.
func firstLayer(lt layers.LinkType, data []byte) gopacket.LayerType {
	switch lt {
	case layers.LinkTypeEthernet:
		return layers.LayerTypeEthernet
	case layers.LinkTypeLinuxSLL:
		return layers.LayerTypeLinuxSLL
	case layers.LinkTypeLinuxSLL2:
		return layers.LayerTypeLinuxSLL2
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return layers.LayerTypeLoopback
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6, 12, 14:
		if len(data) > 0 && data[0]>>4 == 6 {
			return layers.LayerTypeIPv6
		}
		return layers.LayerTypeIPv4
	}
	return gopacket.LayerTypeZero
}

// Decode decodes one frame of link type lt into p.
func (d *Decoder) Decode(data []byte, ts time.Time, wireLen int, lt layers.LinkType, p *Packet) Status {
	*p = Packet{Timestamp: ts, WireLen: wireLen}
	p.cut = len(data) < wireLen
	typ := firstLayer(lt, data)
	switch typ {
	case layers.LayerTypeEthernet:
		if fastEthernet(data, p) {
			return OK
		}
	case layers.LayerTypeIPv4, layers.LayerTypeIPv6:
		if fastRawIP(data, p) {
			return OK
		}
	}
	if typ == gopacket.LayerTypeZero {
		if d.Stats.UnknownLinks == nil {
			d.Stats.UnknownLinks = map[layers.LinkType]uint64{}
		}
		d.Stats.UnknownLinks[lt]++
		return UnknownLink
	}
	return d.walk(typ, data, p)
}

// fail counts a malformed frame under its fault's layer and notes why on p.
func (d *Decoder) fail(p *Packet, f Fault) Status { return d.failIn(p, faults[f].layer, f) }

// failIn is fail counting the frame under layer.
func (d *Decoder) failIn(p *Packet, layer ErrKind, f Fault) Status {
	d.Stats.Errors[layer]++
	p.Fault = f
	p.Payload = nil
	return Malformed
}

// walk decodes from layer typ onwards. An IP header seen after another one
// (inside GRE, ERSPAN or VXLAN) replaces it: the innermost header is the
// flow, and the outermost is kept in p.Tunnel. A length field past the
// bytes that follow it is noted only in a frame captured whole (!p.cut):
// of a frame the capture cut short, the bytes past the cut were there.
func (d *Decoder) walk(typ gopacket.LayerType, data []byte, p *Packet) Status {
	df := gopacket.NilDecodeFeedback
	for depth := 0; depth < maxLayers; depth++ {
		switch typ {
		case layers.LayerTypeEthernet:
			if d.eth.DecodeFromBytes(data, df) != nil {
				return d.fail(p, LinkMalformed)
			}
			// The innermost Ethernet header names the flow's hosts.
			p.HasMAC = true
			copy(p.SrcMAC[:], d.eth.SrcMAC)
			copy(p.DstMAC[:], d.eth.DstMAC)
			typ, data = d.eth.NextLayerType(), d.eth.Payload
		case layers.LayerTypeDot1Q:
			if d.dot1q.DecodeFromBytes(data, df) != nil {
				return d.fail(p, LinkMalformed)
			}
			switch {
			case p.VLAN == 0:
				p.VLAN = d.dot1q.VLANIdentifier
			case p.InnerVLAN == 0:
				p.InnerVLAN = d.dot1q.VLANIdentifier
			}
			typ, data = d.dot1q.NextLayerType(), d.dot1q.Payload
		case layers.LayerTypeLinuxSLL:
			if d.sll.DecodeFromBytes(data, df) != nil {
				return d.fail(p, LinkMalformed)
			}
			if d.sll.AddrLen == 6 {
				p.HasMAC = true
				copy(p.SrcMAC[:], d.sll.Addr)
			}
			typ, data = d.sll.NextLayerType(), d.sll.Payload
		case layers.LayerTypeLinuxSLL2:
			if d.sll2.DecodeFromBytes(data, df) != nil {
				return d.fail(p, LinkMalformed)
			}
			if d.sll2.AddrLength == 6 {
				p.HasMAC = true
				copy(p.SrcMAC[:], d.sll2.Addr)
			}
			typ, data = d.sll2.NextLayerType(), d.sll2.Payload
		case layers.LayerTypeLoopback:
			if d.lo.DecodeFromBytes(data, df) != nil {
				return d.fail(p, LinkMalformed)
			}
			typ, data = d.lo.NextLayerType(), d.lo.Payload
		case layers.LayerTypeIPv4:
			if d.ip4.DecodeFromBytes(data, df) != nil || d.ip4.Version != 4 {
				return d.failIP(p, 4, data, ipv4Fault(data))
			}
			d.enterIP(p, 4, netip.AddrFrom4([4]byte(d.ip4.SrcIP.To4())), netip.AddrFrom4([4]byte(d.ip4.DstIP.To4())), uint8(d.ip4.Protocol))
			if int(d.ip4.Length) > len(data) && !p.cut {
				p.Anomalies.Add(anomaly.IPv4BadLength)
			}
			if d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0 {
				d.Stats.Fragments++
				p.Fragment, p.FragID = true, uint32(d.ip4.Id)
				whole, st, an := d.defrag.add4(&d.ip4, p.Timestamp)
				if st = d.reassembled(p, st, an); st != OK || !p.Defragmented {
					return st
				}
				typ, data = layers.IPProtocol(p.Proto).LayerType(), whole
				continue
			}
			typ, data = d.ip4.NextLayerType(), d.ip4.Payload
		case layers.LayerTypeIPv6:
			if d.ip6.DecodeFromBytes(data, df) != nil || d.ip6.Version != 6 {
				return d.failIP(p, 6, data, ipv6Fault(data))
			}
			d.enterIP(p, 6, netip.AddrFrom16([16]byte(d.ip6.SrcIP)), netip.AddrFrom16([16]byte(d.ip6.DstIP)), uint8(d.ip6.NextHeader))
			if int(d.ip6.Length) > len(data)-40 && !p.cut { // 0 for a jumbogram
				p.Anomalies.Add(anomaly.IPv6BadLength)
			}
			if d.ip6.HopByHop != nil {
				p.Proto = uint8(d.ip6.HopByHop.NextHeader)
			}
			typ, data = d.ip6.NextLayerType(), d.ip6.Payload
		case layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination:
			if d.ip6ext.DecodeFromBytes(data, df) != nil {
				return d.fail(p, IPv6BadExtension)
			}
			p.Proto = uint8(d.ip6ext.NextHeader)
			typ, data = d.ip6ext.NextLayerType(), d.ip6ext.Payload
		case layers.LayerTypeIPv6Fragment:
			if d.ip6frg.DecodeFromBytes(data, df) != nil {
				return d.fail(p, IPv6BadExtension)
			}
			p.Proto = uint8(d.ip6frg.NextHeader)
			if d.ip6frg.FragmentOffset == 0 && !d.ip6frg.MoreFragments {
				typ, data = d.ip6frg.NextLayerType(), d.ip6frg.Payload // atomic fragment
				continue
			}
			d.Stats.Fragments++
			p.Fragment, p.FragID = true, d.ip6frg.Identification
			whole, st, an := d.defrag.add6(p.Src, p.Dst, &d.ip6frg, p.Timestamp)
			if st = d.reassembled(p, st, an); st != OK || !p.Defragmented {
				return st
			}
			typ, data = layers.IPProtocol(p.Proto).LayerType(), whole
		case layers.LayerTypeTCP:
			if d.tcp.DecodeFromBytes(data, df) != nil {
				return d.failTransport(p, data, tcpFault(data))
			}
			t := &d.tcp
			p.SrcPort, p.DstPort = uint16(t.SrcPort), uint16(t.DstPort)
			p.Seq, p.Ack, p.Window = t.Seq, t.Ack, t.Window
			p.TCPFlags = tcpFlags(t)
			tcpOptions(p, t)
			p.Payload = t.Payload
			return OK
		case layers.LayerTypeUDP:
			if d.udp.DecodeFromBytes(data, df) != nil {
				return d.failTransport(p, data, udpFault(data))
			}
			p.SrcPort, p.DstPort = uint16(d.udp.SrcPort), uint16(d.udp.DstPort)
			p.Payload = d.udp.Payload
			if int(d.udp.Length) > len(data) && !p.cut {
				p.Anomalies.Add(anomaly.UDPBadLength)
			}
			if (p.DstPort == vxlanPort || p.SrcPort == vxlanPort) && isVXLAN(p.Payload) {
				typ, data = layers.LayerTypeVXLAN, p.Payload
				continue
			}
			return OK
		case layers.LayerTypeICMPv4, layers.LayerTypeICMPv6:
			if len(data) < 4 {
				return d.fail(p, ICMPTruncated)
			}
			p.ICMPType, p.ICMPCode = data[0], data[1]
			p.Payload = data[4:]
			return OK
		case layers.LayerTypeGRE:
			if d.gre.DecodeFromBytes(data, df) != nil {
				return d.fail(p, TunnelMalformed)
			}
			d.markTunnel(p, GRE)
			typ, data = d.gre.NextLayerType(), d.gre.Payload
		case layers.LayerTypeERSPANII:
			if d.erspan.DecodeFromBytes(data, df) != nil {
				return d.fail(p, TunnelMalformed)
			}
			d.markTunnel(p, ERSPAN)
			typ, data = d.erspan.NextLayerType(), d.erspan.Payload
		case layers.LayerTypeVXLAN:
			if d.vxlan.DecodeFromBytes(data, df) != nil {
				return d.fail(p, TunnelMalformed)
			}
			d.markTunnel(p, VXLAN)
			if p.Tunnel.Type == VXLAN {
				p.Tunnel.VNI = d.vxlan.VNI
			}
			typ, data = d.vxlan.NextLayerType(), d.vxlan.Payload
		default:
			if p.IPVersion == 0 {
				d.Stats.NotIP++
				return NotIP
			}
			// An IP protocol without ports (SCTP ports are read by hand,
			// everything else — RSVP, ESP, OSPF… — is a flow of addresses).
			if p.Proto == ProtoSCTP && len(data) >= 4 {
				p.SrcPort = binary.BigEndian.Uint16(data[0:2])
				p.DstPort = binary.BigEndian.Uint16(data[2:4])
			}
			p.Payload = data
			return OK
		}
	}
	return d.fail(p, TooDeep)
}

// reassembled takes the defragmenter's answer for the fragment in p. A
// completed datagram (p.Defragmented) is decoded on; a fragment held while a
// bound dropped datagrams is passed on by itself — addresses and protocol,
// no ports or payload — so that the worker reports the limit on its hosts'
// flow.
func (d *Decoder) reassembled(p *Packet, st Status, an anomaly.Set) Status {
	p.Anomalies |= an
	switch {
	case st == OK:
		d.Stats.Reassembled++
		p.Defragmented = true
	case st == Malformed:
		return d.fail(p, FragmentMalformed)
	case an.Has(anomaly.FragmentLimit):
		p.SrcPort, p.DstPort = 0, 0
		return OK
	}
	return st
}

// enterIP records an IP header. A second one means the first was a tunnel's
// outer header.
func (d *Decoder) enterIP(p *Packet, version uint8, src, dst netip.Addr, proto uint8) {
	if p.IPVersion != 0 && !p.Tunnel.Src.IsValid() {
		p.Tunnel.Src, p.Tunnel.Dst = p.Src, p.Dst
		d.markTunnel(p, IPinIP) // no-op when GRE/ERSPAN/VXLAN already named it
	}
	p.IPVersion, p.Src, p.Dst, p.Proto = version, src, dst, proto
	p.SrcPort, p.DstPort = 0, 0
}

func (d *Decoder) markTunnel(p *Packet, t TunnelType) {
	if p.Tunnel.Type == NoTunnel {
		p.Tunnel.Type = t
		d.Stats.Tunnelled++
	}
}

// vxlanPort is VXLAN's UDP port (RFC 7348).
const vxlanPort = 4789

func isVXLAN(b []byte) bool { return len(b) >= 8 && b[0]&0x08 != 0 }

// tcpOptionMD5 is the TCP MD5 signature option's kind (RFC 2385).
const tcpOptionMD5 = 19

// maxWindowScale is the largest window scale shift (RFC 7323 §2.3).
const maxWindowScale = 14

// tcpOptions notes the options the stream checks need (the layer has
// parsed them already).
func tcpOptions(p *Packet, t *layers.TCP) {
	for _, o := range t.Options {
		switch o.OptionType {
		case tcpOptionMD5:
			p.TCPOptions |= OptMD5
		case layers.TCPOptionKindWindowScale:
			if len(o.OptionData) == 1 {
				p.TCPOptions |= OptWindowScale
				p.WindowScale = min(o.OptionData[0], maxWindowScale)
			}
		}
	}
}

func tcpFlags(t *layers.TCP) uint8 {
	var f uint8
	for i, set := range [8]bool{t.FIN, t.SYN, t.RST, t.PSH, t.ACK, t.URG, t.ECE, t.CWR} {
		if set {
			f |= 1 << i // the bit order of FIN..CWR above
		}
	}
	return f
}
