package metrics

import (
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/sensor/app"
	"github.com/packetsleuth/packetsleuth/sensor/pipeline"
)

// Frames the decoder refuses are counted on /metrics by the anomaly kind
// that says why, seen and emitted, as the replay counted them.
func TestMalformedFramesCountedByKind(t *testing.T) {
	var frames []pcapgen.Frame
	want := map[string]float64{}
	for _, c := range pcapgen.MalformedFrames(pcapgen.Epoch) {
		frames = append(frames, c.Frame)
		want[c.Kind]++
	}
	path := filepath.Join(t.TempDir(), "malformed.pcap")
	if err := pcapgen.Write(path, pcapgen.Capture{Name: "malformed", Link: layers.LinkTypeEthernet, Frames: frames}); err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(pipeline.Config{Workers: 2, Output: discard{}})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	if _, err := New(reg, Sources{App: func() app.Stats { return p.Snapshot().App }}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Replay(t.Context(), []string{path}); err != nil {
		t.Fatal(err)
	}
	fams := scrape(t, reg)
	for kind, n := range want {
		if got := value(t, fams, "packetsleuth_anomalies_total", "kind", kind); got != n {
			t.Errorf("anomalies_total{%s} = %v, want %v", kind, got, n)
		}
		if got := value(t, fams, "packetsleuth_anomaly_events_total", "kind", kind); got != 1 {
			t.Errorf("anomaly_events_total{%s} = %v, want 1", kind, got)
		}
	}
}
