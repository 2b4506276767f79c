package pcapring

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/sensor/pcapindex"

	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/source"
)

type decoded struct {
	fr  source.Frame
	st  decode.Status
	pkt decode.Packet
}

// loadMix decodes a generated capture into memory.
func loadMix(b *testing.B, size int64) []decoded { return load(b, mix(b, size)) }

// load decodes a capture into memory.
func load(b *testing.B, path string) []decoded {
	src, err := source.OpenFile(path)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	dec := decode.NewDecoder(decode.DefragConfig{}, nil)
	var out []decoded
	for {
		var d decoded
		if err := src.Next(&d.fr); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			b.Fatal(err)
		}
		d.fr.Data = append([]byte(nil), d.fr.Data...)
		d.st = dec.Decode(d.fr.Data, d.fr.Timestamp, d.fr.WireLen, d.fr.LinkType, &d.pkt)
		out = append(out, d)
	}
}

// BenchmarkRingWrite is the cost of one packet through the ring, keep: all:
// the feeder's copy and the writer's flow assignment, index and write to
// files (rotating within 64 MiB); ns/op and B/op are per packet. Frames
// the writer fell behind for are reported as drops/op.
func BenchmarkRingWrite(b *testing.B) {
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"all", Config{}},
		{"depth", Config{MaxBytesPerFlow: 4096}},
		{"alerts", Config{Keep: KeepAlerts}},
	} {
		b.Run(c.name, func(b *testing.B) {
			frames := loadMix(b, 16<<20)
			c.cfg.MaxBytes = 64 << 20
			r := newRing(b, c.cfg)
			tp := r.Tap(0)
			var bytes int64
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := range b.N {
				d := &frames[i%len(frames)]
				tp.Frame(&d.fr, d.st, &d.pkt)
				bytes += int64(len(d.fr.Data))
				if len(tp.r.free) == 0 { // a feeder would drop here; wait for the writer instead, to measure it
					tp.Flush()
					fb := <-tp.r.free
					tp.r.free <- fb
				}
			}
			tp.Flush()
			r.Close()
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			b.SetBytes(bytes / int64(b.N))
			b.ReportMetric(float64(r.Stats().QueueDrops)/float64(b.N), "drops/op")
		})
	}
}

// BenchmarkRingTap is what the ring costs the packet path: the copy into
// a batch and its hand-over (the batches come straight back, as from a
// writer that keeps up).
func BenchmarkRingTap(b *testing.B) {
	frames := loadMix(b, 4<<20)
	r := &Ring{free: make(chan *batch, 2), queue: make(chan *batch, 2)}
	r.free <- newBatch()
	r.free <- newBatch()
	tp := r.Tap(0)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := range b.N {
		d := &frames[i%len(frames)]
		tp.Frame(&d.fr, d.st, &d.pkt)
		select {
		case q := <-r.queue:
			r.recycle(q)
		default:
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	if n := r.Stats().QueueDrops; n > 0 {
		b.Fatalf("%d drops", n)
	}
}

// cpuTime is the CPU time (user and system) the process used so far, in
// ns: on a shared machine it measures the ring's cost where wall time
// measures the neighbours.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkRingAlertFlood is what an alert costs the writer with keep:
// alerts when the look-back is full (16 MiB of a mix) and every packet is
// the SYN of a new flow that raises an alert at once, as an attacker
// raising alerts on many flows would send: ns/op and cpu-ns/op are per
// SYN and its alert. Alerts the writer fell behind for are reported as
// alert-drops/op.
func BenchmarkRingAlertFlood(b *testing.B) {
	fill := loadMix(b, 24<<20)
	path := filepath.Join(b.TempDir(), "flood.pcap")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pcapgen.WriteSYNFlood(f, b.N, 3); err != nil {
		b.Fatal(err)
	}
	f.Close()
	syns := load(b, path)
	cids := make([]string, len(syns))
	ref := pcapindex.NewAssigner(0, decode.DefragConfig{}, nil)
	for i := range syns {
		d := &syns[i]
		ref.Assign(d.st, &d.pkt, pcapindex.Ref{Offset: int64(i)}, func(cid string, _ pcapindex.Ref) { cids[i] = cid })
	}
	r := newRing(b, Config{MaxBytes: 64 << 20, Keep: KeepAlerts, Lookback: 1 << 62})
	tp := r.Tap(0)
	send := func(d *decoded) {
		tp.Frame(&d.fr, d.st, &d.pkt)
		if len(tp.r.free) == 0 { // wait for the writer rather than drop
			tp.Flush()
			fb := <-tp.r.free
			tp.r.free <- fb
		}
	}
	for i := range fill {
		send(&fill[i])
	}
	tp.Flush()
	if err := r.Sync(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := range b.N {
		send(&syns[i])
		tp.Flush()
		r.Alert(cids[i])
		for len(r.alerts) > alertQueue/2 { // the writer is behind: wait, do not drop
			time.Sleep(100 * time.Microsecond)
		}
	}
	if err := r.Sync(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(r.Stats().AlertsDropped)/float64(b.N), "alert-drops/op")
	r.Close()
	if st := r.Stats(); st.Frames < uint64(b.N) {
		b.Fatalf("%d frames written for %d alerted SYNs", st.Frames, b.N)
	}
}
