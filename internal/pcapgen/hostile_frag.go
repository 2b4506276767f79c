package pcapgen

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Hostile IP fragmentation: the floods and orders that exhaust or slow a
// defragmenter. Frames are raw IPv4 (link type Raw), built by hand so that
// millions of them cost little to make.

// fragAttacker and fragVictim are the hosts of the hostile fragment captures.
var (
	fragAttacker = netip.MustParseAddr("198.51.100.66")
	fragVictim   = netip.MustParseAddr("10.1.0.20")
)

// RawFragment is one IPv4 fragment of protocol proto carrying data at byte
// offset off (a multiple of 8), with its header checksum.
func RawFragment(src, dst netip.Addr, id uint16, proto layers.IPProtocol, off int, more bool, data []byte) []byte {
	b := make([]byte, 20+len(data))
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint16(b[4:], id)
	fo := uint16(off / 8)
	if more {
		fo |= 0x2000
	}
	binary.BigEndian.PutUint16(b[6:], fo)
	b[8], b[9] = 64, byte(proto)
	copy(b[12:16], src.AsSlice())
	copy(b[16:20], dst.AsSlice())
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(b[10:], ^uint16(sum))
	copy(b[20:], data)
	return b
}

// fragSource varies the source address with i above the 16 bits of the
// datagram id, so that datagrams sent by the million do not share a
// (source, id) pair.
func fragSource(i int) netip.Addr {
	a := fragAttacker.As4()
	a[2], a[3] = byte(i>>24), byte(i>>16)
	return netip.AddrFrom4(a)
}

// CompletedFragments emits n UDP datagrams of two fragments each (32 bytes,
// then 8), one every microsecond from t: every datagram completes.
func CompletedFragments(n int, t time.Time, emit func(Frame)) {
	var first, last [32]byte
	binary.BigEndian.PutUint16(first[0:], 40000)
	binary.BigEndian.PutUint16(first[2:], 53)
	binary.BigEndian.PutUint16(first[4:], 40) // UDP length: header and 32 bytes
	for i := range n {
		src, id := fragSource(i), uint16(i)
		at := t.Add(time.Duration(i) * time.Microsecond)
		emit(Frame{Time: at, Data: RawFragment(src, fragVictim, id, layers.IPProtocolUDP, 0, true, first[:])})
		emit(Frame{Time: at, Data: RawFragment(src, fragVictim, id, layers.IPProtocolUDP, 32, false, last[:8])})
	}
}

// TinyFragments emits n first-and-only fragments of 8 bytes at offset
// 65,512 (more to follow), each of its own datagram: none ever completes,
// and a defragmenter that sizes its buffer by the offset holds 64 KiB for
// each 28-byte packet.
func TinyFragments(n int, t time.Time, emit func(Frame)) {
	data := make([]byte, 8)
	for i := range n {
		emit(Frame{Time: t.Add(time.Duration(i) * time.Microsecond),
			Data: RawFragment(fragSource(i), fragVictim, uint16(i), layers.IPProtocolUDP, 65512, true, data)})
	}
}

// MaxFragments is the number of 8-byte fragments ManyFragments cuts a
// datagram into (the figure; the 13-bit offset allows one more).
const MaxFragments = 8191

// ManyFragments returns one UDP datagram (id) of MaxFragments fragments of
// 8 bytes, in order or in the worst order for a defragmenter
// that keeps a list of received ranges: every other fragment first, so
// that the list grows to half of them before any range merges.
func ManyFragments(id uint16, t time.Time, worst bool) []Frame {
	payload := make([]byte, MaxFragments*8)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	binary.BigEndian.PutUint16(payload[0:], 40000)
	binary.BigEndian.PutUint16(payload[2:], 9)
	binary.BigEndian.PutUint16(payload[4:], uint16(len(payload))) // UDP length; checksum 0: none
	binary.BigEndian.PutUint16(payload[6:], 0)
	order := make([]int, 0, MaxFragments)
	for i := range MaxFragments {
		if !worst || i%2 == 0 {
			order = append(order, i)
		}
	}
	for i := 1; worst && i < MaxFragments; i += 2 {
		order = append(order, i)
	}
	out := make([]Frame, len(order))
	for n, i := range order {
		off := i * 8
		data := payload[off : off+8]
		out[n] = Frame{Time: t.Add(time.Duration(n) * time.Microsecond),
			Data: RawFragment(fragAttacker, fragVictim, id, layers.IPProtocolUDP, off, i < MaxFragments-1, data)}
	}
	return out
}

// OverlappingFragments returns a UDP datagram to port 53 carrying payload
// (at least 25 bytes) in fragments of 16 bytes, with a second copy of the
// second fragment, its bytes inverted, sent before the last: a receiver
// that keeps the last copy (some do) reads another message than one that
// keeps the first.
func OverlappingFragments(payload []byte, t time.Time) []Packet {
	src, dst := netip.AddrPortFrom(fragAttacker, 40001), netip.AddrPortFrom(fragVictim, 53)
	frags := fragmentUDP(src, dst, payload, 16)
	order := make([]int, len(frags))
	for i := range order {
		order[i] = i
	}
	pkts := IPv4Fragments(src, dst, t, payload, 16, order)
	forged := append([]byte(nil), frags[1]...)
	for i := range forged {
		forged[i] ^= 0xff
	}
	ip := *pkts[1].Layers[0].(*layers.IPv4)
	copy2 := Packet{Time: pkts[1].Time.Add(time.Microsecond), Layers: []gopacket.SerializableLayer{&ip, gopacket.Payload(forged)}}
	return append(pkts[:2:2], append([]Packet{copy2}, pkts[2:]...)...)
}

// HostileFragCaptures are the fragment attacks as capture files, of n
// datagrams (or fragments) each.
func HostileFragCaptures(n int) []Capture {
	collect := func(gen func(int, time.Time, func(Frame))) []Frame {
		var fr []Frame
		gen(n, Epoch, func(f Frame) { fr = append(fr, f) })
		return fr
	}
	worst := ManyFragments(1, Epoch, true)
	return []Capture{
		{Name: "frag-completed.pcap", Link: layers.LinkTypeRaw, Frames: collect(CompletedFragments),
			Describe: "datagrams of two fragments that all complete"},
		{Name: "frag-tiny-high-offset.pcap", Link: layers.LinkTypeRaw, Frames: collect(TinyFragments),
			Describe: "8-byte fragments at offset 65512, each its own datagram, none completes"},
		{Name: "frag-worst-order.pcap", Link: layers.LinkTypeRaw, Frames: worst,
			Describe: "one datagram of 8191 fragments, every other one first"},
		{Name: "frag-overlap.pcap", Link: layers.LinkTypeRaw, Frames: Frames(OverlappingFragments(DNSQuery, Epoch), Raw),
			Describe: "a DNS query in fragments, one sent twice with different bytes"},
	}
}
