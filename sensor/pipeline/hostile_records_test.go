package pipeline

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// Records longer than their packet do not end the replay: every frame is
// analysed, the records are counted, and their flow gets one anomaly event.
func TestCapturedLongerThanOriginalIsAnalysed(t *testing.T) {
	var c pcapgen.Capture
	for _, k := range pcapgen.Catalogue() {
		if k.Name == "http-ethernet.pcap" {
			c = k
		}
	}
	b, err := pcapgen.CapOverOrig(c, 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "caplen.pcap")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, st := replay(t, Config{}, path)
	if st.Frames != uint64(len(c.Frames)) || st.Clamped != 2 || len(st.SourceErrors) != 0 {
		t.Errorf("frames %d of %d, clamped %d, source errors %v", st.Frames, len(c.Frames), st.Clamped, st.SourceErrors)
	}
	if n := len(out.dataset("packetsleuth.http")); n != 1 {
		t.Errorf("%d HTTP events, want 1", n)
	}
	var kinds []string
	for _, ev := range out.dataset("packetsleuth.anomaly") {
		kinds = append(kinds, str(ev, "event.action"))
	}
	if len(kinds) != 1 || kinds[0] != "capture.caplen_exceeds_wire_len" {
		t.Errorf("anomaly events %v, want one capture.caplen_exceeds_wire_len", kinds)
	}
}
