package store

import (
	"context"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// TestBoundsFitTheTraffic: traffic from 10:17:23 to 10:19:05 is rolled up
// into minute and hour buckets that start at 10:17 and 10:00; the store's
// bounds still start at the first second of data (the "all data" range of
// the UI's chart fits the data).
func TestBoundsFitTheTraffic(t *testing.T) {
	forEach(t, func(t *testing.T, cfg func(testing.TB) Config) {
		s := open(t, cfg(t))
		first := t0.Add(17*time.Minute + 23*time.Second)
		var recs []schemas.Record
		for i := range 103 {
			ev := schemas.Event{Timestamp: first.Add(time.Duration(i) * time.Second)}
			ev.Event.Kind, ev.Event.Dataset = "metric", schemas.DatasetTimeseries
			ev.Sensor.Traffic = schemas.Traffic{Bytes: 1000, Packets: 2, Flows: 1}
			recs = append(recs, record(t, &ev))
		}
		if _, err := s.Insert(context.Background(), recs); err != nil {
			t.Fatal(err)
		}
		lo, hi, err := s.Bounds(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !lo.Equal(first) || !hi.Equal(first.Add(102*time.Second)) {
			t.Errorf("bounds %v .. %v, want %v .. %v", lo, hi, first, first.Add(102*time.Second))
		}
	})
}
