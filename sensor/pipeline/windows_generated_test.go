package pipeline

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// datasetOf replays frames and returns the events of dataset.
func datasetOf(t *testing.T, name, dataset string, frames []pcapgen.Frame) []map[string]any {
	t.Helper()
	out, _ := replay(t, Config{Workers: 1}, writeFrames(t, name, layers.LinkTypeEthernet, frames))
	return out.dataset(dataset)
}

// A Kerberoasting TGS exchange over TCP (records spanning segments) and a
// DCSync (a DRSUAPI request in three fragments, its answer in two) on a
// dynamic port are recognised by content, give the events they hold, and
// the same events however an evader cuts the segments: one byte each,
// reordered, overlapping.
func TestGeneratedKerberosAndDCERPCResegmented(t *testing.T) {
	for _, tc := range []struct {
		name, dataset string
		pkts          []pcapgen.Packet
		n             int // events
		want          map[string]any
	}{
		{"kerberoast", "packetsleuth.kerberos",
			pcapgen.KerberoastSession(netip.MustParseAddrPort("10.1.0.10:50088"), netip.MustParseAddrPort("10.1.0.2:88"), pcapgen.Epoch), 1,
			map[string]any{"packetsleuth.kerberos.request": "TGS-REQ", "packetsleuth.kerberos.response": "TGS-REP",
				"packetsleuth.kerberos.client": "alice@CORP.LOCAL", "packetsleuth.kerberos.service": "MSSQLSvc/db1.corp.local",
				"packetsleuth.kerberos.ticket_etype": int64(23), "network.protocol": "kerberos"}},
		{"kerberos-on-8888", "packetsleuth.kerberos",
			pcapgen.KerberoastSession(netip.MustParseAddrPort("10.1.0.10:50089"), netip.MustParseAddrPort("10.1.0.2:8888"), pcapgen.Epoch), 1,
			map[string]any{"packetsleuth.kerberos.request": "TGS-REQ", "packetsleuth.kerberos.ticket_cipher": "rc4-hmac"}},
		{"dcsync", "packetsleuth.dcerpc", // bind, DRSBind, then DRSGetNCChanges
			pcapgen.DCSyncSession(netip.MustParseAddrPort("10.1.0.10:50100"), netip.MustParseAddrPort("10.1.0.2:49667"), pcapgen.Epoch), 3,
			map[string]any{"packetsleuth.dcerpc.operation": "DRSGetNCChanges", "packetsleuth.dcerpc.interface.name": "drsuapi",
				"packetsleuth.dcerpc.request_fragments": int64(3), "packetsleuth.dcerpc.response_fragments": int64(2), "event.outcome": "success"}},
	} {
		frames := pcapgen.Frames(tc.pkts, pcapgen.Ethernet)
		evs := datasetOf(t, tc.name+".pcap", tc.dataset, frames)
		if len(evs) != tc.n {
			t.Fatalf("%s: %d events, want %d", tc.name, len(evs), tc.n)
		}
		checkFields(t, tc.name, evs[tc.n-1], tc.want)
		checkResegmented(t, tc.name+".pcap", layers.LinkTypeEthernet, frames, tc.dataset)
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
