package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/sensor/pcapindex"
)

// ringDiskBytes sums the sizes of the files in dir. A listing is not a
// snapshot: a file removed after the listing and another grown before its
// size is read would both count, so a sum is taken only when a second
// listing names the same files; ok is false when they changed.
func ringDiskBytes(dir string) (n int64, ok bool) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if info, err := e.Info(); err == nil {
			n += info.Size()
		}
	}
	again, _ := os.ReadDir(dir)
	if len(again) != len(ents) {
		return 0, false
	}
	for i := range ents {
		if again[i].Name() != ents[i].Name() {
			return 0, false
		}
	}
	return n, true
}

// pcapFrames reads the frames' bytes of a classic pcap file.
func pcapFrames(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		data, _, err := r.ReadPacketData()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, data)
	}
}

// A long live run over a veth pair into a small packet ring: the ring
// never holds more than max_bytes (sampled while tcpreplay sends 24 MB),
// removes its oldest files (counted in the summary), and a flow carved out
// of the ring by sensor carve equals the same flow carved out of the
// capture tcpreplay sent.
func TestLivePcapRing(t *testing.T) {
	needLive(t, "ip", "tcpreplay")
	tmp := t.TempDir()
	capture := filepath.Join(tmp, "mix.pcap")
	f, err := os.Create(capture)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pcapgen.WriteMix(f, 24<<20, 3); err != nil {
		t.Fatal(err)
	}
	f.Close()
	ringDir := filepath.Join(tmp, "ring")
	const maxBytes = 4 << 20
	conf := filepath.Join(tmp, "sensor.yaml")
	if err := os.WriteFile(conf, fmt.Appendf(nil, "capture:\n  pcap_ring:\n    dir: %s\n    max_bytes: 4MiB\n", ringDir), 0o600); err != nil {
		t.Fatal(err)
	}

	nsA, ifA, nsB, ifB := vethPair(t)
	s := startSensor(t, nsB, "--config", conf, "-i", ifB, "--engine", "afpacket", "--no-rules", "--flows-only", "--log-level", "info")
	var peak atomic.Int64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if n, ok := ringDiskBytes(ringDir); ok {
				peak.Store(max(peak.Load(), n))
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	out, err := exec.Command("ip", "netns", "exec", nsA, "tcpreplay", "-i", ifA, "--mbps", "40", capture).CombinedOutput()
	if err != nil {
		t.Fatalf("tcpreplay: %v\n%s", err, out)
	}
	time.Sleep(500 * time.Millisecond)
	s.stop(t)
	close(stopSampling)
	<-sampled
	summary := s.stderr.String()
	if t.Failed() {
		return
	}
	if p := peak.Load(); p > maxBytes || p == 0 {
		t.Errorf("the ring held up to %d bytes, budget %d", p, maxBytes)
	}
	if got, _ := ringDiskBytes(ringDir); got > maxBytes {
		t.Errorf("the ring holds %d bytes after the run, budget %d", got, maxBytes)
	}
	line := ""
	for _, l := range strings.Split(summary, "\n") {
		if strings.Contains(l, "pcap ring:") {
			line = l
		}
	}
	var frames, files, removed, qfull int
	if _, err := fmt.Sscanf(strings.TrimSpace(line), "pcap ring: %d frames", &frames); err != nil {
		t.Fatalf("no ring summary line: %q\n%s", line, summary)
	}
	fmt.Sscanf(line[strings.Index(line, "closed")-12:], "%d file(s) closed, %d removed", &files, &removed)
	fmt.Sscanf(line[strings.Index(line, "queue full"):], "queue full %d", &qfull)
	t.Logf("%s (peak on disk %d bytes)", strings.TrimSpace(line), peak.Load())
	if removed == 0 || !strings.Contains(summary, "removed the oldest files") {
		t.Errorf("no file removed from 24 MB into a 4 MiB ring, or no log line of it")
	}
	if kd := fmt.Sprintf("%s (afpacket): ", ifB); !strings.Contains(summary, kd) || !strings.Contains(summary, "kernel drops 0,") || qfull != 0 {
		t.Fatalf("frames were lost (kernel or ring queue); the comparison would not hold:\n%s", summary)
	}

	// Flows of the newest file not in the oldest surviving one: most
	// stayed whole; a flow may have lost its first packets with a removed
	// file, so what the ring has of it is the end of what was sent.
	caps, _ := filepath.Glob(filepath.Join(ringDir, "*.pcapng"))
	if len(caps) < 3 {
		t.Fatalf("%d ring files", len(caps))
	}
	for _, c := range caps {
		if info, _ := os.Stat(c); info.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", c, info.Mode().Perm())
		}
	}
	oldest, err := pcapindex.Load(pcapindex.PathFor("", caps[0]))
	if err != nil {
		t.Fatal(err)
	}
	newest, err := pcapindex.Load(pcapindex.PathFor("", caps[len(caps)-1]))
	if err != nil {
		t.Fatal(err)
	}
	var cids []string
	for _, fl := range newest.Flows {
		if oldest.Lookup(fl.CommunityID) == nil && fl.Packets > 4 {
			cids = append(cids, fl.CommunityID)
		}
	}
	if len(cids) == 0 {
		t.Fatal("no flow lies wholly in the ring")
	}
	whole := 0
	for _, cid := range cids[:min(10, len(cids))] {
		fromRing := filepath.Join(tmp, "ring-flow.pcap")
		fromCapture := filepath.Join(tmp, "capture-flow.pcap")
		var stderr bytes.Buffer
		if rc := run([]string{"carve", "--community-id", cid, "--index-dir", ringDir, "-w", fromRing}, io.Discard, &stderr); rc != 0 {
			t.Fatalf("carve from the ring: rc=%d %s", rc, stderr.String())
		}
		stderr.Reset()
		if rc := run([]string{"carve", "--community-id", cid, "-w", fromCapture, capture}, io.Discard, &stderr); rc != 0 {
			t.Fatalf("carve from the capture: rc=%d %s", rc, stderr.String())
		}
		got, want := pcapFrames(t, fromRing), pcapFrames(t, fromCapture)
		if len(got) == 0 || len(got) > len(want) || !slices.EqualFunc(got, want[len(want)-len(got):], bytes.Equal) {
			t.Errorf("flow %s: the %d frames carved from the ring are not the last of the %d carved from the capture", cid, len(got), len(want))
		}
		if len(got) == len(want) {
			whole++
		}
	}
	if whole == 0 {
		t.Error("no flow carved whole from the ring")
	}
	t.Logf("%d of %d flows carved whole from the ring, equal to the capture's", whole, min(10, len(cids)))
}
