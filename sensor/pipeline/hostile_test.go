package pipeline

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
)

// appEvents are the protocol events of a replay and the protocol of each
// flow, as comparable strings. Fields that legitimately change when the
// same bytes travel in other segments are left out: times, and the flow's
// packet and byte counts (flow events are reduced to their protocol).
func appEvents(t *testing.T, out *collector) []string {
	t.Helper()
	var got []string
	for _, ev := range out.events {
		ds := str(ev, "event.dataset")
		if ds == "packetsleuth.flow" {
			got = append(got, "flow "+str(ev, "network.community_id")+" "+str(ev, "network.protocol"))
			continue
		}
		if ds == "packetsleuth.anomaly" {
			continue
		}
		delete(ev, "@timestamp")
		if e, ok := ev["event"].(map[string]any); ok {
			for _, k := range []string{"start", "end", "duration", "id"} { // the id hashes the times
				delete(e, k)
			}
		}
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(b))
	}
	slices.Sort(got)
	return got
}

func writeFrames(t *testing.T, name string, link layers.LinkType, frames []pcapgen.Frame) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := pcapgen.Write(path, pcapgen.Capture{Name: name, Link: link, Frames: frames}); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkResegmented replays a clean capture and every hostile re-cut of it:
// the protocol events must be the same.
func checkResegmented(t *testing.T, name string, link layers.LinkType, frames []pcapgen.Frame, wantDataset string) {
	t.Helper()
	clean, _ := replay(t, Config{Workers: 1}, writeFrames(t, name, link, frames))
	if len(clean.dataset(wantDataset)) == 0 {
		t.Fatalf("%s: the clean capture gives no %s event", name, wantDataset)
	}
	want := appEvents(t, clean)
	for _, s := range pcapgen.Segmentations {
		hostile, err := pcapgen.Resegment(frames, link, s, 1)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := replay(t, Config{Workers: 1}, writeFrames(t, s.String()+"-"+name, link, hostile))
		if got := appEvents(t, out); !slices.Equal(got, want) {
			t.Errorf("%s %s (%d frames):\n got %s\nwant %s", name, s, len(hostile), strings.Join(got, "\n    "), strings.Join(want, "\n    "))
		}
	}
}

// Every TCP parser gives the same events however an evader cuts the
// segments: one byte each, shuffled, or overlapping with the same bytes.
func TestHostileSegmentationGeneratedHTTP(t *testing.T) {
	pkts := pcapgen.HTTPSession(netip.MustParseAddrPort("10.1.0.10:49152"), netip.MustParseAddrPort("192.0.2.80:80"), pcapgen.Epoch)
	checkResegmented(t, "http.pcap", layers.LinkTypeEthernet, pcapgen.Frames(pkts, pcapgen.Ethernet), "packetsleuth.http")
}

func TestHostileSegmentationSharedCaptures(t *testing.T) {
	needShared(t)
	for capture, dataset := range map[string]string{
		"http-get.pcap":                    "packetsleuth.http",
		"http-pipelined-keepalive.pcap":    "packetsleuth.http",
		"tls12-handshake-cert.pcap":        "packetsleuth.tls",
		"tls-ecdsa-cert.pcap":              "packetsleuth.tls",
		"dns-tcp.pcap":                     "packetsleuth.dns",
		"smb2-create-delete-on-close.pcap": "packetsleuth.smb",
		"krb-as-tgs-rc4-ticket.pcap":       "packetsleuth.kerberos",
		"dcerpc-drsuapi-kerberos.pcap":     "packetsleuth.dcerpc",
	} {
		t.Run(capture, func(t *testing.T) {
			f, err := os.Open(filepath.Join(sharedPcaps, capture))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			link, frames, err := pcapgen.ReadFrames(f)
			if err != nil {
				t.Fatal(err)
			}
			checkResegmented(t, capture, link, frames, dataset)
		})
	}
}

