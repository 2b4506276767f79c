package pipeline

import (
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Every DHCP column tshark fills on the shared captures agrees with the
// sensor's packetsleuth.dhcp event of that message (one event per
// message). Rows and events are paired in time order per transaction id
// and message type, since dhcp-dora-option-overload.pcap holds each
// message twice.
//
// tshark's dhcp.hw.mac_addr lists the client MAC a second time when
// option 61 (client identifier) is a hardware address: the first value is
// chaddr, the one compared. dhcp.ip.your 0.0.0.0 is the sensor's absent
// assigned_ip. pcapng-custom-blocks-le.pcapng cuts every DHCP frame at a
// 96- or 128-byte snapshot length, within the fixed header: tshark shows
// the xid of the cut header; the sensor recognises DHCP by the magic
// cookie at bytes 236-239, which these frames lack, so that file is not
// compared.
func TestDHCPAgreesWithTshark(t *testing.T) {
	needShared(t)
	truths, _ := filepath.Glob(filepath.Join(sharedPcaps, "truth", "dhcp-*.dhcp.tsv"))
	if len(truths) == 0 {
		t.Fatal("no DHCP truth tables")
	}
	types := []string{"", "discover", "offer", "request", "decline", "ack", "nak", "release", "inform"}
	total, agree := 0, 0
	for _, truthPath := range truths {
		capture := strings.TrimSuffix(filepath.Base(truthPath), ".dhcp.tsv")
		out, _ := replay(t, Config{}, filepath.Join(sharedPcaps, capture))
		evs := out.dataset("packetsleuth.dhcp")
		sort.SliceStable(evs, func(i, j int) bool { return str(evs[i], "@timestamp") < str(evs[j], "@timestamp") })
		queue := map[string][]map[string]any{}
		for _, ev := range evs {
			k := str(ev, "packetsleuth.dhcp.transaction_id") + " " + str(ev, "packetsleuth.dhcp.message_type")
			queue[k] = append(queue[k], ev)
		}
		rows := readTSV(t, truthPath)
		sort.SliceStable(rows, func(i, j int) bool { return rows[i]["frame.time_epoch"] < rows[j]["frame.time_epoch"] })
		if len(evs) != len(rows) {
			t.Errorf("%s: %d DHCP events, tshark %d messages", capture, len(evs), len(rows))
		}
		for _, row := range rows {
			n, _ := strconv.Atoi(row["dhcp.option.dhcp"])
			k := row["dhcp.id"] + " " + types[n]
			var ev map[string]any
			if q := queue[k]; len(q) > 0 {
				ev, queue[k] = q[0], q[1:]
			}
			for col, field := range map[string]string{
				"dhcp.option.dhcp":                 "message_type",
				"dhcp.id":                          "transaction_id",
				"dhcp.hw.mac_addr":                 "client_mac",
				"dhcp.ip.your":                     "assigned_ip",
				"dhcp.option.requested_ip_address": "requested_ip",
				"dhcp.option.hostname":             "hostname",
				"dhcp.option.vendor_class_id":      "vendor_class",
			} {
				want := row[col]
				switch col {
				case "dhcp.option.dhcp":
					want = types[n]
				case "dhcp.hw.mac_addr":
					want, _, _ = strings.Cut(want, ",")
				case "dhcp.ip.your":
					want = strings.TrimPrefix(want, "0.0.0.0")
				}
				if _, ok := row[col]; !ok {
					continue
				}
				total++
				got := str(ev, "packetsleuth.dhcp."+field)
				if got == want {
					agree++
					continue
				}
				t.Errorf("%s frame %s %s: tshark %q, sensor %q", capture, row["frame.number"], col, want, got)
			}
		}
	}
	t.Logf("DHCP: %d of %d tshark cells agree (%.2f%%)", agree, total, 100*float64(agree)/float64(total))
	if total < 100 {
		t.Errorf("only %d cells compared", total)
	}
}
