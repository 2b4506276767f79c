package decode

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// sameAsWalk decodes a frame of link type lt (Ethernet or raw IP) with
// Decode (the fast path when it applies) and with walk alone (gopacket's
// layers), captured whole and cut short by the capture, and fails if the
// statuses, the packets or the error counts differ. It reports whether the
// fast path took the frame, whole or cut.
func sameAsWalk(t *testing.T, lt layers.LinkType, frame []byte) bool {
	t.Helper()
	first := firstLayer(lt, frame)
	var took bool
	for _, wire := range []int{len(frame), len(frame) + 100} {
		fast, slow := NewDecoder(DefragConfig{}, nil), NewDecoder(DefragConfig{}, nil)
		var pf, ps Packet
		probe := Packet{WireLen: wire, cut: wire > len(frame)}
		if first == layers.LayerTypeEthernet {
			took = took || fastEthernet(frame, &probe)
		} else {
			took = took || fastRawIP(frame, &probe)
		}
		stf := fast.Decode(frame, pcapgen.Epoch, wire, lt, &pf)
		ps = Packet{Timestamp: pcapgen.Epoch, WireLen: wire, cut: wire > len(frame)}
		sts := slow.walk(first, frame, &ps)
		if stf != sts || fast.Stats.Errors != slow.Stats.Errors || fast.Stats.NotIP != slow.Stats.NotIP {
			t.Fatalf("frame %x (wire %d): status %v / %v (walk), errors %v / %v", frame, wire, stf, sts, fast.Stats.Errors, slow.Stats.Errors)
		}
		if !bytes.Equal(pf.Payload, ps.Payload) || cap(pf.Payload) != cap(ps.Payload) {
			t.Fatalf("frame %x (wire %d): payload %x / %x (walk)", frame, wire, pf.Payload, ps.Payload)
		}
		pf.Payload, ps.Payload = nil, nil
		if !reflect.DeepEqual(pf, ps) {
			t.Fatalf("frame %x (wire %d):\nfast %+v\nwalk %+v", frame, wire, pf, ps)
		}
	}
	return took
}