// A connection picked up mid-stream whose first packet came from the
// server: the flow table takes the server for the originator, the content
// (a whole request line) puts the client back where it belongs, on the
// protocol events and on the flow event alike.
func TestMidStreamDirectionByContent(t *testing.T) {
	client, server := netip.MustParseAddrPort("10.1.0.10:49152"), netip.MustParseAddrPort("192.0.2.80:80")
	c := pcapgen.NewTCPConn(client, server, pcapgen.Epoch)
	// The server's ACK is seen first; then the request, one byte per segment.
	c.Data(true, nil, 1).Data(true, pcapgen.HTTPRequest, 1).Data(false, pcapgen.HTTPResponse, 1460)
	out, _ := replay(t, Config{Workers: 1}, writeFrames(t, "midstream.pcap", layers.LinkTypeEthernet, pcapgen.Frames(c.Packets, pcapgen.Ethernet)))
	flows, evs := out.dataset("packetsleuth.flow"), out.dataset("packetsleuth.http")
	if len(flows) != 1 {
		t.Fatalf("%d flows, want 1", len(flows))
	}
	var fromClient, fromServer int64
	for _, p := range c.Packets {
		if p.Layers[1].(*layers.TCP).SrcPort != 80 {
			fromClient++
		} else {
			fromServer++
		}
	}
	fl := flows[0]
	if str(fl, "source.ip") != "10.1.0.10" || num(fl, "destination.port") != 80 || num(fl, "source.packets") != fromClient ||
		num(fl, "destination.packets") != fromServer || !strings.HasPrefix(str(fl, "packetsleuth.flow.history"), "^a") {
		t.Errorf("flow event should name the client as source, with its counters: %v", fl)
	}
	if len(evs) != 1 {
		t.Fatalf("%d HTTP events, want 1", len(evs))
	}
	ev := evs[0]
	if str(ev, "source.ip") != "10.1.0.10" || num(ev, "destination.port") != 80 || str(ev, "url.original") != "/index.html?q=packetsleuth" ||
		num(ev, "http.response.status_code") != 200 || num(ev, "url.port") != 0 && num(ev, "url.port") != 80 {
		t.Errorf("event %v", ev)
	}
}

// The shared MAPI capture starts a connection with the server's packets
// (192.168.0.184:1066 is the client of 64.12.137.56:80): its flow event
// names the client as its protocol events do.
func TestMidStreamSharedCaptureFlowFollowsContent(t *testing.T) {
	needShared(t)
	out, _ := replay(t, Config{Workers: 1}, filepath.Join(sharedPcaps, "dcerpc-mapi-exchange.pcap"))
	ofConn := func(ds string) (evs []map[string]any) {
		for _, ev := range out.dataset(ds) {
			if str(ev, "network.protocol") == "http" && (num(ev, "source.port") == 1066 || num(ev, "destination.port") == 1066) {
				evs = append(evs, ev)
			}
		}
		return evs
	}
	flows, evs := ofConn("packetsleuth.flow"), ofConn("packetsleuth.http")
	if len(flows) != 1 || len(evs) == 0 {
		t.Fatalf("%d flows, %d HTTP events of port 1066; want 1 and some", len(flows), len(evs))
	}
	fl := flows[0]
	if str(fl, "source.ip") != "192.168.0.184" || num(fl, "source.port") != 1066 || str(fl, "destination.ip") != "64.12.137.56" ||
		num(fl, "destination.port") != 80 || !strings.HasPrefix(str(fl, "packetsleuth.flow.history"), "^") {
		t.Errorf("flow %v", fl)
	}
	for _, ev := range evs {
		if str(ev, "source.ip") != str(fl, "source.ip") || num(ev, "source.port") != num(fl, "source.port") {
			t.Errorf("HTTP event from %s:%d, flow from %s:%d", str(ev, "source.ip"), num(ev, "source.port"), str(fl, "source.ip"), num(fl, "source.port"))
		}
	}
}

