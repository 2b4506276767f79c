package store

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// sensorIDs are the agent ids the sensors table holds, sorted.
func sensorIDs(t *testing.T, s *Store) []string {
	t.Helper()
	list, err := s.Sensors(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, x := range list {
		ids = append(ids, x.ID)
	}
	slices.Sort(ids)
	return ids
}

// The sensors table holds at most max_sensors: the reports of new sensors
// past it are refused and counted while the known sensors' reports and every
// sensor's events are still stored; a store opened anew (no cache) knows
// the table; retention frees room for new sensors.
func TestSensorsBound(t *testing.T) {
	forEach(t, func(t *testing.T, mk func(testing.TB) Config) {
		ctx := context.Background()
		cfg := mk(t)
		cfg.MaxSensors = 3
		cfg.Retention = map[string]Duration{"sensors": Duration(time.Hour)}
		s := open(t, cfg)
		insert := func(s *Store, recs ...schemas.Record) InsertStats {
			t.Helper()
			st, err := s.Insert(ctx, recs)
			if err != nil {
				t.Fatal(err)
			}
			return st
		}
		st := insert(s, statsEvent(t, "a-1", "edge-1", "", t0, 1), statsEvent(t, "a-2", "edge-2", "", t0, 1),
			statsEvent(t, "a-3", "edge-3", "", t0, 1), statsEvent(t, "a-4", "edge-4", "", t0, 1),
			statsEvent(t, "a-1", "edge-1", "", t0.Add(time.Minute), 2))
		if st.Sensors != 4 || st.SensorsRefused != 1 || st.RefusedSensor != "a-4" {
			t.Fatalf("first batch: %+v", st)
		}
		flow := makeFlows(1)[0].event()
		flow.Observer.Name = "edge-5"
		st = insert(s, statsEvent(t, "a-5", "edge-5", "", t0.Add(time.Minute), 1), record(t, flow),
			statsEvent(t, "a-2", "edge-2", "", t0.Add(2*time.Minute), 5))
		if st.Sensors != 1 || st.SensorsRefused != 1 || st.RefusedSensor != "a-5" || st.Flows != 1 {
			t.Fatalf("second batch (a known sensor, a new one refused, its flow stored): %+v", st)
		}
		if got := sensorIDs(t, s); !slices.Equal(got, []string{"a-1", "a-2", "a-3"}) {
			t.Fatalf("sensors: %v", got)
		}
		if list, _ := s.Sensors(ctx); list[1].Packets != 5 {
			t.Errorf("a known sensor's newer report not kept: %+v", list[1])
		}

		// another store (a second collector, a restart) reads what the table holds
		other := open(t, cfg)
		st = insert(other, statsEvent(t, "a-3", "edge-3", "", t0.Add(time.Hour), 9), statsEvent(t, "a-6", "edge-6", "", t0.Add(time.Hour), 1))
		if st.Sensors != 1 || st.SensorsRefused != 1 || st.RefusedSensor != "a-6" {
			t.Fatalf("a fresh store: %+v", st)
		}

		// a-1 and a-2 last reported before now − 1 h: retention removes them,
		// and the store that cached them as known checks a-1 again
		pr, err := s.Prune(ctx, t0.Add(90*time.Minute))
		if err != nil || pr["sensors"] != 2 {
			t.Fatalf("prune: %v %v", pr, err)
		}
		st = insert(s, statsEvent(t, "a-7", "edge-7", "", t0.Add(2*time.Hour), 1), statsEvent(t, "a-1", "edge-1", "", t0.Add(2*time.Hour), 1),
			statsEvent(t, "a-8", "edge-8", "", t0.Add(2*time.Hour), 1))
		if st.Sensors != 2 || st.SensorsRefused != 1 || st.RefusedSensor != "a-8" {
			t.Fatalf("after retention: %+v", st)
		}
		if got := sensorIDs(t, s); !slices.Equal(got, []string{"a-1", "a-3", "a-7"}) {
			t.Fatalf("sensors after retention: %v", got)
		}
	})
}

// An agent id longer than MySQL's column is cut the same way by every
// driver, so that the bound finds the sensor it stored.
func TestSensorsLongID(t *testing.T) {
	forEach(t, func(t *testing.T, mk func(testing.TB) Config) {
		cfg := mk(t)
		cfg.MaxSensors = 1
		s := open(t, cfg)
		long := strings.Repeat("x", 300)
		for i := range 2 {
			st, err := s.Insert(context.Background(), []schemas.Record{statsEvent(t, long, "edge", "", t0.Add(time.Duration(i)*time.Minute), 1)})
			if err != nil || st.Sensors != 1 || st.SensorsRefused != 0 {
				t.Fatalf("report %d: %+v %v", i, st, err)
			}
		}
		if got := sensorIDs(t, s); len(got) != 1 || got[0] != long[:maxSensorKey] {
			t.Errorf("sensors: %v", got)
		}
	})
}

func TestSensorsBoundConfig(t *testing.T) {
	c := Config{}.WithDefaults()
	if c.MaxSensors != DefaultMaxSensors || time.Duration(c.Retention["sensors"]) != 30*24*time.Hour {
		t.Errorf("defaults: max_sensors %d, retention.sensors %v", c.MaxSensors, c.Retention["sensors"])
	}
	c.MaxSensors = -1
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "max_sensors") {
		t.Errorf("negative max_sensors: %v", err)
	}
}

