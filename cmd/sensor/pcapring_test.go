package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
	"github.com/packetsleuth/packetsleuth/sensor/pcapring"
	"github.com/packetsleuth/packetsleuth/sensor/source"
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
	src, err := source.OpenFile("../../testdata/pcaps/http-ethernet.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tap := ring.Tap(0)
	dec := decode.NewDecoder(decode.DefragConfig{}, nil)
	var fr source.Frame
	var pkt decode.Packet
	cid, frames := "", 0
	for src.Next(&fr) == nil {
		st := dec.Decode(fr.Data, fr.Timestamp, fr.WireLen, fr.LinkType, &pkt)
		if st == decode.OK {
			cid = flow.PacketCommunityID(0, &pkt)
			frames++
		}
		tap.Frame(&fr, st, &pkt)
	}
	tap.Flush()
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
