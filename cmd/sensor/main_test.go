package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

func TestReplayWritesEventsAndSummary(t *testing.T) {
	out := filepath.Join(t.TempDir(), "events.ndjson")
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"replay", "--out", out, "../../testdata/pcaps"}, &stdout, &stderr); rc != 0 {
		t.Fatalf("rc=%d: %s", rc, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Count(string(b), "\n")
	for _, want := range []string{"replay: 15 file(s)", "events: packetsleuth.dns", "packetsleuth.flow 21", "packetsleuth.http"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, stderr.String())
		}
	}
	if lines < 21 {
		t.Errorf("%d events written", lines)
	}
}

func TestReplayExitStatus(t *testing.T) {
	var stdout, stderr bytes.Buffer
	empty := filepath.Join(t.TempDir(), "empty.pcap")
	os.WriteFile(empty, []byte("not a capture"), 0o644)
	if rc := run([]string{"replay", "--quiet", "--out", "-", empty}, &stdout, &stderr); rc != 1 || !strings.Contains(stderr.String(), "not a pcap or pcapng file") {
		t.Errorf("rc=%d stderr=%s", rc, stderr.String())
	}
	stderr.Reset()
	bad := filepath.Join(t.TempDir(), "sensor.yaml")
	os.WriteFile(bad, []byte("workers: 2\nworkerz: 3\n"), 0o644)
	if rc := run([]string{"replay", "--config", bad, "x.pcap"}, &stdout, &stderr); rc != 2 || !strings.Contains(stderr.String(), "line 2") {
		t.Errorf("bad config: rc=%d stderr=%s", rc, stderr.String())
	}
	stderr.Reset()
	if rc := run([]string{"replay", "--out", "-", "--bpf", "tcp port", "x.pcap"}, &stdout, &stderr); rc != 2 {
		t.Errorf("bad BPF: rc=%d", rc)
	}
}

// A record longer than its packet does not end the replay: every frame is
// read and the summary counts the record.
func TestReplaySummaryCountsClampedRecords(t *testing.T) {
	var c pcapgen.Capture
	for _, k := range pcapgen.Catalogue() {
		if k.Name == "http-ethernet.pcap" {
			c = k
		}
	}
	b, err := pcapgen.CapOverOrig(c, 3)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "caplen.pcap")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"replay", "--out", "-", path}, &stdout, &stderr); rc != 0 {
		t.Fatalf("rc=%d: %s", rc, stderr.String())
	}
	for _, want := range []string{"10 frames", "records longer than their packet: 1", "packetsleuth.http 1"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, stderr.String())
		}
	}
	if strings.Contains(stderr.String(), "stopped early") {
		t.Errorf("the replay stopped:\n%s", stderr.String())
	}
}

// DNS messages that do not parse are counted by protocol in the summary,
// and each exchange still gives its DNS event.
func TestReplaySummaryCountsParserErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dns-hostile.pcap")
	if err := pcapgen.Write(path, pcapgen.HostileDNS()); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"replay", "--out", "-", path}, &stdout, &stderr); rc != 0 {
		t.Fatalf("rc=%d: %s", rc, stderr.String())
	}
	for _, want := range []string{fmt.Sprintf("parser errors: dns %d", pcapgen.HostileDNSBadMessages()),
		fmt.Sprintf("packetsleuth.dns %d", len(pcapgen.HostileDNSCases()))} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, stderr.String())
		}
	}
}
