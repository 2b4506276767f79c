package main

import (
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/pipeline"
	"github.com/packetsleuth/packetsleuth/store"
)

// PeaksConfig turns on live traffic-peak events (config peaks:).
type PeaksConfig struct {
	Enabled  bool    `yaml:"enabled"`
	Metric   string  `yaml:"metric"`   // bytes (default), packets or flows
	Window   int     `yaml:"window"`   // seconds of baseline (default 60)
	K        float64 `yaml:"k"`        // standard deviations above the baseline (default 3)
	Absolute float64 `yaml:"absolute"` // or above this per-second value (0: off)
}

// peakWatcher turns the sensor's running totals into a per-second series and
// emits a packetsleuth.traffic event when the newest second is a peak, by
// the same rule as `sensor report` (store.DetectPeaks).
type peakWatcher struct {
	opts   store.PeakOptions
	series []store.Point
	last   pipeline.Stats
	primed bool
	emit   func(*schemas.Event)
}

func newPeakWatcher(c PeaksConfig, emit func(*schemas.Event)) *peakWatcher {
	return &peakWatcher{
		opts: store.PeakOptions{Metric: store.Metric(c.Metric), Window: c.Window, K: c.K, Absolute: c.Absolute, Resolution: time.Second},
		emit: emit,
	}
}

// second accounts the second that ended at now, from the totals st.
func (w *peakWatcher) second(now time.Time, st pipeline.Stats) {
	if !w.primed {
		w.last, w.primed = st, true
		return
	}
	pt := store.Point{
		Time:    now.Truncate(time.Second).Add(-time.Second).UTC(),
		Packets: int64(st.Packets - w.last.Packets),
		Bytes:   int64(st.Bytes - w.last.Bytes),
		Flows:   int64(st.Flows.Created - w.last.Flows.Created),
	}
	w.last = st
	window := w.opts.Window
	if window <= 0 {
		window = 60
	}
	w.series = append(w.series, pt)
	if len(w.series) > window+1 {
		w.series = append(w.series[:0], w.series[len(w.series)-window-1:]...)
	}
	peaks := store.DetectPeaks(w.series, w.opts)
	if n := len(peaks); n > 0 && peaks[n-1].Timestamp.Equal(pt.Time) {
		w.emit(&peaks[n-1])
	}
}
