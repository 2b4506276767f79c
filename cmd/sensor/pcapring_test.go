package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/metrics"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
	"github.com/packetsleuth/packetsleuth/sensor/app"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
	"github.com/packetsleuth/packetsleuth/sensor/pcapring"
	"github.com/packetsleuth/packetsleuth/sensor/source"
	"github.com/prometheus/client_golang/prometheus"
)

// capture.pcap_ring is read with its sizes and durations; each bad value
// is an error naming its key and line; it is not an interface's key.
func TestConfigPcapRing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sensor.yaml")
	os.WriteFile(path, []byte(`capture:
  pcap_ring:
    dir: /var/lib/ps/ring
    max_bytes: 10GiB
    max_age: 72h
    max_bytes_per_flow: 1MiB
    keep: alerts
    lookback: 5s
`), 0o644)
	cfg, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Capture.PcapRing
	if r == nil || r.Dir != "/var/lib/ps/ring" || r.MaxBytes != 10<<30 || r.MaxAge.Hours() != 72 || r.MaxBytesPerFlow != 1<<20 || r.Keep != "alerts" || r.Lookback.Seconds() != 5 {
		t.Fatalf("pcap_ring %+v", r)
	}
	os.WriteFile(path, []byte(`capture:
  pcap_ring:
    max_bytes: 1MiB
    max_age: -1h
    keep: some
interfaces:
  - name: eth0
    pcap_ring: {dir: x}
`), 0o644)
	_, err = loadConfig(path)
	if err == nil {
		t.Fatal("bad pcap_ring accepted")
	}
	for _, want := range []string{"capture.pcap_ring.dir: is required", "line 3: capture.pcap_ring.max_bytes: is required, at least 2MiB", "line 4: capture.pcap_ring.max_age", "line 5: capture.pcap_ring.keep: must be all or alerts", "pcap_ring"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if !strings.Contains(err.Error(), "line 8") {
		t.Errorf("pcap_ring under an interface not refused with its line:\n%v", err)
	}
}

type discardOutput struct{}

func (discardOutput) Write([]schemas.Record) error { return nil }

// With keep: alerts, an alert record on its way to the outputs tells the
// ring to keep its flow: the frames the look-back held are written, those
// of a flow without an alert are not.
func TestAlertTapKeepsAlertedFlow(t *testing.T) {
	ring, err := pcapring.New(pcapring.Config{Dir: filepath.Join(t.TempDir(), "ring"), MaxBytes: 64 << 20, Keep: pcapring.KeepAlerts})
	if err != nil {
		t.Fatal(err)
	}
	cid, frames := feedHTTP(t, ring)
	out := alertTap{Output: discardOutput{}, ring: ring}
	if err := out.Write([]schemas.Record{{Kind: "event", Key: "1:not-alerted"}, {Kind: "alert", Key: cid}}); err != nil {
		t.Fatal(err)
	}
	if err := ring.Close(); err != nil {
		t.Fatal(err)
	}
	if st := ring.Stats(); frames < 5 || st.Frames != uint64(frames) || st.NotKept != 0 {
		t.Errorf("ring wrote %d frames of the alerted flow's %d (not kept %d)", st.Frames, frames, st.NotKept)
	}
}

// The ring's budget refusals are anomalies: limit.pcap_ring events to the
// outputs, counted on /metrics with the workers' anomalies.
func TestRingAnomaliesOnMetrics(t *testing.T) {
	b := budget.New(int64(8 << 20)) // the batches take most of it
	ring, err := pcapring.New(pcapring.Config{Dir: filepath.Join(t.TempDir(), "ring"), MaxBytes: 64 << 20, Keep: pcapring.KeepAlerts, Budget: b})
	if err != nil {
		t.Fatal(err)
	}
	if st := b.Stats(); !b.NewAccount().Reserve(budget.Flows, st.Limit-st.Used) { // leave the ring no room for flow state
		t.Fatal("cannot fill the budget")
	}
	feedHTTP(t, ring)
	if err := ring.Close(); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	if _, err := metrics.New(reg, metrics.Sources{App: func() app.Stats { return withRing(app.Stats{}, ring) }}); err != nil {
		t.Fatal(err)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got float64
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if f.GetName() == "packetsleuth_anomalies_total" && l.GetValue() == "limit.pcap_ring" {
					got = m.GetCounter().GetValue()
				}
			}
		}
	}
	if st := ring.Stats(); got == 0 || got != float64(st.Anomalies.Seen[anomaly.PcapRingLimit]) || st.Untracked == 0 {
		t.Errorf("/metrics counts %v limit.pcap_ring anomalies; ring %+v", got, st)
	}
}

// feedHTTP hands a capture of one HTTP flow to ring, and returns the
// flow's Community ID and how many of its frames decoded.
func feedHTTP(t *testing.T, ring *pcapring.Ring) (cid string, frames int) {
	t.Helper()
	src, err := source.OpenFile("../../testdata/pcaps/http-ethernet.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tap := ring.Tap(0)
	dec := decode.NewDecoder(decode.DefragConfig{}, nil)
	var fr source.Frame
	var pkt decode.Packet
	for src.Next(&fr) == nil {
		st := dec.Decode(fr.Data, fr.Timestamp, fr.WireLen, fr.LinkType, &pkt)
		if st == decode.OK {
			cid = flow.PacketCommunityID(0, &pkt)
			frames++
		}
		tap.Frame(&fr, st, &pkt)
	}
	tap.Flush()
	return cid, frames
}
