package pcapgen

import (
	"bufio"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// FloodInterval is the packet time between two SYNs of WriteSYNFlood: a
// million SYNs a second, so every flow of a flood of a few million is
// still in its handshake timeout when the last SYN arrives.
const FloodInterval = time.Microsecond

// FloodSource returns the source of the i-th SYN of a flood: a
// scrambled address in 10.0.0.0/8 (a bijection of i mod 2^24, so the first
// 16,777,216 sources are distinct) and a port from rng.
func FloodSource(i int, rng *rand.Rand) netip.AddrPort {
	x := uint32(i) * 0x9E3779B1 & 0xFFFFFF // odd multiplier: a bijection mod 2^24
	x ^= x >> 11
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(x >> 16), byte(x >> 8), byte(x)}), uint16(1024+rng.IntN(64512)))
}

// WriteSYNFloodFile writes the SYN flood of WriteSYNFlood into the file
// path.
func WriteSYNFloodFile(path string, n int, seed uint64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = WriteSYNFlood(f, n, seed)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// WriteSYNFlood writes n TCP SYNs as an Ethernet pcap, from n distinct
// random sources (FloodSource) to port 80 of four servers, one every
// FloodInterval from Epoch, none answered: the cheapest way for an attacker
// to make a sensor hold state. The same seed writes the same bytes. Frames
// are written directly (not through gopacket's serializer): a flood of
// millions must be quick to make.
func WriteSYNFlood(w io.Writer, n int, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	pw := pcapgo.NewWriterNanos(bw)
	if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var fr [14 + 20 + 20]byte
	copy(fr[0:6], macServer)
	copy(fr[6:12], macClient)
	binary.BigEndian.PutUint16(fr[12:], uint16(layers.EthernetTypeIPv4))
	ip, tcp := fr[14:34], fr[34:54]
	ip[0], ip[8], ip[9] = 0x45, 64, byte(layers.IPProtocolTCP)
	binary.BigEndian.PutUint16(ip[2:], 40)
	tcp[12], tcp[13] = 5<<4, 0x02 // data offset 5 words; SYN
	binary.BigEndian.PutUint16(tcp[2:], 80)
	binary.BigEndian.PutUint16(tcp[14:], 64240)
	for i := range n {
		src := FloodSource(i, rng)
		dst := [4]byte{192, 0, 2, byte(10 + i%4)}
		s4 := src.Addr().As4()
		binary.BigEndian.PutUint16(ip[4:], uint16(i))
		copy(ip[12:16], s4[:])
		copy(ip[16:20], dst[:])
		ip[10], ip[11] = 0, 0
		binary.BigEndian.PutUint16(ip[10:], ^fold(sum16(ip, 0)))
		binary.BigEndian.PutUint16(tcp[0:], src.Port())
		binary.BigEndian.PutUint32(tcp[4:], rng.Uint32())
		tcp[16], tcp[17] = 0, 0
		pseudo := sum16(s4[:], 0)
		pseudo = sum16(dst[:], pseudo) + uint32(layers.IPProtocolTCP) + 20
		binary.BigEndian.PutUint16(tcp[16:], ^fold(sum16(tcp, pseudo)))
		ci := gopacket.CaptureInfo{Timestamp: Epoch.Add(time.Duration(i) * FloodInterval), CaptureLength: len(fr), Length: len(fr)}
		if err := pw.WritePacket(ci, fr[:]); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// sum16 adds b as big-endian 16-bit words to s (the Internet checksum's sum).
func sum16(b []byte, s uint32) uint32 {
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	return s
}

func fold(s uint32) uint16 {
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}
