package pcapgen

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/packetsleuth/packetsleuth/internal/splitmix"
)

// HashFloodServer is the server every SYN of HashFloodSYNs is sent to.
var HashFloodServer = netip.MustParseAddrPort("[2001:db8::1]:80")

// HashFloodSYNs returns n TCP SYNs to HashFloodServer, one every
// FloodInterval from t, from n distinct IPv6 clients chosen as an attacker
// who knows a flow table's hash would choose them: every flow key hashes
// to the same low 32 bits under the public, unseeded hash the flow table
// once used (the splitmix64 finaliser over the key's words, with no
// secret), so in a table indexed by it every new flow probes past all the
// earlier ones: quadratic time for linear traffic.
func HashFloodSYNs(n int, t time.Time) []Packet {
	pkts := make([]Packet, n)
	for i, src := range HashFloodSources(n) {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: src.Addr().AsSlice(), DstIP: HashFloodServer.Addr().AsSlice()}
		tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(HashFloodServer.Port()), Seq: uint32(i), SYN: true, Window: 64240}
		_ = tcp.SetNetworkLayerForChecksum(ip)
		pkts[i] = Packet{Time: t.Add(time.Duration(i) * FloodInterval), Layers: []gopacket.SerializableLayer{ip, tcp}}
	}
	return pkts
}

// HashFloodCapture is HashFloodSYNs(n) as an Ethernet capture.
func HashFloodCapture(n int) Capture {
	return Capture{Name: "hash-flood.pcap", Link: layers.LinkTypeEthernet, Frames: Frames(HashFloodSYNs(n, Epoch), Ethernet),
		Describe: "IPv6 SYNs whose flow keys collide under a public, unseeded hash"}
}

// HashFloodSources returns the n clients of HashFloodSYNs: 2001:db9::/64
// addresses (above the server's, so the key's A is the server) whose low
// 64 bits are solved for, by inverting the hash's steps, so that the key
// hashes to i<<32 | hashFloodLow.
func HashFloodSources(n int) []netip.AddrPort {
	const port = 40000
	dst := HashFloodServer.Addr().As16()
	src := [16]byte{0x20, 0x01, 0x0d, 0xb9}
	// The hash's state after every word but the client's last (key order:
	// A = server, B = client; PortA = 80, PortB = port; proto TCP).
	h := uint64(layers.IPProtocolTCP)<<48 ^ uint64(HashFloodServer.Port())<<16 ^ port
	h = splitmix.Mix(h ^ binary.LittleEndian.Uint64(dst[0:]))
	h = splitmix.Mix(h ^ binary.LittleEndian.Uint64(src[0:]))
	h = splitmix.Mix(h ^ binary.LittleEndian.Uint64(dst[8:]))
	out := make([]netip.AddrPort, n)
	for i := range out {
		binary.LittleEndian.PutUint64(src[8:], splitmix.Unmix(splitmix.Unmix(uint64(i+1)<<32|hashFloodLow))^h)
		out[i] = netip.AddrPortFrom(netip.AddrFrom16(src), port)
	}
	return out
}

const hashFloodLow = 0x5eed5eed
