package pipeline

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// eventsOf replays frames and returns the events of dataset, as JSON
// without the fields that depend on packet times (a re-cut capture spreads
// its pieces in time).
func eventsOf(t *testing.T, name, dataset string, frames []pcapgen.Frame) []string {
	t.Helper()
	out, _ := replay(t, Config{Workers: 1}, writeFrames(t, name, layers.LinkTypeEthernet, frames))
	var evs []string
	for _, ev := range out.dataset(dataset) {
		delete(ev, "@timestamp")
		e := ev["event"].(map[string]any)
		for _, k := range []string{"id", "start", "end", "duration"} {
			delete(e, k)
		}
		b, _ := json.Marshal(ev)
		evs = append(evs, string(b))
	}
	return evs
}

// A Kerberoasting TGS exchange over TCP (records spanning segments) and a
// DCSync (a DRSUAPI request in three fragments, its answer in two) on a
// dynamic port are recognised by content and give the same events however
// an evader cuts the segments: one byte each, reordered, overlapping.
func TestGeneratedKerberosAndDCERPCResegmented(t *testing.T) {
	for _, tc := range []struct {
		name, dataset string
		pkts          []pcapgen.Packet
		want          map[string]any
	}{
		{"kerberoast", "packetsleuth.kerberos",
			pcapgen.KerberoastSession(netip.MustParseAddrPort("10.1.0.10:50088"), netip.MustParseAddrPort("10.1.0.2:88"), pcapgen.Epoch),
			map[string]any{"packetsleuth.kerberos.request": "TGS-REQ", "packetsleuth.kerberos.response": "TGS-REP",
				"packetsleuth.kerberos.client": "alice@CORP.LOCAL", "packetsleuth.kerberos.service": "MSSQLSvc/db1.corp.local",
				"packetsleuth.kerberos.ticket_etype": int64(23), "network.protocol": "kerberos"}},
		{"kerberos-on-8888", "packetsleuth.kerberos",
			pcapgen.KerberoastSession(netip.MustParseAddrPort("10.1.0.10:50089"), netip.MustParseAddrPort("10.1.0.2:8888"), pcapgen.Epoch),
			map[string]any{"packetsleuth.kerberos.request": "TGS-REQ", "packetsleuth.kerberos.ticket_cipher": "rc4-hmac"}},
		{"dcsync", "packetsleuth.dcerpc",
			pcapgen.DCSyncSession(netip.MustParseAddrPort("10.1.0.10:50100"), netip.MustParseAddrPort("10.1.0.2:49667"), pcapgen.Epoch),
			nil},
	} {
		frames := pcapgen.Frames(tc.pkts, pcapgen.Ethernet)
		want := eventsOf(t, tc.name+".pcap", tc.dataset, frames)
		if tc.dataset == "packetsleuth.dcerpc" {
			if len(want) != 3 {
				t.Fatalf("%s: %d events, want bind, DRSBind, DRSGetNCChanges: %v", tc.name, len(want), want)
			}
			var ev map[string]any
			_ = json.Unmarshal([]byte(want[2]), &ev)
			tc.want = map[string]any{"packetsleuth.dcerpc.operation": "DRSGetNCChanges", "packetsleuth.dcerpc.interface.name": "drsuapi",
				"packetsleuth.dcerpc.request_fragments": int64(3), "packetsleuth.dcerpc.response_fragments": int64(2), "event.outcome": "success"}
			checkFields(t, tc.name, ev, tc.want)
		} else {
			if len(want) != 1 {
				t.Fatalf("%s: %d events", tc.name, len(want))
			}
			var ev map[string]any
			_ = json.Unmarshal([]byte(want[0]), &ev)
			checkFields(t, tc.name, ev, tc.want)
		}
		for _, s := range pcapgen.Segmentations {
			hostile, err := pcapgen.Resegment(frames, layers.LinkTypeEthernet, s, 1)
			if err != nil {
				t.Fatal(err)
			}
			got := eventsOf(t, s.String()+"-"+tc.name+".pcap", tc.dataset, hostile)
			if len(got) != len(want) {
				t.Fatalf("%s %s: %d events, want %d", tc.name, s, len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("%s %s event %d:\n got %s\nwant %s", tc.name, s, i, got[i], want[i])
				}
			}
		}
	}
}

func checkFields(t *testing.T, name string, ev map[string]any, want map[string]any) {
	t.Helper()
	for path, w := range want {
		got := field(ev, path)
		if f, ok := got.(float64); ok {
			got = int64(f)
		}
		if got != w {
			t.Errorf("%s: %s = %v, want %v", name, path, got, w)
		}
	}
}

// A DCE/RPC connection picked up after its bind does not show itself by
// content; once the endpoint mapper has announced its endpoint, it is
// parsed as DCE/RPC all the same.
func TestEndpointMapperAnnouncesDynamicPort(t *testing.T) {
	client, mapper := netip.MustParseAddrPort("10.1.0.10:50135"), netip.MustParseAddrPort("10.1.0.2:135")
	dynamic := netip.MustParseAddrPort("10.1.0.2:49667")
	mid := pcapgen.DCERPCMidStream(netip.MustParseAddrPort("10.1.0.10:50200"), dynamic, pcapgen.Epoch.Add(time.Second))
	calls := func(name string, pkts []pcapgen.Packet) (onDynamic int, announced []any) {
		out, _ := replay(t, Config{Workers: 1}, writeFrames(t, name, layers.LinkTypeEthernet, pcapgen.Frames(pkts, pcapgen.Ethernet)))
		for _, ev := range out.dataset("packetsleuth.dcerpc") {
			if num(ev, "destination.port") == 49667 {
				onDynamic++
			}
			if eps, ok := field(ev, "packetsleuth.dcerpc.endpoints").([]any); ok {
				announced = append(announced, eps...)
			}
		}
		return onDynamic, announced
	}
	if n, _ := calls("midstream.pcap", mid); n != 0 {
		t.Fatalf("without the announcement, %d calls on the dynamic port", n)
	}
	pkts := append(pcapgen.EndpointMapperSession(client, mapper, pcapgen.Epoch, pcapgen.DRSUAPI, dynamic), mid...)
	n, eps := calls("epm-then-midstream.pcap", pkts)
	if n != 2 {
		t.Errorf("after the announcement, %d calls on the dynamic port, want 2", n)
	}
	want := map[string]any{"uuid": pcapgen.DRSUAPI, "name": "drsuapi", "transport": "tcp", "ip": "10.1.0.2", "port": float64(49667)}
	if len(eps) != 1 || fmt.Sprint(eps[0]) != fmt.Sprint(want) {
		t.Errorf("endpoints %v, want %v", eps, want)
	}
}