// A RST its receiver would drop (a bad MD5 signature, a sequence number
// outside the window) neither ends inspection nor the flow: the request
// sent after it gives its HTTP event, and the RST an anomaly. A valid RST
// still closes the stream.
func TestIgnoredResetKeepsInspecting(t *testing.T) {
	client, server := netip.MustParseAddrPort("10.1.0.10:49152"), netip.MustParseAddrPort("192.0.2.80:80")
	for _, r := range []pcapgen.Reset{pcapgen.ResetBadMD5, pcapgen.ResetOutOfWindow, pcapgen.ResetValid} {
		pkts := pcapgen.ResetSession(client, server, pcapgen.Epoch, r)
		out, _ := replay(t, Config{Workers: 1}, writeFrames(t, r.String()+".pcap", layers.LinkTypeEthernet, pcapgen.Frames(pkts, pcapgen.Ethernet)))
		var kinds []string
		for _, ev := range out.dataset("packetsleuth.anomaly") {
			kinds = append(kinds, str(ev, "packetsleuth.anomaly.kind"))
		}
		flows := out.dataset("packetsleuth.flow")
		if len(flows) != 1 {
			t.Fatalf("%s: %d flows", r, len(flows))
		}
		state, reason := str(flows[0], "packetsleuth.flow.state"), str(flows[0], "packetsleuth.flow.end_reason")
		http := len(out.dataset("packetsleuth.http"))
		if r == pcapgen.ResetValid {
			if http != 0 || len(kinds) != 0 || reason != "rst" {
				t.Errorf("%s: %d HTTP events, anomalies %v, flow %s/%s; want the RST to close", r, http, kinds, state, reason)
			}
			continue
		}
		if http != 1 || !slices.Equal(kinds, []string{"tcp.rst_ignored"}) || state != "SF" || reason != "fin" {
			t.Errorf("%s: %d HTTP events, anomalies %v, flow %s/%s; want the request inspected past the RST", r, http, kinds, state, reason)
			continue
		}
		// The analyst is told why, with the numbers: the RST is 1 MiB past
		// the client's next byte (1001 after the SYN), the server's window
		// 65,535 bytes rounded up to a power of two.
		want := map[pcapgen.Reset]string{
			pcapgen.ResetBadMD5:      "RST carries a TCP MD5 signature on a connection that signs nothing: the receiver drops it (RFC 2385)",
			pcapgen.ResetOutOfWindow: "RST sequence number 1049577 is 1048576 bytes past the sender's next (1001), outside the receiver's window of at most 65536 bytes: the receiver drops it (RFC 793)",
		}[r]
		if got := str(out.dataset("packetsleuth.anomaly")[0], "packetsleuth.anomaly.detail"); got != want {
			t.Errorf("%s: detail %q, want %q", r, got, want)
		}
	}
}

// TCP bytes sent twice with different content are an evasion signal: the
// flow gets a tcp.overlap_conflict anomaly (once, however many segments).
func TestOverlapConflictIsReported(t *testing.T) {
	pkts := pcapgen.HTTPSession(netip.MustParseAddrPort("10.1.0.10:49152"), netip.MustParseAddrPort("192.0.2.80:80"), pcapgen.Epoch)
	frames := pcapgen.Frames(pkts, pcapgen.Ethernet)
	for _, s := range []pcapgen.Segmentation{pcapgen.Conflicting, pcapgen.Overlapping} {
		hostile, err := pcapgen.Resegment(frames, layers.LinkTypeEthernet, s, 1)
		if err != nil {
			t.Fatal(err)
		}
		out, st := replay(t, Config{Workers: 1}, writeFrames(t, s.String()+".pcap", layers.LinkTypeEthernet, hostile))
		var kinds []string
		for _, ev := range out.dataset("packetsleuth.anomaly") {
			kinds = append(kinds, str(ev, "packetsleuth.anomaly.kind"))
		}
		want := []string(nil)
		if s == pcapgen.Conflicting {
			want = []string{"tcp.overlap_conflict"}
		}
		if !slices.Equal(kinds, want) || st.App.Anomalies.Seen[anomaly.OverlapConflict] != st.App.Reassembly.Conflicts {
			t.Errorf("%s: anomalies %v, want %v (%d conflicts, %d seen)", s, kinds, want, st.App.Reassembly.Conflicts, st.App.Anomalies.Seen[anomaly.OverlapConflict])
		}
	}
}

