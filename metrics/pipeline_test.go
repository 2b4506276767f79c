package metrics

import (
	"os"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/pipeline"
)

type discard struct{}

func (discard) Write([]schemas.Record) error { return nil }

// A real replay, scraped through Pipeline.Snapshot.
func TestRealPipelineSnapshot(t *testing.T) {
	const pcap = "../testdata/pcaps/http-ethernet.pcap"
	if _, err := os.Stat(pcap); err != nil {
		t.Skipf("%s missing: %v", pcap, err)
	}
	p, err := pipeline.New(pipeline.Config{Workers: 2, Output: discard{}})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	if _, err := New(reg, Sources{Pipeline: p.Snapshot}); err != nil {
		t.Fatal(err)
	}
	st, err := p.Replay(t.Context(), []string{pcap})
	if err != nil {
		t.Fatal(err)
	}
	if st.Frames == 0 {
		t.Fatal("replay read no frames")
	}
	fams := scrape(t, reg)
	if got := value(t, fams, "packetsleuth_packets_total"); got != float64(st.Frames) {
		t.Errorf("packets_total = %v, replay read %d", got, st.Frames)
	}
	if got := value(t, fams, "packetsleuth_bytes_total"); got != float64(st.Bytes) {
		t.Errorf("bytes_total = %v, replay %d", got, st.Bytes)
	}
	if got := value(t, fams, "packetsleuth_flows_created_total"); got != float64(st.Flows.Created) || got == 0 {
		t.Errorf("flows_created_total = %v, replay %d", got, st.Flows.Created)
	}
	for ds, n := range st.Events {
		if got := value(t, fams, "packetsleuth_events_total", "dataset", ds); got != float64(n) {
			t.Errorf("events_total{%s} = %v, replay %d", ds, got, n)
		}
	}
}
