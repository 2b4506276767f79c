package pipeline

import (
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// The same HTTP session framed every way the decoder knows must give the
// same flow: same endpoints, packets and Community ID.
func TestEveryFramingGivesTheSameFlow(t *testing.T) {
	var want map[string]any
	for _, name := range []string{"http-ethernet.pcap", "http-ethernet.pcap.gz", "http-qinq.pcap", "http-sll.pcap", "http-sll2.pcap", "http-null.pcap", "http-rawip.pcap"} {
		out, _ := replay(t, Config{}, filepath.Join(ownPcaps, name))
		flows := out.dataset("packetsleuth.flow")
		if len(flows) != 1 {
			t.Fatalf("%s: %d flow events, want 1", name, len(flows))
		}
		ev := flows[0]
		if str(ev, "packetsleuth.flow.state") != "SF" || num(ev, "network.packets") != 10 || str(ev, "source.ip") != "10.1.0.10" || num(ev, "destination.port") != 80 {
			t.Errorf("%s: unexpected flow %v", name, ev)
		}
		if want == nil {
			want = ev
			continue
		}
		if str(ev, "network.community_id") != str(want, "network.community_id") {
			t.Errorf("%s: community_id %s, want %s", name, str(ev, "network.community_id"), str(want, "network.community_id"))
		}
	}
	out, _ := replay(t, Config{}, filepath.Join(ownPcaps, "http-qinq.pcap"))
	if ev := out.dataset("packetsleuth.flow")[0]; str(ev, "network.vlan.id") != "100" || str(ev, "network.inner.vlan.id") != "200" {
		t.Errorf("QinQ ids: %v %v", field(ev, "network.vlan"), field(ev, "network.inner"))
	}
}

func TestTunnelsKeepInnerFlowAndOuterAddresses(t *testing.T) {
	for name, typ := range map[string]string{"tunnel-gre.pcap": "gre", "tunnel-vxlan.pcap": "vxlan", "tunnel-erspan.pcap": "gre"} {
		out, st := replay(t, Config{}, filepath.Join(ownPcaps, name))
		flows := out.dataset("packetsleuth.flow")
		if len(flows) != 1 {
			t.Fatalf("%s: %d flow events", name, len(flows))
		}
		ev := flows[0]
		if num(ev, "destination.port") != 53 || str(ev, "packetsleuth.tunnel.source_ip") != "198.18.0.1" || str(ev, "packetsleuth.tunnel.type") != typ {
			t.Errorf("%s: %v / %v", name, field(ev, "destination"), field(ev, "packetsleuth.tunnel"))
		}
		if st.Decode.Tunnelled != 2 {
			t.Errorf("%s: tunnelled=%d", name, st.Decode.Tunnelled)
		}
	}
}

func TestFragmentsAreReassembled(t *testing.T) {
	out, st := replay(t, Config{}, filepath.Join(ownPcaps, "fragments.pcap"))
	if st.Decode.Reassembled != 2 || st.Decode.FragTimeouts != 0 {
		t.Errorf("reassembled=%d timeouts=%d", st.Decode.Reassembled, st.Decode.FragTimeouts)
	}
	for _, ev := range out.events {
		// 3000 bytes of payload + 8 of UDP header arrive whole.
		if num(ev, "destination.port") != 7001 && num(ev, "destination.port") != 7003 {
			t.Errorf("unexpected flow %v", field(ev, "destination"))
		}
	}
	if len(out.events) != 2 {
		t.Errorf("%d flows, want the two complete datagrams", len(out.events))
	}
}

func TestPcapngInterfacesWithTheirLinkTypes(t *testing.T) {
	out, _ := replay(t, Config{}, filepath.Join(ownPcaps, "multi-interface.pcapng"))
	ports := map[int64]bool{}
	for _, ev := range out.dataset("packetsleuth.flow") {
		ports[num(ev, "destination.port")] = true
	}
	if !ports[80] || !ports[53] {
		t.Errorf("flows on ports %v, want 80 (Ethernet) and 53 (raw IP)", ports)
	}
}

func TestBPFFiltersFiles(t *testing.T) {
	out, st := replay(t, Config{BPF: "udp"}, filepath.Join(ownPcaps, "tcp-states.pcap"))
	if len(out.events) != 1 || str(out.events[0], "network.transport") != "udp" || st.Filtered == 0 {
		t.Errorf("events=%d filtered=%d", len(out.events), st.Filtered)
	}
}

// A DNS query left unanswered is emitted once its 10 s (packet time) are up,
// even while the flow goes on.
func TestUnansweredDNSQueryTimesOut(t *testing.T) {
	client, server := netip.MustParseAddrPort("10.1.0.10:53001"), netip.MustParseAddrPort("10.1.0.53:53")
	q2 := append([]byte(nil), pcapgen.DNSQuery...)
	q2[0], q2[1] = 0x43, 0x21 // another id
	r2 := append([]byte(nil), pcapgen.DNSResponse...)
	r2[0], r2[1] = 0x43, 0x21
	lost := pcapgen.UDPExchange(client, server, pcapgen.Epoch, pcapgen.DNSQuery, nil)[:1]
	later := pcapgen.UDPExchange(client, server, pcapgen.Epoch.Add(15*time.Second), q2, r2)
	path := filepath.Join(t.TempDir(), "dns-timeout.pcap")
	c := pcapgen.Capture{Link: layers.LinkTypeEthernet, Frames: pcapgen.Frames(append(lost, later...), pcapgen.Ethernet)}
	if err := pcapgen.Write(path, c); err != nil {
		t.Fatal(err)
	}
	out, _ := replay(t, Config{}, path)
	dns := out.dataset("packetsleuth.dns")
	if len(dns) != 2 {
		t.Fatalf("%d DNS events, want 2", len(dns))
	}
	if str(dns[0], "dns.id") != "4660" || str(dns[0], "dns.type") != "query" || str(dns[1], "dns.type") != "answer" {
		t.Errorf("first event %v (want the unanswered query 4660), second %v", field(dns[0], "dns"), field(dns[1], "dns"))
	}
}
