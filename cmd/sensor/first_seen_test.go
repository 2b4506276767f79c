package main

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// PS-FILE-002 end to end on the sensor's own first-seen state
// (enrich.first_seen: window 24h, warm-up 1h): an executable fetched two
// hours after the sensor began observing, from a domain it had never seen,
// raises it; the same download when the domain was seen at the start, or
// during the warm-up, does not. With a state file the table outlives the
// process: a second replay needs no new warm-up.
func TestFirstSeenDomainRaisesPSFILE002(t *testing.T) {
	dir := t.TempDir()
	client, web := netip.MustParseAddrPort("10.0.0.5:50000"), netip.MustParseAddrPort("198.51.100.80:80")
	fileClient := netip.MustParseAddrPort("10.0.0.5:51000")
	later := pcapgen.Epoch.Add(2 * time.Hour)
	capture := func(name string, pkts ...[]pcapgen.Packet) string {
		path := filepath.Join(dir, name+".pcap")
		if err := pcapgen.Write(path, pcapgen.Capture{Name: name, Link: layers.LinkTypeEthernet, Frames: pcapgen.Frames(slices.Concat(pkts...), pcapgen.Ethernet)}); err != nil {
			t.Fatal(err)
		}
		return path
	}
	browse := pcapgen.HTTPSession(client, web, pcapgen.Epoch) // www.example.com
	seenEarly := pcapgen.HTTPFileTransfers(fileClient, web, pcapgen.Epoch)
	download := pcapgen.HTTPFileTransfers(fileClient, web, later) // files.example.net: invoice.pdf.exe, a PE
	config := func(file string) string {
		p := filepath.Join(dir, fmt.Sprintf("sensor-%d.yaml", len(file)))
		y := "enrich:\n  first_seen:\n    window: 24h\n    warmup: 1h\n"
		if file != "" {
			y += "    file: " + file + "\n"
		}
		if err := os.WriteFile(p, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	replay := func(cfg, pcap string) ([]string, string) {
		out := pcap + fmt.Sprint(time.Now().UnixNano()) + ".ndjson"
		var stdout, stderr bytes.Buffer
		if rc := run([]string{"replay", "--quiet", "--workers", "1", "--config", cfg, "--out", out, pcap}, &stdout, &stderr); rc != 0 {
			t.Fatalf("rc=%d %s", rc, stderr.String())
		}
		alerts, _ := alertsAndAnomalies(t, out)
		raw, _ := os.ReadFile(out)
		return alerts, string(raw)
	}
	noFile := config("")
	for _, tc := range []struct {
		name string
		pcap string
		want bool
	}{
		{"new domain after the warm-up", capture("new", browse, download), true},
		{"domain seen at the start", capture("known", browse, seenEarly, download), false},
		{"download during the warm-up", capture("warmup", seenEarly), false},
	} {
		alerts, raw := replay(noFile, tc.pcap)
		if got := slices.Contains(alerts, "PS-FILE-002"); got != tc.want {
			t.Errorf("%s: alerts %v", tc.name, alerts)
		}
		if !strings.Contains(raw, `"domain":{"name":"example.net","first_seen":"`) {
			t.Errorf("%s: no packetsleuth.domain on the events", tc.name)
		}
	}

	// Persisted: the first replay only browses (and starts the table), the
	// second, a new process, downloads two hours later.
	state := filepath.Join(dir, "first_seen.json")
	withFile := config(state)
	if alerts, _ := replay(withFile, capture("browse", browse)); slices.Contains(alerts, "PS-FILE-002") {
		t.Fatal("alert while browsing")
	}
	if fi, err := os.Stat(state); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v", fi, err)
	}
	only := capture("download-only", download)
	if alerts, _ := replay(withFile, only); !slices.Contains(alerts, "PS-FILE-002") {
		t.Errorf("after a restart with the state file: alerts %v", alerts)
	}
	if alerts, _ := replay(noFile, only); slices.Contains(alerts, "PS-FILE-002") {
		t.Errorf("without the state file the download is inside a new warm-up: alerts %v", alerts)
	}
}
