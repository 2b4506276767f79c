package decode

import (
	"encoding/binary"
	"net/netip"

	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
)

// Fault says why a frame was malformed, finer than its ErrKind: what a
// rule and an analyst see (the anomaly it is reported as). It is worked
// out from the bytes only once a layer failed, so the common frame pays
// nothing for it.
type Fault uint8

const (
	NoFault Fault = iota
	LinkMalformed
	IPv4Truncated
	IPv4BadHeaderLength
	IPv4BadLength
	IPv4BadOption
	IPBadVersion
	IPv6Truncated
	IPv6BadLength
	IPv6BadExtension
	TCPTruncated
	TCPBadHeaderLength
	UDPTruncated
	UDPBadLength
	ICMPTruncated
	TunnelMalformed
	FragmentMalformed
	TooDeep
	numFaults
)

var faults = [numFaults]struct {
	layer  ErrKind
	kind   anomaly.Kind
	detail string
}{
	LinkMalformed:       {ErrLink, anomaly.LinkMalformed, "link-layer header cut short or invalid"},
	IPv4Truncated:       {ErrIPv4, anomaly.IPv4Truncated, "fewer bytes than the IPv4 header"},
	IPv4BadHeaderLength: {ErrIPv4, anomaly.IPv4BadHeaderLength, "IPv4 header length below 20 bytes"},
	IPv4BadLength:       {ErrIPv4, anomaly.IPv4BadLength, "IPv4 total length shorter than the header"},
	IPv4BadOption:       {ErrIPv4, anomaly.IPv4BadOption, "IPv4 option length past the header"},
	IPBadVersion:        {ErrIPv4, anomaly.IPBadVersion, "IP version field not the link's"},
	IPv6Truncated:       {ErrIPv6, anomaly.IPv6Truncated, "fewer bytes than the IPv6 header"},
	IPv6BadLength:       {ErrIPv6, anomaly.IPv6BadLength, "IPv6 payload length 0 without a jumbogram option"},
	IPv6BadExtension:    {ErrIPv6, anomaly.IPv6BadExtension, "IPv6 extension header cut short or invalid"},
	TCPTruncated:        {ErrTCP, anomaly.TCPTruncated, "fewer bytes than the TCP header"},
	TCPBadHeaderLength:  {ErrTCP, anomaly.TCPBadHeaderLength, "TCP data offset below 20 bytes or past the segment"},
	UDPTruncated:        {ErrUDP, anomaly.UDPTruncated, "fewer bytes than the UDP header"},
	UDPBadLength:        {ErrUDP, anomaly.UDPBadLength, "UDP length below the 8-byte header"},
	ICMPTruncated:       {ErrICMP, anomaly.ICMPTruncated, "fewer bytes than the ICMP header"},
	TunnelMalformed:     {ErrTunnel, anomaly.TunnelMalformed, "GRE, ERSPAN or VXLAN header cut short or invalid"},
	FragmentMalformed:   {ErrFragment, anomaly.FragmentMalformed, "IP fragment no valid datagram can hold"},
	TooDeep:             {ErrTooDeep, anomaly.TooDeep, "more nested headers than the decoder walks"},
}

// Kind is the anomaly f is reported as.
func (f Fault) Kind() anomaly.Kind { return faults[f].kind }

// Detail says what f means, for the analyst.
func (f Fault) Detail() string { return faults[f].detail }

// failIP fails a frame whose IP header b (of version v) did not decode
// for fault f, counted under v's layer (IPBadVersion is either's). If b
// holds the header's addresses they are read: the frame's report then
// names its hosts.
func (d *Decoder) failIP(p *Packet, v uint8, b []byte, f Fault) Status {
	layer := ErrIPv4
	if v == 6 {
		layer = ErrIPv6
	}
	switch {
	case f == IPBadVersion:
	case v == 4 && len(b) >= 20:
		d.enterIP(p, 4, netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20])), b[9])
	case v == 6 && len(b) >= 40:
		d.enterIP(p, 6, netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40])), b[6])
	}
	return d.failIn(p, layer, f)
}

// ipv4Fault tells why an IPv4 header b failed to decode (gopacket's
// checks, and the version).
func ipv4Fault(b []byte) Fault {
	if len(b) < 20 {
		return IPv4Truncated
	}
	if b[0]>>4 != 4 {
		return IPBadVersion
	}
	hl, n := int(b[0]&0x0f)*4, int(binary.BigEndian.Uint16(b[2:4]))
	if n == 0 { // TCP segmentation offload: the frame's length
		n = len(b)
	}
	switch {
	case hl < 20:
		return IPv4BadHeaderLength
	case n < hl:
		return IPv4BadLength
	case hl > len(b):
		return IPv4Truncated
	}
	return IPv4BadOption
}

// ipv6Fault tells why an IPv6 header b failed to decode: its length, its
// version, or the hop-by-hop header read with it.
func ipv6Fault(b []byte) Fault {
	switch {
	case len(b) < 40:
		return IPv6Truncated
	case b[0]>>4 != 6:
		return IPBadVersion
	case binary.BigEndian.Uint16(b[4:6]) == 0:
		return IPv6BadLength
	}
	return IPv6BadExtension
}

// failTransport fails a frame whose TCP or UDP header b did not decode
// for fault f, with its ports if b holds them.
func (d *Decoder) failTransport(p *Packet, b []byte, f Fault) Status {
	if len(b) >= 4 {
		p.SrcPort, p.DstPort = binary.BigEndian.Uint16(b[0:2]), binary.BigEndian.Uint16(b[2:4])
	}
	return d.fail(p, f)
}

// tcpFault tells why a TCP header b failed to decode.
func tcpFault(b []byte) Fault {
	if len(b) < 20 {
		return TCPTruncated
	}
	return TCPBadHeaderLength
}

// udpFault tells why a UDP header b failed to decode.
func udpFault(b []byte) Fault {
	if len(b) < 8 {
		return UDPTruncated
	}
	return UDPBadLength
}
