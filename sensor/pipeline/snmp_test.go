package pipeline

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// Every SNMP column tshark fills agrees with the sensor's
// packetsleuth.snmp event of that message (one per message, paired in
// time order): version, v3 user name, PDU type and the OIDs of the
// bindings. The community is never stored (schemas.SNMP): tshark's
// community is compared with what the sensor keeps of it — its length,
// and whether it is a default one ("public" is, "[R0_C@cti!]" is not).
func TestSNMPAgreesWithTshark(t *testing.T) {
	versions := map[string]string{"1": "0", "2c": "1", "3": "3"}
	pdus := map[string]string{"get_request": "0", "get_next_request": "1", "response": "2", "set_request": "3", "trap": "4",
		"get_bulk_request": "5", "inform_request": "6", "snmpv2_trap": "7", "report": "8"}
	total, _ := messageRows(t, "snmp", "packetsleuth.snmp", nil, func(capture string, row map[string]string, ev map[string]any) (int, int) {
		var oids []string
		if l, ok := field(ev, "packetsleuth.snmp.oids").([]any); ok {
			for _, o := range l {
				oids = append(oids, o.(string))
			}
		}
		ver := versions[str(ev, "packetsleuth.snmp.version")]
		got := map[string]string{
			"snmp.msgUserName": str(ev, "packetsleuth.snmp.user"),
			"snmp.data":        pdus[str(ev, "packetsleuth.snmp.pdu_type")],
			"snmp.name":        strings.Join(oids, ","),
		}
		if ver == "3" {
			got["snmp.msgVersion"] = ver
		} else {
			got["snmp.version"] = ver
		}
		if c := row["snmp.community"]; c != "" {
			isDefault := c == "public" || c == "private"
			got["snmp.community"] = c
			if num(ev, "packetsleuth.snmp.community_length") != int64(len(c)) || field(ev, "packetsleuth.snmp.community_default") != map[bool]any{true: true, false: nil}[isDefault] {
				got["snmp.community"] = "length " + strconv.FormatInt(num(ev, "packetsleuth.snmp.community_length"), 10)
			}
		}
		return cells(t, capture, row, got)
	})
	if total < 1000 {
		t.Errorf("only %d cells compared", total)
	}
}

// SNMP on a port that is not 161 is recognised by content, and its
// community string is in no event, only its length and default flag.
func TestGeneratedSNMPAnyPort(t *testing.T) {
	get := pcapgen.SNMPv2cGet("s3cr3t-c0mmunity", []byte{0x2b, 6, 1, 2, 1, 1, 5, 0})
	pub := pcapgen.SNMPv2cGet("public", []byte{0x2b, 6, 1, 2, 1, 1, 1, 0})
	dst := netip.MustParseAddrPort("10.6.0.1:1161")
	pkts := []pcapgen.Packet{
		pcapgen.UDPDatagram(netip.MustParseAddrPort("10.6.0.9:40000"), dst, pcapgen.Epoch, get),
		pcapgen.UDPDatagram(netip.MustParseAddrPort("10.6.0.9:40001"), dst, pcapgen.Epoch.Add(time.Millisecond), pub),
	}
	out, _ := replay(t, Config{Workers: 1}, writeFrames(t, "snmp-1161.pcap", layers.LinkTypeEthernet, pcapgen.Frames(pkts, pcapgen.Ethernet)))
	evs := out.dataset("packetsleuth.snmp")
	if len(evs) != 2 {
		t.Fatalf("%d SNMP events", len(evs))
	}
	if num(evs[0], "packetsleuth.snmp.community_length") != 16 || field(evs[0], "packetsleuth.snmp.community_default") != nil ||
		field(evs[1], "packetsleuth.snmp.community_default") != true || str(evs[0], "packetsleuth.snmp.pdu_type") != "get_request" {
		t.Errorf("%v / %v", evs[0]["packetsleuth"], evs[1]["packetsleuth"])
	}
	for _, raw := range out.raw {
		if strings.Contains(string(raw), "s3cr3t") || strings.Contains(string(raw), `"public"`) {
			t.Errorf("community in an event: %s", raw)
		}
	}
}

// A datagram no sniffer knows does not blind its flow: a server drops
// one it cannot read, so a client may send junk before its protocol; the
// SNMP after it is parsed. A flow is left after app.udpSniffs (4) unknown
// datagrams.
func TestUDPJunkBeforeProtocol(t *testing.T) {
	get := pcapgen.SNMPv2cGet("public", []byte{0x2b, 6, 1, 2, 1, 1, 5, 0})
	junk := []byte("\x00not any protocol")
	dst := netip.MustParseAddrPort("10.6.0.1:1161")
	var pkts []pcapgen.Packet
	for i, n := range []int{1, 4} { // junk datagrams before the SNMP one
		src := netip.AddrPortFrom(netip.MustParseAddr("10.6.0.9"), uint16(40000+i))
		at := pcapgen.Epoch.Add(time.Duration(i) * time.Second)
		for k := range n {
			pkts = append(pkts, pcapgen.UDPDatagram(src, dst, at.Add(time.Duration(k)*time.Millisecond), junk))
		}
		pkts = append(pkts, pcapgen.UDPDatagram(src, dst, at.Add(10*time.Millisecond), get))
	}
	out, _ := replay(t, Config{Workers: 1}, writeFrames(t, "snmp-junk.pcap", layers.LinkTypeEthernet, pcapgen.Frames(pkts, pcapgen.Ethernet)))
	evs := out.dataset("packetsleuth.snmp")
	if len(evs) != 1 || num(evs[0], "source.port") != 40000 {
		t.Fatalf("%d SNMP events, want the one after a single junk datagram: %v", len(evs), evs)
	}
}
