// Package icmp reads what an ICMP or ICMPv6 message tells beyond its
// type and code: their names (IANA registries), the size and randomness
// of an echo's payload (tunnels such as ptunnel or icmpsh carry
// encrypted or compressed data there, pings carry patterns), and the
// packet an error message quotes (destination unreachable, time
// exceeded, parameter problem, redirect; ICMPv6 packet too big), whose
// 5-tuple names the flow the error is about. The sensor hands it the
// message after its 4-byte header (type, code, checksum).
package icmp

import (
	"encoding/binary"
	"math"
	"net/netip"
)

// IsEcho says whether the message is an echo request or reply.
func IsEcho(v6 bool, typ uint8) bool {
	if v6 {
		return typ == 128 || typ == 129
	}
	return typ == 8 || typ == 0
}

// IsError says whether the message quotes the packet it is about.
func IsError(v6 bool, typ uint8) bool {
	if v6 {
		return typ >= 1 && typ <= 4
	}
	switch typ {
	case 3, 4, 5, 11, 12:
		return true
	}
	return false
}

// EchoPayload returns an echo's data: what follows its identifier and
// sequence number (body is the message after its 4-byte header).
func EchoPayload(body []byte) []byte {
	if len(body) < 4 {
		return nil
	}
	return body[4:]
}

// Randomness is the Shannon entropy of b in bits per byte, the lower of
// that of its bytes and that of the differences between successive
// bytes: a counting pattern (Linux ping fills large payloads with 0x08,
// 0x09, …) has nearly 8 bits of byte entropy but 0 of difference
// entropy, while encrypted or compressed data is high on both. At most
// log2(len(b)): a short payload cannot look random. Only the first
// Sample bytes are measured, so a 64 KiB ping costs what a 1 KiB one does.
func Randomness(b []byte) float64 {
	b = b[:min(len(b), Sample)]
	if len(b) < 2 {
		return 0
	}
	var bytes, deltas [256]uint32
	prev := b[0]
	bytes[prev]++
	for _, c := range b[1:] {
		bytes[c]++
		deltas[c-prev]++
		prev = c
	}
	return min(entropy(&bytes, len(b)), entropy(&deltas, len(b)-1))
}

// entropy is H = log2(n) - Σ c·log2(c) / n over the counts c of h.
func entropy(h *[256]uint32, n int) float64 {
	var s float64
	for _, c := range h {
		if c > 1 {
			s += clog2c(c)
		}
	}
	return max(0, math.Log2(float64(n))-s/float64(n)) // not -0.0000…: rounding
}

// clog2 holds c·log2(c) for the counts of payloads up to a full frame.
var clog2 = func() (t [2048]float64) {
	for c := 2; c < len(t); c++ {
		t[c] = float64(c) * math.Log2(float64(c))
	}
	return
}()

func clog2c(c uint32) float64 {
	if c < uint32(len(clog2)) {
		return clog2[c]
	}
	return float64(c) * math.Log2(float64(c))
}

// Sample is how many bytes of a payload Randomness measures.
const Sample = 1024

// Quoted is the start of the packet an error message quotes.
type Quoted struct {
	Src, Dst         netip.Addr
	Proto            uint8
	SrcPort, DstPort uint16 // for a quoted ICMP message: its type and code
}

// IPv6 extension headers skipped to reach the quoted transport header.
var ext6 = map[uint8]bool{0: true, 43: true, 60: true}

// ParseQuoted reads the quoted packet of an error message (body is the
// message after its 4-byte header; the quote begins 4 bytes later, after
// the unused, MTU or pointer field). The IP header must be whole and of
// the message's family, and the transport's first 4 bytes present
// (RFC 792 quotes 8 bytes of it); a quoted fragment other than the first
// has no ports and is not read.
func ParseQuoted(v6 bool, body []byte) (Quoted, bool) {
	var q Quoted
	if len(body) < 4 {
		return q, false
	}
	ip := body[4:]
	var rest []byte
	if !v6 {
		if len(ip) < 20 || ip[0]>>4 != 4 {
			return q, false
		}
		ihl := int(ip[0]&0x0f) * 4
		if ihl < 20 || len(ip) < ihl || binary.BigEndian.Uint16(ip[6:])&0x1fff != 0 {
			return q, false
		}
		q.Src, q.Dst = netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
		q.Proto, rest = ip[9], ip[ihl:]
	} else {
		if len(ip) < 40 || ip[0]>>4 != 6 {
			return q, false
		}
		q.Src, q.Dst = netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40]))
		q.Proto, rest = ip[6], ip[40:]
		for i := 0; ext6[q.Proto] || q.Proto == 44; i++ {
			if i == 8 || len(rest) < 8 {
				return q, false
			}
			if q.Proto == 44 { // fragment: only the first has the transport header
				if binary.BigEndian.Uint16(rest[2:])&0xfff8 != 0 {
					return q, false
				}
				q.Proto, rest = rest[0], rest[8:]
				continue
			}
			n := 8 + int(rest[1])*8
			if len(rest) < n {
				return q, false
			}
			q.Proto, rest = rest[0], rest[n:]
		}
	}
	switch q.Proto {
	case 6, 17, 132: // TCP, UDP, SCTP: the ports
		if len(rest) < 4 {
			return q, false
		}
		q.SrcPort, q.DstPort = binary.BigEndian.Uint16(rest), binary.BigEndian.Uint16(rest[2:])
	case 1, 58: // ICMP: type and code
		if len(rest) < 2 {
			return q, false
		}
		q.SrcPort, q.DstPort = uint16(rest[0]), uint16(rest[1])
	}
	return q, true
}
