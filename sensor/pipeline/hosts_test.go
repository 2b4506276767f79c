package pipeline

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
	"github.com/packetsleuth/packetsleuth/sensor/hosts"
)

// A DHCPv4 DORA (the REQUEST names the host, the ACK does not) and the
// DHCPv6 lifecycle, then traffic of both leased addresses: the events of
// that traffic carry the host's name and MAC (source.domain, source.mac,
// destination.* for answers, related.hosts), the ACK and REPLY events say
// what the table took (packetsleuth.dhcp.lease), and traffic after the
// DHCPv6 RELEASE is not named.
func TestHostTableNamesLaterEvents(t *testing.T) {
	mac := [6]byte{0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42}
	leased := netip.MustParseAddr("192.168.0.10")
	client, server := netip.MustParseAddrPort("0.0.0.0:68"), netip.MustParseAddrPort("192.168.0.1:67")
	bcast := netip.MustParseAddrPort("255.255.255.255:68")
	opt := func(code uint8, v string) pcapgen.DHCPOption { return pcapgen.DHCPOption{Code: code, Value: []byte(v)} }
	t0 := pcapgen.Epoch
	pkts := []pcapgen.Packet{
		pcapgen.UDPDatagram(client, netip.MustParseAddrPort("255.255.255.255:67"), t0,
			pcapgen.DHCPMessage(1, 0x3d1e, mac, netip.Addr{}, opt(53, "\x03"), opt(12, "laptop-7"), opt(50, string(leased.AsSlice())))),
		pcapgen.UDPDatagram(server, bcast, t0.Add(time.Millisecond),
			pcapgen.DHCPMessage(2, 0x3d1e, mac, leased, opt(53, "\x05"), opt(54, "\xc0\xa8\x00\x01"), opt(51, "\x00\x00\x0e\x10"))),
	}
	v6 := pcapgen.DHCP6Lifecycle(t0.Add(time.Second))
	release := v6[len(v6)-1] // at t0+14s
	pkts = append(pkts, v6[:len(v6)-1]...)
	pkts = append(pkts, pcapgen.UDPExchange(netip.AddrPortFrom(leased, 40000), netip.MustParseAddrPort("192.0.2.53:53"), t0.Add(10*time.Second), []byte("q"), []byte("a"))...)
	pkts = append(pkts, pcapgen.UDPExchange(netip.MustParseAddrPort("[2001:db8:5::7]:5000"), netip.AddrPortFrom(pcapgen.DHCP6Leased, 7000), t0.Add(12*time.Second), []byte("x"), []byte("y"))...)
	pkts = append(pkts, release)
	pkts = append(pkts, pcapgen.UDPExchange(netip.AddrPortFrom(pcapgen.DHCP6Leased, 7001), netip.MustParseAddrPort("[2001:db8::99]:7002"), t0.Add(2*time.Minute), []byte("z"), []byte("w"))...)
	path := writeFrames(t, "dhcp-then-traffic.pcap", layers.LinkTypeEthernet, pcapgen.Frames(pkts, pcapgen.Ethernet))

	b := budget.New(0)
	tab := hosts.New(hosts.Config{}, b)
	out, _ := replay(t, Config{Workers: 1, Hosts: tab, Budget: b}, path)
	named := map[string]map[string]any{}
	for _, ev := range out.dataset("packetsleuth.flow") {
		named[str(ev, "source.ip")+">"+str(ev, "destination.ip")] = ev
	}
	for key, want := range map[string][3]string{ // which end, domain, mac
		"192.168.0.10>192.0.2.53":        {"source", "laptop-7", "00-0B-82-01-FC-42"},
		"2001:db8:5::7>2001:db8:0:1::1a": {"destination", "ws42.corp.example", "90-B1-1C-99-49-29"},
		"2001:db8:0:1::1a>2001:db8::99":  {"", "", ""}, // after the RELEASE
		"192.168.0.1>255.255.255.255":    {"", "", ""},
	} {
		ev := named[key]
		if ev == nil {
			t.Errorf("no flow %s", key)
			continue
		}
		if want[0] == "" {
			if d := str(ev, "source.domain") + str(ev, "destination.domain"); d != "" {
				t.Errorf("%s named %q", key, d)
			}
			continue
		}
		if got := str(ev, want[0]+".domain"); got != want[1] {
			t.Errorf("%s %s.domain %q, want %q", key, want[0], got, want[1])
		}
		// Generated frames carry their own MACs: the frame's is kept on
		// flow events; the lease's MAC shows where the event has none.
		if hosts, _ := field(ev, "related.hosts").([]any); len(hosts) != 1 || hosts[0] != want[1] {
			t.Errorf("%s related.hosts %v", key, hosts)
		}
	}
	var acks int
	for _, ev := range out.dataset("packetsleuth.dhcp") {
		switch str(ev, "packetsleuth.dhcp.lease.action") {
		case "assigned":
			acks++
			if str(ev, "packetsleuth.dhcp.message_type") == "ack" &&
				(str(ev, "packetsleuth.dhcp.lease.hostname") != "laptop-7" || str(ev, "packetsleuth.dhcp.lease.mac") != "00-0B-82-01-FC-42" ||
					str(ev, "packetsleuth.dhcp.lease.end") != t0.Add(time.Millisecond+time.Hour).UTC().Format(time.RFC3339Nano)) {
				t.Errorf("ack lease %v", field(ev, "packetsleuth.dhcp.lease"))
			}
		case "released":
			if str(ev, "packetsleuth.dhcp.lease.ip") != "2001:db8:0:1::1a" {
				t.Errorf("released %v", field(ev, "packetsleuth.dhcp.lease"))
			}
		}
	}
	if acks != 3 { // the v4 ACK, the v6 REPLYs to REQUEST and RENEW (the REBIND one delegates a prefix only)
		t.Errorf("%d lease-granting events, want 3", acks)
	}
	if s := tab.Stats(); s.Released != 1 || s.Enriched == 0 {
		t.Errorf("table stats %+v", s)
	}
	if b.Stats().Pools[budget.Hosts].Used == 0 {
		t.Error("the table drew nothing on the budget")
	}
	// The named events (source/destination.domain and .mac, the lease
	// object of the DHCP events) pass the official ECS check.
	check := "../../../shared/tools/ecs_check.py"
	if _, err := os.Stat(check); err != nil {
		t.Skip("../shared/tools/ecs_check.py is not beside the repository")
	}
	nd := filepath.Join(t.TempDir(), "named.ndjson")
	if err := os.WriteFile(nd, append(bytes.Join(out.raw, []byte("\n")), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	if res, err := exec.Command("python3", check, "--custom", "packetsleuth", nd).CombinedOutput(); err != nil || !strings.Contains(string(res), " 0 with problems") {
		t.Errorf("ecs_check: %v\n%s", err, res)
	}
}

// A lease that finds the table full is not kept: counted, and reported
// as a limit.hosts anomaly; the events of its address stay unnamed.
func TestHostTableFull(t *testing.T) {
	opt := func(code uint8, v string) pcapgen.DHCPOption { return pcapgen.DHCPOption{Code: code, Value: []byte(v)} }
	server, bcast := netip.MustParseAddrPort("10.1.0.1:67"), netip.MustParseAddrPort("255.255.255.255:68")
	var pkts []pcapgen.Packet
	for i, ip := range []string{"10.1.0.10", "10.1.0.11"} {
		mac := [6]byte{2, 0, 0, 0, 0, byte(i)}
		pkts = append(pkts, pcapgen.UDPDatagram(server, bcast, pcapgen.Epoch.Add(time.Duration(i)*time.Second),
			pcapgen.DHCPMessage(2, uint32(i), mac, netip.MustParseAddr(ip), opt(53, "\x05"), opt(51, "\x00\x00\x0e\x10"), opt(12, "h"))))
	}
	pkts = append(pkts, pcapgen.UDPExchange(netip.MustParseAddrPort("10.1.0.11:5000"), netip.MustParseAddrPort("192.0.2.9:80"), pcapgen.Epoch.Add(5*time.Second), []byte("a"), []byte("b"))...)
	tab := hosts.New(hosts.Config{MaxEntries: 1}, nil)
	out, st := replay(t, Config{Workers: 1, Hosts: tab}, writeFrames(t, "dhcp-full.pcap", layers.LinkTypeEthernet, pcapgen.Frames(pkts, pcapgen.Ethernet)))
	if s := tab.Stats(); s.Learned != 1 || s.Refused != 1 || s.Leases != 1 {
		t.Errorf("table %+v", s)
	}
	var limits int
	for _, ev := range out.dataset("packetsleuth.anomaly") {
		if str(ev, "packetsleuth.anomaly.kind") == "limit.hosts" {
			limits++
		}
	}
	if limits != 1 || st.App.Anomalies.Seen[anomaly.HostLimit] != 1 {
		t.Errorf("%d limit.hosts anomaly events, %d counted; want 1", limits, st.App.Anomalies.Seen[anomaly.HostLimit])
	}
	for _, ev := range out.dataset("packetsleuth.flow") {
		if str(ev, "source.ip") == "10.1.0.11" && str(ev, "source.domain") != "" {
			t.Errorf("the refused lease named %v", ev["source"])
		}
	}
}
