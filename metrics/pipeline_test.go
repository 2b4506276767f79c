package metrics

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/app"
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

// DNS messages that do not parse are counted on /metrics by protocol, as
// the replay counted them.
func TestParserErrorsOfARealReplay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dns-hostile.pcap")
	if err := pcapgen.Write(path, pcapgen.HostileDNS()); err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(pipeline.Config{Output: discard{}})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	if _, err := New(reg, Sources{App: func() app.Stats { return p.Snapshot().App }}); err != nil {
		t.Fatal(err)
	}
	st, err := p.Replay(t.Context(), []string{path})
	if err != nil {
		t.Fatal(err)
	}
	want := pcapgen.HostileDNSBadMessages()
	got := value(t, scrape(t, reg), "packetsleuth_parser_errors_total", "protocol", "dns")
	if got != float64(want) || st.App.ParserErrors["dns"] != uint64(want) {
		t.Errorf("parser_errors_total{dns} = %v, replay %d, want %d", got, st.App.ParserErrors["dns"], want)
	}
}