// The sink prunes in event time but never ahead of the store's clock: one
// record stamped years ahead (a sensor's wrong clock, a hostile producer)
// does not prune what is younger than the retention by the clock.
func TestSinkPruneClockNotAhead(t *testing.T) {
	forEach(t, func(t *testing.T, mk func(testing.TB) Config) {
		ctx := context.Background()
		cfg := mk(t)
		cfg.Retention = map[string]Duration{"flow": Duration(time.Hour)}
		k := connectedSink(t, cfg)
		now := time.Now().UTC().Truncate(time.Second)
		fs := makeFlows(2)
		fs[0].end, fs[1].end = now.Add(-30*time.Minute), now.AddDate(10, 0, 0)
		for _, f := range fs {
			if err := k.Write(ctx, []schemas.Record{record(t, f.event())}); err != nil {
				t.Fatal(err)
			}
		}
		var n int
		if err := k.st.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM flows").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("%d flows left, want 2: the flow of 30 minutes ago was pruned by a record 10 years ahead", n)
		}
	})
}

// A report stamped ahead of the store's clock (a sensor's wrong clock, a
// producer) counts as of that clock: the sensor's later reports still
// update its row, and retention still removes it.
func TestSensorsFutureReport(t *testing.T) {
	forEach(t, func(t *testing.T, mk func(testing.TB) Config) {
		ctx := context.Background()
		s := open(t, mk(t))
		if _, err := s.Insert(ctx, []schemas.Record{statsEvent(t, "a-1", "edge-1", "", time.Now().AddDate(10, 0, 0), 1)}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
		if _, err := s.Insert(ctx, []schemas.Record{statsEvent(t, "a-1", "edge-1", "", time.Now(), 2)}); err != nil {
			t.Fatal(err)
		}
		list, err := s.Sensors(ctx)
		if err != nil || len(list) != 1 || list[0].Packets != 2 || list[0].LastSeen.After(time.Now()) {
			t.Fatalf("the report after one stamped 10 years ahead: %+v %v", list, err)
		}
		if pr, err := s.Prune(ctx, time.Now().Add(31*24*time.Hour)); err != nil || pr["sensors"] != 1 {
			t.Errorf("retention 31 days later: %v %v", pr, err)
		}
	})
}

// A replayed capture's history is pruned in its own time: the sensor's
// stats report, stamped by its clock now, does not prune the capture's
// traffic series of years ago.
func TestSinkPruneClockIgnoresStats(t *testing.T) {
	forEach(t, func(t *testing.T, mk func(testing.TB) Config) {
		ctx := context.Background()
		k := connectedSink(t, mk(t)) // default retention: 1s series 24 h
		batch := []schemas.Record{record(t, bucket(t0, "", 1, 10, 1, nil)), statsEvent(t, "a-1", "edge-1", "", time.Now(), 1)}
		for _, rec := range batch {
			if err := k.Write(ctx, []schemas.Record{rec}); err != nil {
				t.Fatal(err)
			}
		}
		var n int
		if err := k.st.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM traffic WHERE res = 1").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%d 1 s buckets left, want the replayed one", n)
		}
	})
}

// connectedSink is a Sink of cfg, connected, closed when the test ends.
func connectedSink(t *testing.T, cfg Config) *Sink {
	t.Helper()
	k, err := NewSink(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close(context.Background()) })
	return k
}

// A store that keeps stats reports only prunes by their time: the sensors
// not heard from within retention.sensors go.
func TestSinkStatsOnlyPrunesSensors(t *testing.T) {
	forEach(t, func(t *testing.T, mk func(testing.TB) Config) {
		ctx := context.Background()
		cfg := mk(t)
		cfg.Datasets = List{"stats"}
		cfg.Retention = map[string]Duration{"sensors": Duration(time.Hour)}
		k := connectedSink(t, cfg)
		now := time.Now()
		for _, rec := range []schemas.Record{statsEvent(t, "a-1", "edge-1", "", now.Add(-2*time.Hour), 1), statsEvent(t, "b-2", "edge-2", "", now, 1)} {
			if err := k.Write(ctx, []schemas.Record{rec}); err != nil {
				t.Fatal(err)
			}
		}
		if got := sensorIDs(t, k.st); len(got) != 1 || got[0] != "b-2" {
			t.Errorf("sensors: %v, want b-2 alone (a-1 silent for 2 h)", got)
		}
	})
}
