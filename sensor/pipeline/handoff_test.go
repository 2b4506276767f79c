package pipeline

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/source"
)

// writeMix writes a generated mix of about size bytes as a plain pcap
// (read from a mapping: payloads are handed to the workers in place) and
// as a gzip copy (read through a buffer: payloads are copied).
func writeMix(t *testing.T, size int64, seed uint64) (plain, gz string) {
	t.Helper()
	var mix bytes.Buffer
	if _, err := pcapgen.WriteMix(&mix, size, seed); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	plain, gz = filepath.Join(dir, "mix.pcap"), filepath.Join(dir, "mix.pcap.gz")
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(mix.Bytes())
	zw.Close()
	if err := os.WriteFile(plain, mix.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(gz, z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return plain, gz
}

// Workers given payloads in place in a mapped capture (several times the
// distance at which its pages are given back, so they are given back
// behind the workers while they run), or copied from a gzip one, make the
// events of one worker.
func TestWorkersOnMappedFramesMakeOneWorkersEvents(t *testing.T) {
	plain, gz := writeMix(t, 40<<20, 11)
	one, _ := replay(t, Config{Workers: 1}, plain)
	want := sortedLines(one.raw)
	if len(want) < 1000 {
		t.Fatalf("only %d events", len(want))
	}
	for _, path := range []string{plain, gz} {
		for _, workers := range []int{2, 3} {
			got, _ := replay(t, Config{Workers: workers}, path)
			if lines := sortedLines(got.raw); !slices.Equal(lines, want) {
				t.Errorf("%s, %d workers: %d events differ from one worker's %d", filepath.Base(path), workers, len(lines), len(want))
			}
		}
	}
}

// A worker reading a payload in a mapped capture that another process cut
// meanwhile faults: the feeder returns it as the capture's error, the
// process goes on.
func TestWorkerFaultIsCaptureError(t *testing.T) {
	plain, _ := writeMix(t, 1<<20, 3)
	src, err := source.OpenFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if !src.Hold() {
		t.Fatal("not read from a mapping")
	}
	p, err := New(Config{Workers: 2, Output: &collector{}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	f := p.NewFeeder("cut")
	f.source = src.Name()
	dec := decode.NewDecoder(p.cfg.Defrag, nil)
	b := <-p.pool
	b.from = f
	var fr source.Frame
	var pkt decode.Packet
	for len(b.pkts) < batchSize && src.Next(&fr) == nil {
		if dec.Decode(fr.Data, fr.Timestamp, fr.WireLen, fr.LinkType, &pkt) == decode.OK && len(pkt.Payload) > 0 {
			b.pkts = append(b.pkts, pkt)
		}
	}
	if len(b.pkts) == 0 {
		t.Fatal("no packet with a payload")
	}
	if err := os.Truncate(plain, 0); err != nil {
		t.Fatal(err)
	}
	p.in[0] <- b
	f.settle()
	fault := f.fault.Load()
	if fault == nil || !strings.Contains((*fault).Error(), "changed while it was read") {
		t.Fatalf("worker fault: %v", fault)
	}
}
