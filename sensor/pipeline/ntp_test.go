package pipeline

import (
	"net/netip"
	"strconv"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// Every NTP column tshark fills agrees with the sensor's packetsleuth.ntp
// event of that message (one per message, paired in time order within
// each capture): version, mode and stratum (tshark shows no stratum for
// modes 6 and 7). ipv4-fragmented-udp.pcap is left out: its reassembled
// datagram is the Malformed packet the MANIFEST describes (version 0,
// mode 0), which tshark calls NTP by its port and the sensor, judging by
// content, does not.
func TestNTPAgreesWithTshark(t *testing.T) {
	total, _ := messageRows(t, "ntp", "packetsleuth.ntp", map[string]bool{"ipv4-fragmented-udp.pcap": true},
		func(capture string, row map[string]string, ev map[string]any) (int, int) {
			return cells(t, capture, row, map[string]string{
				"ntp.flags.vn":   strconv.FormatInt(num(ev, "packetsleuth.ntp.version"), 10),
				"ntp.flags.mode": strconv.FormatInt(num(ev, "packetsleuth.ntp.mode_code"), 10),
				"ntp.stratum":    strconv.FormatInt(num(ev, "packetsleuth.ntp.stratum"), 10),
			})
		})
	if total < 200 {
		t.Errorf("only %d cells compared", total)
	}
}

// A monlist request (mode 7, MON_GETLIST_1) on a port that is not 123 is
// recognised by content and named.
func TestGeneratedNTPMonlist(t *testing.T) {
	monlist := []byte{0x17, 0x00, 0x03, 0x2a, 0, 0, 0, 0}
	pkts := []pcapgen.Packet{pcapgen.UDPDatagram(netip.MustParseAddrPort("203.0.113.9:40000"), netip.MustParseAddrPort("10.5.0.1:1123"), pcapgen.Epoch, monlist)}
	out, _ := replay(t, Config{Workers: 1}, writeFrames(t, "monlist.pcap", layers.LinkTypeEthernet, pcapgen.Frames(pkts, pcapgen.Ethernet)))
	evs := out.dataset("packetsleuth.ntp")
	if len(evs) != 1 || str(evs[0], "packetsleuth.ntp.opcode") != "mon_getlist_1" || str(evs[0], "packetsleuth.ntp.mode") != "private" {
		t.Fatalf("%v", evs)
	}
}
