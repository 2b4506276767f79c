package pcapring

import (
	"time"
	"unsafe"

	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/source"
)

// qframe is one frame on its way to the writer: its bytes are
// batch.data[off:off+n].
type qframe struct {
	off, n int32
	wire   int32
	iface  int32
	ts     int64
	st     decode.Status
	pkt    decode.Packet // Payload cleared: it pointed into the source's buffer
}

// batch is a feeder's frames handed over at once.
type batch struct {
	frames []qframe
	data   []byte
}

// batchCost is what a batch takes from the memory budget.
var batchCost = int64(batchBytes + batchFrames*int(unsafe.Sizeof(qframe{})))

func newBatch() *batch {
	return &batch{frames: make([]qframe, 0, batchFrames), data: make([]byte, 0, batchBytes)}
}

func (b *batch) reset() {
	b.frames = b.frames[:0]
	b.data = b.data[:0]
}

func (b *batch) fits(n int) bool {
	return len(b.frames) < batchFrames && len(b.data)+n <= cap(b.data)
}

// batchAge is how long (packet time) a partly filled batch may wait.
const batchAge = int64(100 * time.Millisecond)

// Tap is one feeder's side of the ring (pipeline.LiveTap): not safe for
// concurrent use, and it never blocks.
type Tap struct {
	r     *Ring
	iface int32
	cur   *batch
	first int64 // packet time of cur's first frame
}

// Tap returns a tap for one feeder of capture interface iface.
func (r *Ring) Tap(iface int) *Tap { return &Tap{r: r, iface: int32(iface)} }

// Frame copies one frame, with the decoder's verdict on it, for the writer.
func (t *Tap) Frame(fr *source.Frame, st decode.Status, p *decode.Packet) {
	n := len(fr.Data)
	ts := fr.Timestamp.UnixNano()
	if t.cur != nil && (!t.cur.fits(n) || ts-t.first > batchAge) {
		t.Flush()
	}
	if t.cur == nil {
		select {
		case t.cur = <-t.r.free:
			t.first = ts
		default:
			t.r.c.queueDrops.Add(1)
			return
		}
		if !t.cur.fits(n) { // longer than a batch holds
			t.r.c.queueDrops.Add(1)
			return
		}
	}
	b := t.cur
	b.frames = append(b.frames, qframe{off: int32(len(b.data)), n: int32(n), wire: int32(fr.WireLen), iface: t.iface, ts: ts, st: st, pkt: *p})
	b.frames[len(b.frames)-1].pkt.Payload = nil
	b.data = append(b.data, fr.Data...)
}

// Flush hands the frames copied so far to the writer (the feeder calls it
// when its source is idle).
func (t *Tap) Flush() {
	if t.cur == nil {
		return
	}
	if len(t.cur.frames) == 0 {
		return
	}
	t.r.queue <- t.cur // never blocks: the queue holds every batch there is
	t.cur = nil
}
