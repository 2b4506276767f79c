package store

import (
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// PeakWatcher finds traffic peaks live: fed running totals once a second,
// it keeps the last window of per-second points and emits a
// packetsleuth.traffic event when the newest second is a peak, by the same
// rule as DetectPeaks (so `sensor report` finds the same peaks later).
type PeakWatcher struct {
	opts   PeakOptions
	series []Point
	last   [3]uint64 // packets, bytes, flows at the previous call
	primed bool
	emit   func(*schemas.Event)
}

// NewPeakWatcher returns a watcher that calls emit for each peak.
func NewPeakWatcher(opts PeakOptions, emit func(*schemas.Event)) *PeakWatcher {
	opts.Resolution = time.Second
	return &PeakWatcher{opts: opts, emit: emit}
}

// Second accounts the second that ended at now from the running totals.
func (w *PeakWatcher) Second(now time.Time, packets, bytes, flows uint64) {
	cur := [3]uint64{packets, bytes, flows}
	if !w.primed {
		w.last, w.primed = cur, true
		return
	}
	pt := Point{
		Time:    now.Truncate(time.Second).Add(-time.Second).UTC(),
		Packets: int64(cur[0] - w.last[0]),
		Bytes:   int64(cur[1] - w.last[1]),
		Flows:   int64(cur[2] - w.last[2]),
	}
	w.last = cur
	window := w.opts.Window
	if window <= 0 {
		window = 60
	}
	w.series = append(w.series, pt)
	if len(w.series) > window+1 {
		w.series = append(w.series[:0], w.series[len(w.series)-window-1:]...)
	}
	peaks := DetectPeaks(w.series, w.opts)
	if n := len(peaks); n > 0 && peaks[n-1].Timestamp.Equal(pt.Time) {
		w.emit(&peaks[n-1])
	}
}
