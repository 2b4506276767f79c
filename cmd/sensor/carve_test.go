package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// flowPackets reads the flow events of an NDJSON file: packets per
// Community ID, summed over the flows that share one.
func flowPackets(t *testing.T, path string) map[string]int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev struct {
			Event   struct{ Dataset string }
			Network struct {
				CommunityID string `json:"community_id"`
			}
			Source, Destination struct{ Packets int }
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Event.Dataset == "packetsleuth.flow" {
			out[ev.Network.CommunityID] += ev.Source.Packets + ev.Destination.Packets
		}
	}
	return out
}

// TestReplayIndexThenCarve replays captures with --index and carves every
// flow of the events through the index and by scanning: the same bytes,
// as many frames as the flow events counted, files readable by their
// owner only.
func TestReplayIndexThenCarve(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "events.ndjson")
	captures := []string{"../../testdata/pcaps/http-ethernet.pcap.gz", "../../testdata/pcaps/multi-interface.pcapng", "../../testdata/pcaps/tcp-states.pcap", "../../testdata/pcaps/icmp.pcap"}
	var stdout, stderr bytes.Buffer
	if rc := run(append([]string{"replay", "--no-rules", "--out", out, "--index"}, captures...), &stdout, &stderr); rc != 0 {
		t.Fatalf("replay rc=%d: %s", rc, stderr.String())
	}
	idxDir := out + ".pcapidx"
	if !strings.Contains(stderr.String(), "packet index: 4 file(s) in "+idxDir) {
		t.Errorf("summary lacks the index line:\n%s", stderr.String())
	}
	if st, err := os.Stat(idxDir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("index folder: %v %v", st, err)
	}
	names, _ := filepath.Glob(filepath.Join(idxDir, "*.psidx"))
	for _, n := range names {
		if st, _ := os.Stat(n); st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", n, st.Mode().Perm())
		}
	}
	flows := flowPackets(t, out)
	if len(flows) < 10 {
		t.Fatalf("%d flows", len(flows))
	}
	for cid, packets := range flows {
		byIndex := filepath.Join(dir, "i.pcap")
		stderr.Reset()
		if rc := run([]string{"carve", "--community-id", cid, "-w", byIndex, "--index-dir", idxDir}, &stdout, &stderr); rc != 0 {
			t.Fatalf("carve %s: rc=%d: %s", cid, rc, stderr.String())
		}
		if !strings.Contains(stderr.String(), "(4 by index, 0 scanned)") || strings.Contains(stderr.String(), "warning") {
			t.Fatalf("carve %s did not use the indexes: %s", cid, stderr.String())
		}
		if want := "carve: " + strconv.Itoa(packets) + " frame(s)"; !strings.HasPrefix(stderr.String(), want) {
			t.Errorf("carve %s: %q, the flow events count %d packets", cid, stderr.String(), packets)
		}
		scanned := filepath.Join(dir, "s.pcap")
		if rc := run(append([]string{"carve", "-q", "--no-index", "--community-id", cid, "-w", scanned}, captures...), &stdout, &stderr); rc != 0 {
			t.Fatalf("carve --no-index %s: rc=%d: %s", cid, rc, stderr.String())
		}
		a, _ := os.ReadFile(byIndex)
		b, _ := os.ReadFile(scanned)
		if !bytes.Equal(a, b) {
			t.Errorf("carve %s: index and scan differ (%d and %d bytes)", cid, len(a), len(b))
		}
		if st, _ := os.Stat(byIndex); st.Mode().Perm() != 0o600 {
			t.Errorf("carved file mode %v", st.Mode().Perm())
		}
	}

	// A damaged index is said and the capture scanned, with the same result.
	for _, n := range names {
		b, _ := os.ReadFile(n)
		if err := os.WriteFile(n, b[:len(b)/2], 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var cid string
	for cid = range flows {
		break
	}
	stderr.Reset()
	if rc := run(append([]string{"carve", "--community-id", cid, "-w", filepath.Join(dir, "d.pcap"), "--index-dir", idxDir}, captures...), &stdout, &stderr); rc != 0 {
		t.Fatalf("carve with damaged indexes: rc=%d: %s", rc, stderr.String())
	}
	if !strings.Contains(stderr.String(), "corrupt packet index: checksum mismatch (truncated or damaged); scanning") || !strings.Contains(stderr.String(), "(0 by index, 4 scanned)") {
		t.Errorf("damaged index not said: %s", stderr.String())
	}
	a, _ := os.ReadFile(filepath.Join(dir, "d.pcap"))
	stderr.Reset()
	run(append([]string{"carve", "-q", "--no-index", "--community-id", cid, "-w", filepath.Join(dir, "s.pcap")}, captures...), &stdout, &stderr)
	if b, _ := os.ReadFile(filepath.Join(dir, "s.pcap")); !bytes.Equal(a, b) {
		t.Error("carve with damaged indexes differs from a scan")
	}
}

func TestCarveFlagsAndLinkTypes(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	for _, args := range [][]string{
		{"carve", "-w", filepath.Join(dir, "x.pcap"), "../../testdata/pcaps"},
		{"carve", "--community-id", "1:x", "../../testdata/pcaps"},
		{"carve", "--community-id", "1:x", "-w", filepath.Join(dir, "x.pcap")},
		{"carve", "--community-id", "1:x", "--from", "yesterday", "-w", filepath.Join(dir, "x.pcap"), "../../testdata/pcaps"},
	} {
		if rc := run(args, &stdout, &stderr); rc != 2 {
			t.Errorf("%v: rc=%d", args, rc)
		}
	}
	// Frames of several link types: pcap refuses them with the way out,
	// pcapng takes them.
	mixed := []string{"../../testdata/pcaps/http-sll.pcap", "../../testdata/pcaps/http-ethernet.pcap"}
	stderr.Reset()
	if rc := run(append([]string{"carve", "--bpf", "tcp", "-w", filepath.Join(dir, "m.pcap")}, mixed...), &stdout, &stderr); rc != 1 || !strings.Contains(stderr.String(), "write pcapng") {
		t.Errorf("mixed link types into pcap: rc=%d %s", rc, stderr.String())
	}
	stderr.Reset()
	if rc := run(append([]string{"carve", "--bpf", "tcp", "--from", "0", "-w", filepath.Join(dir, "m.pcapng")}, mixed...), &stdout, &stderr); rc != 0 {
		t.Fatalf("mixed link types into pcapng: rc=%d %s", rc, stderr.String())
	}
	n1, _ := countFrames(t, filepath.Join(dir, "m.pcapng"))
	want := 0
	for _, m := range mixed {
		n, _ := countFrames(t, m)
		want += n
	}
	if n1 != want {
		t.Errorf("pcapng carve of every TCP frame: %d frames, the captures hold %d", n1, want)
	}
}

func countFrames(t *testing.T, path string) (int, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	// The carve of everything counts what the reader reads.
	if rc := run([]string{"carve", "--bpf", "ip or ip6 or not ip", "-w", filepath.Join(t.TempDir(), "all.pcapng"), path}, &stdout, &stderr); rc != 0 {
		t.Fatalf("count %s: %s", path, stderr.String())
	}
	var n int
	_, err := fmt.Sscanf(stderr.String(), "carve: %d frame(s)", &n)
	return n, err
}
