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
	phttp "github.com/packetsleuth/packetsleuth/parsers/http"
)

// http.decode_bodies turns body decoding on; without it, and without the
// files layer (which needs the decoded bytes), a compressed body is
// counted on the wire and its event says it was not decoded.
func TestHTTPDecodeBodiesKey(t *testing.T) {
	cfg, err := loadConfig("../../sensor.yaml.example")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.HTTP.parser(); got != (phttp.Config{MaxDecoded: 10 << 20, MaxDecoders: 64}) {
		t.Errorf("example http: %+v", got)
	}
	dir := t.TempDir()
	pcap := filepath.Join(dir, "gzip.pcap")
	body := pcapgen.GzipBody(50000)
	pkts := pcapgen.ConcurrentGzip(1, netip.MustParseAddrPort("192.0.2.80:80"), pcapgen.Epoch, body)
	if err := pcapgen.Write(pcap, pcapgen.Capture{Link: layers.LinkTypeEthernet, Frames: pcapgen.Frames(pkts, pcapgen.Ethernet)}); err != nil {
		t.Fatal(err)
	}
	on := filepath.Join(dir, "on.yaml")
	os.WriteFile(on, []byte("http:\n  decode_bodies: true\n  max_decoded: 40000\nfiles:\n  enabled: false\n"), 0o644)
	off := filepath.Join(dir, "off.yaml")
	os.WriteFile(off, []byte("files:\n  enabled: false\n"), 0o644)
	forFiles := filepath.Join(dir, "files.yaml")
	os.WriteFile(forFiles, []byte("http:\n  max_decoded: 40000\n"), 0o644)
	for _, k := range []struct {
		args    []string
		decoded float64
		note    string
	}{
		{[]string{"--config", off}, 0, phttp.NoteDecodeSkipped},
		{[]string{"--config", on}, 40000, phttp.NoteDecodeLimit},
		{[]string{"--config", forFiles}, 40000, phttp.NoteDecodeLimit}, // files on by default: decoded for them
	} {
		out := filepath.Join(dir, "events.ndjson")
		var stdout, stderr bytes.Buffer
		if rc := run(append(append([]string{"replay", "--no-rules", "--out", out}, k.args...), pcap), &stdout, &stderr); rc != 0 {
			t.Fatalf("rc=%d: %s", rc, stderr.String())
		}
		raw, _ := os.ReadFile(out)
		var ev struct {
			Sensor struct {
				HTTP  map[string]any `json:"http"`
				Notes []string       `json:"notes"`
			} `json:"packetsleuth"`
		}
		for line := range strings.SplitSeq(string(raw), "\n") {
			if strings.Contains(line, `"dataset":"packetsleuth.http"`) {
				json.Unmarshal([]byte(line), &ev)
			}
		}
		got, _ := ev.Sensor.HTTP["response_body_decoded_bytes"].(float64)
		if got != k.decoded || !slices.Contains(ev.Sensor.Notes, k.note) {
			t.Errorf("%v: decoded %v, notes %v", k.args, got, ev.Sensor.Notes)
		}
	}
}

// A negative max_decoded is an error with its line.
func TestHTTPMaxDecodedNegative(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sensor.yaml")
	os.WriteFile(path, []byte("workers: 1\nhttp:\n  max_decoded: -1\n"), 0o644)
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"config", "check", "--config", path}, &stdout, &stderr); rc != 1 || !strings.Contains(stderr.String(), "line 3") ||
		!strings.Contains(stderr.String(), "max_decoded") {
		t.Errorf("rc=%d: %s", rc, stderr.String())
	}
}
