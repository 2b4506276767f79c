package main

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// The evasion rules end to end: generated captures of each trick, replayed
// with the shipped rules, raise PS-EVA-001 (a RST its receiver drops),
// PS-EVA-002 (TCP bytes resent with other content) and PS-EVA-003 (IP
// fragments resent with other content); the same traffic without the trick
// (a valid RST, overlapping segments with the same bytes, fragments in
// order) raises none.
func TestEvasionCapturesRaiseTheEvasionRules(t *testing.T) {
	client, server := netip.MustParseAddrPort("203.0.113.9:49152"), netip.MustParseAddrPort("10.0.0.80:80")
	session := pcapgen.Frames(pcapgen.HTTPSession(client, server, pcapgen.Epoch), pcapgen.Ethernet)
	resegment := func(s pcapgen.Segmentation) []pcapgen.Frame {
		fr, err := pcapgen.Resegment(session, layers.LinkTypeEthernet, s, 1)
		if err != nil {
			t.Fatal(err)
		}
		return fr
	}
	reset := func(r pcapgen.Reset) []pcapgen.Frame {
		return pcapgen.Frames(pcapgen.ResetSession(client, server, pcapgen.Epoch, r), pcapgen.Ethernet)
	}
	src, dst := netip.MustParseAddrPort("198.51.100.66:40001"), netip.MustParseAddrPort("10.1.0.20:53")
	inOrder := []int{0, 1, 2}
	cases := []struct {
		name   string
		link   layers.LinkType
		frames []pcapgen.Frame
		want   []string
	}{
		{"rst-bad-md5", layers.LinkTypeEthernet, reset(pcapgen.ResetBadMD5), []string{"PS-EVA-001"}},
		{"rst-out-of-window", layers.LinkTypeEthernet, reset(pcapgen.ResetOutOfWindow), []string{"PS-EVA-001"}},
		{"rst-valid", layers.LinkTypeEthernet, reset(pcapgen.ResetValid), nil},
		{"tcp-conflicting", layers.LinkTypeEthernet, resegment(pcapgen.Conflicting), []string{"PS-EVA-002"}},
		{"tcp-overlapping-same-bytes", layers.LinkTypeEthernet, resegment(pcapgen.Overlapping), nil},
		{"http-clean", layers.LinkTypeEthernet, session, nil},
		{"frag-overlap", layers.LinkTypeRaw, pcapgen.Frames(pcapgen.OverlappingFragments(pcapgen.DNSQuery, pcapgen.Epoch), pcapgen.Raw), []string{"PS-EVA-003"}},
		{"frag-clean", layers.LinkTypeRaw, pcapgen.Frames(pcapgen.IPv4Fragments(src, dst, pcapgen.Epoch, pcapgen.DNSQuery, 16, inOrder), pcapgen.Raw), nil},
	}
	dir := t.TempDir()
	for _, c := range cases {
		path := filepath.Join(dir, c.name+".pcap")
		if err := pcapgen.Write(path, pcapgen.Capture{Name: c.name, Link: c.link, Frames: c.frames}); err != nil {
			t.Fatal(err)
		}
		for _, workers := range []string{"1", "2"} {
			out := filepath.Join(dir, c.name+"-"+workers+".ndjson")
			var stdout, stderr bytes.Buffer
			if rc := run([]string{"replay", "--quiet", "--workers", workers, "--out", out, path}, &stdout, &stderr); rc != 0 {
				t.Fatalf("%s: rc=%d %s", c.name, rc, stderr.String())
			}
			got, anomalies := alertsAndAnomalies(t, out)
			if !slices.Equal(got, c.want) {
				t.Errorf("%s (workers=%s): alerts %v, want %v (anomalies %v)", c.name, workers, got, c.want, anomalies)
			}
		}
	}
}

// alertsAndAnomalies reads an NDJSON output: the rules that alerted, once
// each, sorted, and the anomaly kinds reported.
func alertsAndAnomalies(t *testing.T, path string) (rules, kinds []string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var ev struct {
			Event        struct{ Kind, Dataset string }
			Rule         struct{ ID string }
			Packetsleuth struct{ Anomaly struct{ Kind string } }
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		switch {
		case ev.Event.Kind == "alert" && !slices.Contains(rules, ev.Rule.ID):
			rules = append(rules, ev.Rule.ID)
		case ev.Event.Dataset == "packetsleuth.anomaly":
			kinds = append(kinds, ev.Packetsleuth.Anomaly.Kind)
		}
	}
	slices.Sort(rules)
	return rules, kinds
}
