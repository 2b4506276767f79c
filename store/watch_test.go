package store

import (
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

func TestPeakWatcherFlagsASpikeOnce(t *testing.T) {
	var got []schemas.Event
	w := NewPeakWatcher(PeakOptions{Window: 20, K: 3}, func(ev *schemas.Event) { got = append(got, *ev) })
	var packets, bytes uint64
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	for i := 0; i < 40; i++ {
		per := uint64(1000 + 10*(i%3)) // steady traffic with a little noise
		if i == 30 {
			per = 50_000 // the spike
		}
		bytes += per
		packets += per / 100
		now = now.Add(time.Second)
		w.Second(now, packets, bytes, 0)
	}
	if len(got) != 1 {
		t.Fatalf("%d peak events, want 1: %+v", len(got), got)
	}
	ev := got[0]
	if ev.Event.Dataset != schemas.DatasetTraffic || ev.Sensor.Peak.Value != 50_000 || ev.Sensor.Peak.Reason != "baseline" {
		t.Errorf("peak event %+v", ev)
	}
}