// Holes skipped for lack of room are reported on the flow.
func TestReassemblyLimitIsReported(t *testing.T) {
	pkts := pcapgen.HTTPSession(netip.MustParseAddrPort("10.1.0.10:49152"), netip.MustParseAddrPort("192.0.2.80:80"), pcapgen.Epoch)
	hostile, err := pcapgen.Resegment(pcapgen.Frames(pkts, pcapgen.Ethernet), layers.LinkTypeEthernet, pcapgen.Reordered, 1)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Workers: 1}
	cfg.App.Reassembly.MaxSegmentsPerDir = 2 // shuffled 3-byte pieces need more
	out, st := replay(t, cfg, writeFrames(t, "reordered.pcap", layers.LinkTypeEthernet, hostile))
	var kinds []string
	for _, ev := range out.dataset("packetsleuth.anomaly") {
		kinds = append(kinds, str(ev, "packetsleuth.anomaly.kind"))
	}
	if !slices.Contains(kinds, "limit.reassembly") || st.App.Reassembly.ConnCapHits == 0 {
		t.Errorf("anomalies %v, cap hits %d", kinds, st.App.Reassembly.ConnCapHits)
	}
}

// A retransmission of delivered TCP bytes with other content is a
// conflict, with one worker or two, whether the first copy is still in its
// mapped capture file or in a file that has ended (what the reassembler
// remembered of it was hashed before it closed); the same bytes again are
// none.
func TestRetransmitAcrossFiles(t *testing.T) {
	frames := pcapgen.Frames(pcapgen.HTTPSession(netip.MustParseAddrPort("10.1.0.10:49152"), netip.MustParseAddrPort("192.0.2.80:80"), pcapgen.Epoch), pcapgen.Ethernet)
	i := slices.IndexFunc(frames, func(fr pcapgen.Frame) bool {
		tcp, _ := gopacket.NewPacket(fr.Data, layers.LayerTypeEthernet, gopacket.Default).Layer(layers.LayerTypeTCP).(*layers.TCP)
		return tcp != nil && len(tcp.Payload) > 0
	})
	if i < 0 {
		t.Fatal("no data segment in the session")
	}
	for _, workers := range []int{1, 2} {
		for _, change := range []bool{false, true} {
			again := pcapgen.Frame{Time: frames[i].Time, Data: slices.Clone(frames[i].Data)}
			if change {
				again.Data[len(again.Data)-1] ^= 0x20 // the last payload byte
			}
			one := append(slices.Clone(frames[:i+1]), again)
			one = append(one, frames[i+1:]...)
			for _, files := range [][]string{
				{writeFrames(t, "one.pcap", layers.LinkTypeEthernet, one)},
				{writeFrames(t, "first.pcap", layers.LinkTypeEthernet, frames[:i+1]), writeFrames(t, "second.pcap", layers.LinkTypeEthernet, one[i+1:])},
			} {
				_, st := replay(t, Config{Workers: workers}, files...)
				want := uint64(0)
				if change {
					want = 1
				}
				if st.App.Reassembly.Conflicts != want || st.App.Reassembly.RetransBytes == 0 {
					t.Errorf("%d workers, %d files, other bytes %v: %d conflicts (want %d), %d bytes retransmitted", workers, len(files), change, st.App.Reassembly.Conflicts, want, st.App.Reassembly.RetransBytes)
				}
			}
		}
	}
}
