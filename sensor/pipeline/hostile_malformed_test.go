package pipeline

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
)

// A frame the decoder refuses is an anomaly event (it was counted, then
// dropped): its kind says why, and it names what was read of the frame —
// hosts, ports, transport, its length on the wire. The same with several
// workers, and the valid traffic after it is analysed as before.
func TestMalformedFramesAreReported(t *testing.T) {
	cases := pcapgen.MalformedFrames(pcapgen.Epoch)
	var frames []pcapgen.Frame
	for _, c := range cases {
		frames = append(frames, c.Frame)
	}
	http := pcapgen.Frames(pcapgen.HTTPSession(netip.MustParseAddrPort("10.0.0.1:1234"), netip.MustParseAddrPort("10.0.0.2:80"), pcapgen.Epoch.Add(time.Second)), pcapgen.Ethernet)
	path := writeFrames(t, "malformed", layers.LinkTypeEthernet, append(frames, http...))
	for _, workers := range []int{1, 2, 3} {
		out, st := replay(t, Config{Workers: workers}, path)
		if n := len(out.dataset("packetsleuth.http")); n != 1 {
			t.Errorf("workers=%d: %d HTTP events, want 1", workers, n)
		}
		got := map[string]map[string]any{}
		for _, ev := range out.dataset("packetsleuth.anomaly") {
			got[str(ev, "packetsleuth.anomaly.kind")] = ev
		}
		reported := map[string]bool{}
		for _, c := range cases {
			ev := got[c.Kind]
			if ev == nil {
				t.Errorf("workers=%d: %s: no %s event", workers, c.Name, c.Kind)
				continue
			}
			if reported[c.Kind] { // a second frame of the kind from the same hosts: held back
				if seen := st.App.Anomalies.Seen[kindNamed(t, c.Kind)]; seen != 2 {
					t.Errorf("workers=%d: %s: %d of the kind seen, want 2", workers, c.Name, seen)
				}
				continue
			}
			reported[c.Kind] = true
			wantSrc, wantPort := "", int64(0)
			if c.Hosts {
				wantSrc = str(ev, "source.ip") // IPv4 or IPv6: checked below
				if wantSrc != pcapgen.MalformedSender.Addr().String() && wantSrc != "2001:db8::23" {
					t.Errorf("workers=%d: %s: source.ip %q", workers, c.Name, wantSrc)
				}
			}
			if c.Ports {
				wantPort = int64(pcapgen.MalformedSender.Port())
			}
			if src := str(ev, "source.ip"); src != wantSrc || num(ev, "source.port") != wantPort ||
				(c.Hosts && str(ev, "network.transport") == "") ||
				num(ev, "network.bytes") != int64(len(c.Frame.Data)) || str(ev, "packetsleuth.anomaly.layer") != "decode" ||
				str(ev, "packetsleuth.anomaly.detail") == "" || (str(ev, "source.mac") == "") != (len(c.Frame.Data) < 14) {
				t.Errorf("workers=%d: %s: event %v", workers, c.Name, ev)
			}
		}
		if n := len(out.dataset("packetsleuth.anomaly")); n != len(reported) {
			t.Errorf("workers=%d: %d anomaly events, want %d", workers, n, len(reported))
		}
		if sumErrors(st) != uint64(len(cases)) {
			t.Errorf("workers=%d: decode errors %v, want %d", workers, st.Decode.Errors, len(cases))
		}
	}
}

func sumErrors(st Stats) uint64 {
	var n uint64
	for _, e := range st.Decode.Errors {
		n += e
	}
	return n
}

func kindNamed(t *testing.T, name string) anomaly.Kind {
	for k := range anomaly.NumKinds {
		if k.String() == name {
			return k
		}
	}
	t.Fatalf("no anomaly kind %q", name)
	return 0
}

// A flood of one malformation between two hosts gives one event a minute
// (each carrying the count held back since the last), and the flood of
// other senders one event each, within the kind's rate; the same with
// several workers.
func TestMalformedFloodLimitedPerPair(t *testing.T) {
	var bad pcapgen.MalformedFrame
	for _, c := range pcapgen.MalformedFrames(pcapgen.Epoch) {
		if c.Name == "udp-length-below-header" {
			bad = c
		}
	}
	var frames []pcapgen.Frame
	for i := range 600 { // one pair, every 250 ms for 150 s
		frames = append(frames, pcapgen.Frame{Time: pcapgen.Epoch.Add(time.Duration(i) * 250 * time.Millisecond), Data: bad.Frame.Data})
	}
	for i := range 10 { // ten other senders, each twice, in second 200
		data := slices.Clone(bad.Frame.Data)
		data[14+15] = byte(100 + i) // the last byte of the IPv4 source
		for range 2 {
			frames = append(frames, pcapgen.Frame{Time: pcapgen.Epoch.Add(200*time.Second + time.Duration(i)*time.Millisecond), Data: data})
		}
	}
	path := writeFrames(t, "malformed-flood", layers.LinkTypeEthernet, frames)
	var want []string
	for _, workers := range []int{1, 2, 3} {
		out, st := replay(t, Config{Workers: workers}, path)
		var got []string
		for _, ev := range out.dataset("packetsleuth.anomaly") {
			got = append(got, fmt.Sprintf("%s %s %s %d", str(ev, "@timestamp"), str(ev, "source.ip"), str(ev, "packetsleuth.anomaly.kind"), num(ev, "packetsleuth.anomaly.suppressed")))
		}
		if seen := st.App.Anomalies.Seen[anomaly.UDPBadLength]; seen != 620 || len(got) != 13 {
			t.Fatalf("workers=%d: %d seen, events %v; want 620 seen, 13 events (3 of one pair, 10 of others)", workers, seen, got)
		}
		if workers == 1 {
			want = got
			if second := pcapgen.Epoch.Add(time.Minute).UTC().Format(time.RFC3339) + " 198.51.100.23 decode.udp_bad_length 239"; got[1] != second {
				t.Errorf("the pair's second event: %q", got[1])
			}
			continue
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("workers=%d: events %v, want %v", workers, got, want)
		}
	}
}

// A length field that claims more than a frame captured whole holds is
// reported on the packet's flow, which is analysed as before.
func TestLyingLengthsReportedOnTheirFlow(t *testing.T) {
	cases := pcapgen.LyingLengths(pcapgen.Epoch)
	var frames []pcapgen.Frame
	for _, c := range cases {
		frames = append(frames, c.Frame, c.Frame) // twice: one event per flow
	}
	path := writeFrames(t, "lying-lengths", layers.LinkTypeEthernet, frames)
	for _, workers := range []int{1, 2} {
		out, _ := replay(t, Config{Workers: workers}, path)
		flows := map[string]bool{}
		for _, ev := range out.dataset("packetsleuth.flow") {
			flows[str(ev, "network.community_id")] = true
		}
		var kinds []string
		for _, ev := range out.dataset("packetsleuth.anomaly") {
			kinds = append(kinds, str(ev, "packetsleuth.anomaly.kind"))
			if !flows[str(ev, "network.community_id")] {
				t.Errorf("workers=%d: %s event not on a flow: %v", workers, str(ev, "packetsleuth.anomaly.kind"), ev)
			}
		}
		slices.Sort(kinds)
		if want := []string{"decode.ipv4_bad_length", "decode.ipv6_bad_length", "decode.udp_bad_length"}; len(flows) != 3 || !slices.Equal(kinds, want) {
			t.Errorf("workers=%d: %d flows, anomalies %v; want 3 flows and %v", workers, len(flows), kinds, want)
		}
	}
}