// edgeFrames are Ethernet frames at the fast path's borders: TCP options of
// every kind and length, lengths that cut or pad, IPv6, UDP on the VXLAN
// port, IP options, fragments, VLAN tags.
func edgeFrames() [][]byte {
	eth := func(typ uint16, rest ...byte) []byte {
		b := []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, byte(typ >> 8), byte(typ)}
		return append(b, rest...)
	}
	ip4 := func(proto byte, total int, rest ...byte) []byte {
		h := []byte{0x45, 0, byte(total >> 8), byte(total), 0, 1, 0x40, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
		return append(h, rest...)
	}
	ip6 := func(next byte, n int, rest ...byte) []byte {
		h := make([]byte, 40)
		h[0], h[4], h[5], h[6], h[7] = 0x60, byte(n>>8), byte(n), next, 64
		h[8], h[23], h[24], h[39] = 0x20, 1, 0x20, 2
		return append(h, rest...)
	}
	tcp := func(opts []byte, payload ...byte) []byte {
		hl := 20 + (len(opts)+3)/4*4
		h := make([]byte, hl)
		binary.BigEndian.PutUint16(h[0:], 40000)
		binary.BigEndian.PutUint16(h[2:], 443)
		binary.BigEndian.PutUint32(h[4:], 1000)
		binary.BigEndian.PutUint32(h[8:], 2000)
		h[12], h[13], h[15] = byte(hl/4)<<4, 0x18, 255
		copy(h[20:], opts)
		return append(h, payload...)
	}
	udp := func(sport, dport uint16, n int, payload ...byte) []byte {
		h := make([]byte, 8)
		binary.BigEndian.PutUint16(h[0:], sport)
		binary.BigEndian.PutUint16(h[2:], dport)
		binary.BigEndian.PutUint16(h[4:], uint16(n))
		return append(h, payload...)
	}
	var out [][]byte
	optionSets := [][]byte{
		nil,
		{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}, // NOPs, timestamps
		{3, 3, 7},                             // window scale
		{3, 3, 20},                            // window scale over 14
		{3, 4, 7, 0},                          // window scale of the wrong length
		{19, 18, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, // MD5
		{19, 1, 3, 3, 7},           // MD5 with length 1: options stop
		{2, 4, 5, 180, 0, 3, 3, 7}, // end of list before the window scale
		{2, 200, 3, 3, 7},          // length past the options
		{30, 4, 0, 0, 3, 3, 7},     // MPTCP
		{30, 5, 0, 0, 0, 3, 3, 7},  // an MPTCP option gopacket stops at
		{3},                        // kind without length
	}
	payload := []byte("GET / HTTP/1.1\r\n\r\n")
	for _, o := range optionSets {
		seg := tcp(o, payload...)
		out = append(out, eth(0x0800, ip4(6, 20+len(seg), seg...)...))
		out = append(out, eth(0x86DD, ip6(6, len(seg), seg...)...))
	}
	seg := tcp(nil, payload...)
	out = append(out,
		eth(0x0800, ip4(6, 20+len(seg)-5, seg...)...),                   // total length cuts the payload
		eth(0x0800, append(ip4(6, 20+len(seg), seg...), 0, 0, 0, 0)...), // trailer after it
		eth(0x0800, ip4(6, 20+len(seg)+100, seg...)...),                 // capture cut short
		eth(0x0800, ip4(6, 0, seg...)...),                               // TSO: length 0
		eth(0x0800, ip4(6, 10, seg...)...),                              // length under the header
		eth(0x0800, ip4(6, 30, seg...)...),                              // length inside the TCP header
		eth(0x0800, ip4(17, 20+8+4, udp(5353, 53, 12, 1, 2, 3, 4)...)...),
		eth(0x0800, ip4(17, 20+8+4, udp(5353, 53, 0, 1, 2, 3, 4)...)...), // UDP jumbogram length
		eth(0x0800, ip4(17, 20+8+4, udp(5353, 53, 5, 1, 2, 3, 4)...)...), // UDP length under 8
		eth(0x0800, ip4(17, 20+8+4, udp(5353, 53, 40, 1, 2, 3, 4)...)...),
		eth(0x0800, ip4(17, 20+16, udp(5353, 4789, 16, 8, 0, 0, 0, 0, 0, 1, 0)...)...), // VXLAN port
		eth(0x0800, ip4(1, 28, 8, 0, 0, 0, 0, 1, 0, 1)...),                             // ICMP
		eth(0x86DD, ip6(17, 12, udp(5353, 53, 12, 1, 2, 3, 4)...)...),
		eth(0x86DD, ip6(6, 0, seg...)...),  // IPv6 length 0
		eth(0x86DD, ip6(6, 10, seg...)...), // IPv6 length inside the TCP header
		eth(0x86DD, ip6(0, 8, 6, 0, 1, 4, 0, 0, 0, 0)...),
		eth(0x8100, 0, 5, 0x08, 0x00), // VLAN, then nothing
		eth(0x8100, append([]byte{0x20, 5, 0x08, 0x00}, ip4(6, 20+len(seg), seg...)...)...),
		eth(0x88a8, append([]byte{0, 7, 0x81, 0x00, 0, 9, 0x86, 0xdd}, ip6(6, len(seg), seg...)...)...),
		eth(0x8100, append([]byte{0, 0, 0x81, 0x00, 0, 9, 0x08, 0x00}, ip4(17, 20+8+4, udp(5353, 53, 12, 1, 2, 3, 4)...)...)...), // priority tag, then VLAN 9
		eth(0x8100, append([]byte{0, 1, 0x81, 0x00, 0, 2, 0x81, 0x00, 0, 3, 0x08, 0x00}, ip4(6, 20+len(seg), seg...)...)...),     // three tags
		eth(0x8100, append([]byte{0, 1, 0x00, 0x40}, 1, 2, 3)...),                                                                // 802.3 length after a tag
		eth(0x0806, 0, 1),    // ARP
		eth(0x0040, 1, 2, 3), // 802.3 length
	)
	frag := eth(0x0800, ip4(6, 20+len(seg), seg...)...)
	frag[14+6] = 0x20 // more fragments
	out = append(out, frag)
	opts := eth(0x0800, ip4(6, 24+len(seg), append([]byte{1, 1, 1, 0}, seg...)...)...)
	opts[14] = 0x46 // an IP header with 4 bytes of options
	out = append(out, opts)
	v6in4 := eth(0x0800, ip4(6, 20+len(seg), seg...)...)
	v6in4[14] = 0x65 // version 6 in an IPv4 EtherType
	out = append(out, v6in4)
	for _, off := range []int{12 + 14 + 20} { // a TCP data offset under 5, and over the segment
		for _, v := range []byte{0x40, 0xf0} {
			b := eth(0x0800, ip4(6, 20+len(seg), seg...)...)
			b[off] = v
			out = append(out, b)
		}
	}
	return out
}

// The fast path gives the Packet walk gives, on every border case, on every
// catalogue frame and on every truncation of both.
func TestFastMatchesWalk(t *testing.T) {
	frames := edgeFrames()
	for _, c := range pcapgen.Catalogue() {
		if c.Link != layers.LinkTypeEthernet {
			continue
		}
		for _, fr := range c.Frames {
			frames = append(frames, fr.Data)
		}
	}
	took, tookRaw := 0, 0
	for _, fr := range frames {
		for n := 0; n <= len(fr); n++ {
			if sameAsWalk(t, layers.LinkTypeEthernet, fr[:n]) {
				took++
			}
		}
		if len(fr) > 14 { // the same IP packet as a raw IP frame
			for n := 0; n <= len(fr)-14; n++ {
				if sameAsWalk(t, layers.LinkTypeRaw, fr[14:14+n]) {
					tookRaw++
				}
			}
		}
	}
	if took == 0 || tookRaw == 0 {
		t.Fatalf("the fast path took %d Ethernet and %d raw IP frames", took, tookRaw)
	}
}

func FuzzDecodeFast(f *testing.F) {
	for _, fr := range edgeFrames() {
		f.Add(fr)
	}
	for _, fr := range httpFrames(f) {
		f.Add(fr.Data)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		sameAsWalk(t, layers.LinkTypeEthernet, frame)
		sameAsWalk(t, layers.LinkTypeRaw, frame)
	})
}

func BenchmarkDecode(b *testing.B) {
	d := NewDecoder(DefragConfig{}, nil)
	var p Packet
	frames := httpFrames(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, fr := range frames {
			d.Decode(fr.Data, fr.Time, len(fr.Data), layers.LinkTypeEthernet, &p)
		}
	}
}
