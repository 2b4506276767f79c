package pipeline

import (
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/rules"
)

// A tunnel's pings (random data, 512 bytes a message) and a Linux
// ping -s 1000 (a counting pattern: high byte entropy, none in its
// differences) from the same host to two others; a port unreachable about
// a UDP flow of the capture. The echo figures, the quoted flow's link and
// the shipped ICMP rules follow: PS-ICMP-001 fires on the tunnel only.
func TestGeneratedICMP(t *testing.T) {
	host := netip.MustParseAddr("10.4.0.5")
	tunnel, pinged := netip.MustParseAddr("198.51.100.44"), netip.MustParseAddr("198.51.100.45")
	var pkts []pcapgen.Packet
	pattern := make([]byte, 1000)
	for i := range pattern {
		pattern[i] = byte(i + 8)
	}
	for i := range 6 {
		at := pcapgen.Epoch.Add(time.Duration(i) * time.Second)
		pkts = append(pkts, pcapgen.ICMPEchoData(host, tunnel, at, uint16(i), noise(i, 512), noise(100+i, 512))...)
		pkts = append(pkts, pcapgen.ICMPEchoData(host, pinged, at.Add(time.Millisecond), uint16(i), pattern, pattern)...)
	}
	router := netip.MustParseAddr("10.4.0.1")
	pkts = append(pkts, pcapgen.UDPExchange(netip.AddrPortFrom(host, 5353), netip.AddrPortFrom(router, 9), pcapgen.Epoch, []byte("x"), nil)[0])
	pkts = append(pkts, pcapgen.ICMPUnreachable(router, host, pcapgen.Epoch.Add(time.Millisecond)))
	set, errs := rules.LoadDefault()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	out, _ := replay(t, Config{Workers: 1, NewDetector: func() Detector { return rules.NewEvaluator(set, rules.EvalOptions{}) }},
		writeFrames(t, "icmp.pcap", layers.LinkTypeEthernet, pcapgen.Frames(pkts, pcapgen.Ethernet)))

	byPeer, ids := map[string]map[string]any{}, map[string]bool{}
	for _, ev := range out.dataset("packetsleuth.flow") {
		byPeer[str(ev, "network.transport")+" "+str(ev, "destination.ip")] = ev
		ids[str(ev, "network.community_id")] = true
	}
	x := func(ev map[string]any, f string) float64 {
		v, _ := field(ev, "packetsleuth.flow.icmp."+f).(float64)
		return v
	}
	tun, ping := byPeer["icmp "+tunnel.String()], byPeer["icmp "+pinged.String()]
	if tun == nil || x(tun, "echo_messages") != 12 || x(tun, "echo_payload_max") != 512 || x(tun, "echo_payload_bytes") != 12*512 ||
		x(tun, "echo_payload_entropy") < 7 {
		t.Errorf("tunnel: %v", field(tun, "packetsleuth.flow.icmp"))
	}
	if ping == nil || x(ping, "echo_payload_max") != 1000 || x(ping, "echo_payload_entropy") > 1 {
		t.Errorf("ping: %v", field(ping, "packetsleuth.flow.icmp"))
	}
	unreach := byPeer["icmp "+host.String()]
	if id := str(unreach, "packetsleuth.flow.icmp.original_community_id"); id == "" || !ids[id] ||
		str(unreach, "packetsleuth.flow.icmp.code_name") != "port_unreachable" || x(unreach, "original_destination_port") != 9 {
		t.Errorf("unreachable: %v (flows %v)", field(unreach, "packetsleuth.flow.icmp"), ids)
	}
	var fired []string
	for _, a := range out.dataset("packetsleuth.alert") {
		if id := str(a, "rule.id"); id == "PS-ICMP-001" || id == "PS-ICMP-002" {
			fired = append(fired, id+" "+str(a, "destination.ip"))
		}
	}
	if !slices.Equal(fired, []string{"PS-ICMP-001 " + tunnel.String()}) {
		t.Errorf("alerts %v", fired)
	}
}

// noise is n random-looking bytes (SHA-256 blocks seeded by seed).
func noise(seed, n int) []byte {
	var out []byte
	for i := 0; len(out) < n; i++ {
		s := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(seed)<<32|uint64(i)))
		out = append(out, s[:]...)
	}
	return out[:n]
}
