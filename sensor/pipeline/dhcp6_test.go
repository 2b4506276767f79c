package pipeline

import (
	"net/netip"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/parsers/dhcp"
)

// dhcp6Columns are the tshark fields compared with the DHCPv6 events.
var dhcp6Columns = []string{"frame.number", "dhcpv6.msgtype", "dhcpv6.xid", "dhcpv6.duid.bytes", "dhcpv6.duidllt.link_layer_addr",
	"dhcpv6.duidll.link_layer_addr", "dhcpv6.iaid", "dhcpv6.iaid.t1", "dhcpv6.iaid.t2", "dhcpv6.iaaddr.ip", "dhcpv6.iaaddr.valid_lifetime",
	"dhcpv6.iaaddr.pref_lifetime", "dhcpv6.iaprefix.pref_addr", "dhcpv6.iaprefix.pref_len", "dhcpv6.client_domain",
	"dhcpv6.vendorclass.data", "dhcpv6.status_code", "dhcpv6.linkaddr", "dhcpv6.peeraddr"}

// tsharkFields runs tshark over capture and returns one row per frame
// with the given fields (every occurrence, comma-separated).
func tsharkFields(t *testing.T, capture string, fields []string) []map[string]string {
	t.Helper()
	args := []string{"-r", capture, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out, err := exec.Command("tshark", args...).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var rows []map[string]string
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		row := map[string]string{}
		for i, c := range strings.Split(line, "\t") {
			if i < len(fields) && c != "" {
				row[fields[i]] = c
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// Every DHCPv6 column tshark decodes from the generated lifecycle capture
// (all message types, relayed messages, IA_NA and IA_PD, FQDN, vendor
// class, status) agrees with the sensor's event of that message. No
// shared capture holds DHCPv6, so the capture is generated and tshark's
// own decode of it is the truth.
//
// tshark lists every DUID of a message in dhcpv6.duid.bytes and the
// link-layer addresses per DUID type: the client's is the first DUID (the
// generator puts the client identifier first) and the address of that
// DUID's type. It prints the FQDN with its root dot, and a relayed
// message's types outermost first ("12,1").
func TestDHCP6AgreesWithTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed: its decode is the truth here")
	}
	capture := writeFrames(t, "dhcp6-lifecycle.pcap", layers.LinkTypeEthernet, pcapgen.Frames(pcapgen.DHCP6Lifecycle(pcapgen.Epoch), pcapgen.Ethernet))
	out, _ := replay(t, Config{Workers: 1}, capture)
	evs := out.dataset("packetsleuth.dhcp")
	sort.SliceStable(evs, func(i, j int) bool { return str(evs[i], "@timestamp") < str(evs[j], "@timestamp") })
	rows := tsharkFields(t, capture, dhcp6Columns)
	if len(evs) != len(rows) {
		t.Fatalf("%d DHCPv6 events, tshark %d messages", len(evs), len(rows))
	}
	first := func(s string) string { f, _, _ := strings.Cut(s, ","); return f }
	total, agree := 0, 0
	check := func(frame, col, want, got string) {
		total++
		if want == got {
			agree++
			return
		}
		t.Errorf("frame %s %s: tshark %q, sensor %q", frame, col, want, got)
	}
	for i, row := range rows {
		ev, frame := evs[i], row["frame.number"]
		check(frame, "network.protocol", "dhcpv6", str(ev, "network.protocol"))
		types := strings.Split(row["dhcpv6.msgtype"], ",")
		n, _ := strconv.Atoi(types[len(types)-1])
		check(frame, "dhcpv6.msgtype", dhcp.TypeName6(uint8(n)), str(ev, "packetsleuth.dhcp.message_type"))
		if len(types) > 1 {
			r, _ := strconv.Atoi(types[0])
			check(frame, "dhcpv6.msgtype (relay)", dhcp.TypeName6(uint8(r)), str(ev, "packetsleuth.dhcp.relay_type"))
		}
		check(frame, "dhcpv6.xid", row["dhcpv6.xid"], str(ev, "packetsleuth.dhcp.transaction_id"))
		duid := first(row["dhcpv6.duid.bytes"])
		check(frame, "dhcpv6.duid.bytes", duid, str(ev, "packetsleuth.dhcp.client_id"))
		mac := ""
		switch {
		case strings.HasPrefix(duid, "00010001"):
			mac = first(row["dhcpv6.duidllt.link_layer_addr"])
		case strings.HasPrefix(duid, "00030001"):
			mac = first(row["dhcpv6.duidll.link_layer_addr"])
		}
		check(frame, "client mac", mac, str(ev, "packetsleuth.dhcp.client_mac"))
		check(frame, "dhcpv6.iaid", first(row["dhcpv6.iaid"]), str(ev, "packetsleuth.dhcp.iaid"))
		for col, f := range map[string]string{"dhcpv6.iaid.t1": "renew_time", "dhcpv6.iaid.t2": "rebind_time"} {
			check(frame, col, strings.TrimPrefix(first(row[col]), "0"), numText(ev, "packetsleuth.dhcp."+f))
		}
		check(frame, "dhcpv6.iaaddr.ip", first(row["dhcpv6.iaaddr.ip"]), str(ev, "packetsleuth.dhcp.assigned_ip"))
		valid, pref := first(row["dhcpv6.iaaddr.valid_lifetime"]), first(row["dhcpv6.iaaddr.pref_lifetime"])
		if p, ok := row["dhcpv6.iaprefix.pref_addr"]; ok {
			check(frame, "dhcpv6.iaprefix", first(p)+"/"+first(row["dhcpv6.iaprefix.pref_len"]), str(ev, "packetsleuth.dhcp.delegated_prefix"))
		}
		if _, ok := row["dhcpv6.iaaddr.ip"]; ok {
			check(frame, "dhcpv6.iaaddr.valid_lifetime", strings.TrimPrefix(valid, "0"), numText(ev, "packetsleuth.dhcp.lease_time"))
			check(frame, "dhcpv6.iaaddr.pref_lifetime", strings.TrimPrefix(pref, "0"), numText(ev, "packetsleuth.dhcp.preferred_lifetime"))
		}
		check(frame, "dhcpv6.client_domain", strings.TrimSuffix(row["dhcpv6.client_domain"], "."), str(ev, "packetsleuth.dhcp.fqdn"))
		check(frame, "dhcpv6.vendorclass.data", row["dhcpv6.vendorclass.data"], str(ev, "packetsleuth.dhcp.vendor_class"))
		if s, ok := row["dhcpv6.status_code"]; ok {
			c, _ := strconv.Atoi(first(s))
			check(frame, "dhcpv6.status_code", dhcp.StatusName(uint16(c)), str(ev, "packetsleuth.dhcp.status"))
		}
		check(frame, "dhcpv6.linkaddr", row["dhcpv6.linkaddr"], str(ev, "packetsleuth.dhcp.relay_ip"))
		check(frame, "dhcpv6.peeraddr", row["dhcpv6.peeraddr"], str(ev, "packetsleuth.dhcp.relay_peer_ip"))
	}
	t.Logf("DHCPv6: %d of %d tshark cells agree (%.2f%%)", agree, total, 100*float64(agree)/float64(total))
	if total < 200 {
		t.Errorf("only %d cells compared", total)
	}
}

// numText is a numeric field as tshark prints it, "" when absent (0).
func numText(ev map[string]any, path string) string {
	if n := num(ev, path); n != 0 {
		return strconv.FormatInt(n, 10)
	}
	return ""
}

// DHCPv6 is recognised by content off ports 546/547; a message whose
// options are cut still gives its event with a note; a datagram that is
// not DHCPv6 on a DHCPv6 flow, and a relay without its relayed message,
// are counted parser errors; a datagram too short to tell is never
// detected.
func TestGeneratedDHCP6(t *testing.T) {
	client, server := netip.MustParseAddrPort("[2001:db8:9::20]:6546"), netip.MustParseAddrPort("[2001:db8:9::1]:6547")
	duid := pcapgen.DHCP6Option{Code: dhcp.Opt6ClientID, Value: pcapgen.DUIDLL([6]byte{2, 0, 0, 0, 0, 9})}
	sol := pcapgen.DHCP6Message(dhcp.V6Solicit, 0xabc, duid, pcapgen.ClientFQDN6(0, "evader.lab.example"))
	noInner := []byte{dhcp.V6RelayForw, 0}
	noInner = append(noInner, make([]byte, 32)...)
	short := netip.MustParseAddrPort("[2001:db8:9::30]:546")
	pkts := []pcapgen.Packet{
		pcapgen.UDPDatagram(client, server, pcapgen.Epoch, sol),
		pcapgen.UDPDatagram(client, server, pcapgen.Epoch.Add(1e6), sol[:len(sol)-4]),
		pcapgen.UDPDatagram(client, server, pcapgen.Epoch.Add(2e6), []byte("not dhcpv6 at all")),
		pcapgen.UDPDatagram(client, server, pcapgen.Epoch.Add(3e6), noInner),
		pcapgen.UDPDatagram(short, netip.MustParseAddrPort("[ff02::1:2]:547"), pcapgen.Epoch.Add(4e6), sol[:4]),
	}
	out, stats := replay(t, Config{Workers: 1}, writeFrames(t, "dhcp6-6547.pcap", layers.LinkTypeEthernet, pcapgen.Frames(pkts, pcapgen.Ethernet)))
	evs := out.dataset("packetsleuth.dhcp")
	if len(evs) != 2 {
		t.Fatalf("%d DHCP events, want 2", len(evs))
	}
	for i, ev := range evs {
		if str(ev, "network.protocol") != "dhcpv6" || str(ev, "packetsleuth.dhcp.message_type") != "solicit" ||
			str(ev, "packetsleuth.dhcp.client_mac") != "02:00:00:00:00:09" || str(ev, "packetsleuth.dhcp.duid_type") != "ll" {
			t.Errorf("event %d: %v", i, ev["packetsleuth"])
		}
	}
	if str(evs[0], "packetsleuth.dhcp.fqdn") != "evader.lab.example" || str(evs[0], "packetsleuth.dhcp.hostname") != "evader" {
		t.Errorf("fqdn %q hostname %q", str(evs[0], "packetsleuth.dhcp.fqdn"), str(evs[0], "packetsleuth.dhcp.hostname"))
	}
	if notes, _ := field(evs[1], "packetsleuth.notes").([]any); len(notes) != 1 || notes[0] != "dhcpv6.options_truncated" {
		t.Errorf("cut message notes %v", notes)
	}
	if n := stats.App.ParserErrors["dhcpv6"]; n != 3 {
		t.Errorf("%d DHCPv6 parser errors, want 3 (the cut message, the stray datagram, the empty relay)", n)
	}
	if n := stats.App.Detected["dhcpv6"]; n != 1 {
		t.Errorf("%d flows detected as DHCPv6, want 1 (4 bytes are too few to tell)", n)
	}
}
