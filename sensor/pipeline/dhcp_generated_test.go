package pipeline

import (
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// DHCP is recognised by content on ports that are not 67/68, options
// continued in the file and sname fields (option 52) are read, a message
// whose option list is cut still gives its event with a note, and a
// datagram that is not DHCP on a DHCP flow is a counted parser error.
func TestGeneratedDHCP(t *testing.T) {
	mac := [6]byte{2, 0, 0, 0, 0, 9}
	client, server := netip.MustParseAddrPort("10.9.0.20:6868"), netip.MustParseAddrPort("10.9.0.1:6767")
	opt := func(code uint8, v string) pcapgen.DHCPOption { return pcapgen.DHCPOption{Code: code, Value: []byte(v)} }
	offer := pcapgen.DHCPOverloaded(2, 0xabc, mac, netip.MustParseAddr("10.9.0.20"),
		[]pcapgen.DHCPOption{opt(53, "\x02"), opt(54, "\x0a\x09\x00\x01")},
		[]pcapgen.DHCPOption{opt(51, "\x00\x00\x0e\x10"), opt(15, "lab.example")},
		[]pcapgen.DHCPOption{opt(3, "\x0a\x09\x00\xfe")})
	request := pcapgen.DHCPMessage(1, 0xabc, mac, netip.Addr{}, opt(53, "\x03"), opt(12, "evader"), opt(55, "\x01\x03\x06\x0f"))
	cut := request[:len(request)-3] // inside option 55
	pkts := []pcapgen.Packet{
		pcapgen.UDPDatagram(client, server, pcapgen.Epoch, request),
		pcapgen.UDPDatagram(server, client, pcapgen.Epoch.Add(1e6), offer),
		pcapgen.UDPDatagram(client, server, pcapgen.Epoch.Add(2e6), cut),
		pcapgen.UDPDatagram(client, server, pcapgen.Epoch.Add(3e6), []byte("not dhcp at all")),
	}
	out, stats := replay(t, Config{Workers: 1}, writeFrames(t, "dhcp-6767.pcap", layers.LinkTypeEthernet, pcapgen.Frames(pkts, pcapgen.Ethernet)))
	evs := out.dataset("packetsleuth.dhcp")
	if len(evs) != 3 {
		t.Fatalf("%d DHCP events, want 3", len(evs))
	}
	for i, want := range []map[string]any{
		{"packetsleuth.dhcp.message_type": "request", "packetsleuth.dhcp.hostname": "evader", "packetsleuth.dhcp.fingerprint": "1,3,6,15",
			"packetsleuth.dhcp.client_mac": "02:00:00:00:00:09", "packetsleuth.dhcp.transaction_id": "0x00000abc", "network.protocol": "dhcp"},
		{"packetsleuth.dhcp.message_type": "offer", "packetsleuth.dhcp.server_id": "10.9.0.1", "packetsleuth.dhcp.assigned_ip": "10.9.0.20",
			"packetsleuth.dhcp.lease_time": float64(3600), "packetsleuth.dhcp.domain": "lab.example", "packetsleuth.dhcp.router": "10.9.0.254",
			"packetsleuth.dhcp.overloaded": true},
		{"packetsleuth.dhcp.message_type": "request", "packetsleuth.dhcp.hostname": "evader", "packetsleuth.dhcp.fingerprint": nil,
			"packetsleuth.notes": []any{"dhcp.options_truncated"}},
	} {
		for k, v := range want {
			got := field(evs[i], k)
			if l, ok := v.([]any); ok {
				if g, _ := got.([]any); len(g) != len(l) || g[0] != l[0] {
					t.Errorf("event %d %s = %v, want %v", i, k, got, v)
				}
				continue
			}
			if got != v {
				t.Errorf("event %d %s = %v, want %v", i, k, got, v)
			}
		}
	}
	if n := stats.App.ParserErrors["dhcp"]; n != 2 {
		t.Errorf("%d DHCP parser errors, want 2 (the cut message and the stray datagram)", n)
	}
}
