package pcapgen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// MixStats describes a written mix.
type MixStats struct {
	Packets, Bytes, Flows int64
}

// WriteMix writes at least size bytes of realistic traffic as one Ethernet
// pcap: many concurrent HTTP connections with bodies of 1–64 KB in full-size
// segments, interleaved with DNS lookups, from a fixed seed so every run
// writes the same capture. It is the benchmark input.
func WriteMix(w io.Writer, size int64, seed uint64) (MixStats, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	pw := pcapgo.NewWriterNanos(bw)
	if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return MixStats{}, err
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	const concurrent = 256
	active := make([][]Packet, 0, concurrent)
	var st MixStats
	now := Epoch
	var n int
	newConn := func() []Packet {
		n++
		st.Flows++
		host := netip.AddrFrom4([4]byte{10, byte(n >> 16), byte(n >> 8), byte(n)})
		if n%10 == 0 {
			return UDPExchange(netip.AddrPortFrom(host, uint16(1024+n%60000)), dnsS, now, DNSQuery, DNSResponse)
		}
		server := netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + rng.IntN(200))})
		body := make([]byte, 1024+rng.IntN(63*1024))
		for i := range body {
			body[i] = byte('a' + i%26)
		}
		resp := append(fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n", len(body)), body...)
		c := NewTCPConn(netip.AddrPortFrom(host, uint16(1024+n%60000)), netip.AddrPortFrom(server, 80), now)
		return c.Handshake().Data(true, HTTPRequest, 1448).Data(false, resp, 1448).Close().Packets
	}
	buf := gopacket.NewSerializeBuffer()
	eth := &layers.Ethernet{SrcMAC: macClient, DstMAC: macServer, EthernetType: layers.EthernetTypeIPv4}
	for st.Bytes < size {
		for len(active) < concurrent {
			active = append(active, newConn())
		}
		i := rng.IntN(len(active))
		p := active[i][0]
		if active[i] = active[i][1:]; len(active[i]) == 0 {
			active[i] = active[len(active)-1]
			active = active[:len(active)-1]
		}
		if err := gopacket.SerializeLayers(buf, serOpts, append([]gopacket.SerializableLayer{eth}, p.Layers...)...); err != nil {
			return st, err
		}
		now = now.Add(time.Duration(5+rng.IntN(20)) * time.Microsecond)
		data := buf.Bytes()
		if err := pw.WritePacket(gopacket.CaptureInfo{Timestamp: now, CaptureLength: len(data), Length: len(data)}, data); err != nil {
			return st, err
		}
		st.Packets++
		st.Bytes += int64(len(data))
	}
	return st, bw.Flush()
}
