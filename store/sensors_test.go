package store

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// statsEvent is a sensor's stats report at ts (iface "" for the whole sensor).
func statsEvent(t testing.TB, agent, name, iface string, ts time.Time, packets int64) schemas.Record {
	ev := &schemas.Event{Timestamp: ts}
	ev.ECS.Version = schemas.ECSVersion
	ev.Event.Kind, ev.Event.Dataset, ev.Event.Category = "metric", schemas.DatasetStats, []string{"network"}
	ev.Observer = schemas.Observer{Name: name, Hostname: name + ".example", Version: "1.0", Geo: schemas.ObserverGeo{Name: "paris"}}
	ev.Agent = schemas.Agent{ID: agent, Name: name, Version: "1.1"}
	ev.Sensor.Stats = schemas.Stats{Interface: iface, Packets: packets, KernelDrops: 2, SensorDrops: 1, Events: 7, UptimeSeconds: 60}
	return record(t, ev)
}

// The sensors table keeps the newest whole-sensor report of each agent:
// interface reports and older (late, redelivered) reports change nothing.
func TestSensorsFromStats(t *testing.T) {
	forEach(t, func(t *testing.T, mk func(testing.TB) Config) {
		ctx := context.Background()
		s := open(t, mk(t))
		batch := []schemas.Record{
			statsEvent(t, "a-1", "edge-a", "", t0, 100),
			statsEvent(t, "a-1", "edge-a", "eth0", t0, 999),
			statsEvent(t, "b-2", "edge-b", "", t0, 50),
		}
		st, err := s.Insert(ctx, batch)
		if err != nil || st.Sensors != 2 || st.Skipped != 1 {
			t.Fatalf("insert: %+v %v", st, err)
		}
		if _, err := s.Insert(ctx, []schemas.Record{statsEvent(t, "a-1", "edge-a", "", t0.Add(time.Minute), 200),
			statsEvent(t, "b-2", "edge-b", "", t0.Add(-time.Minute), 1)}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Sensors(ctx)
		if err != nil || len(got) != 2 {
			t.Fatalf("sensors: %+v %v", got, err)
		}
		a, b := got[0], got[1]
		if a.ID != "a-1" || a.Name != "edge-a" || a.Site != "paris" || a.Version != "1.1" || a.Packets != 200 || a.Drops != 3 ||
			!a.LastSeen.Equal(t0.Add(time.Minute)) || !a.FirstSeen.Equal(t0) {
			t.Errorf("sensor a: %+v", a)
		}
		if b.ID != "b-2" || b.Packets != 50 || !b.LastSeen.Equal(t0) {
			t.Errorf("sensor b (an older report came late): %+v", b)
		}
	})
}

// Each sensor's fleet set in force and the last refusal follow its newest
// report; a refusal longer than the column is cut, not an error.
func TestSensorsConfigVersion(t *testing.T) {
	forEach(t, func(t *testing.T, mk func(testing.TB) Config) {
		ctx := context.Background()
		s := open(t, mk(t))
		report := func(ts time.Time, version, refusal string) schemas.Record {
			rec := statsEvent(t, "a-1", "edge-a", "", ts, 1)
			var ev schemas.Event
			if err := json.Unmarshal(rec.JSON, &ev); err != nil {
				t.Fatal(err)
			}
			ev.Sensor.Stats.ConfigVersion, ev.Sensor.Stats.ConfigError = version, refusal
			return record(t, &ev)
		}
		refusal := "set sha256:bad refused: " + strings.Repeat("é", 1000)
		for _, r := range []schemas.Record{report(t0, "sha256:v1", ""), report(t0.Add(time.Minute), "sha256:v1", refusal),
			report(t0.Add(-time.Minute), "sha256:v0", "")} {
			if _, err := s.Insert(ctx, []schemas.Record{r}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Sensors(ctx)
		if err != nil || len(got) != 1 {
			t.Fatalf("sensors: %+v %v", got, err)
		}
		if got[0].ConfigVersion != "sha256:v1" || !strings.HasPrefix(got[0].ConfigError, "set sha256:bad refused: éé") ||
			len(got[0].ConfigError) > 1024 || !utf8.ValidString(got[0].ConfigError) {
			t.Errorf("sensor: %q %q", got[0].ConfigVersion, got[0].ConfigError)
		}
	})
}

// The sensors table keeps the interval of each sensor's newest report
// (its event.duration), which the Sensors page waits three of before it
// marks the sensor stale; a late older report changes nothing.
func TestSensorsReportInterval(t *testing.T) {
	forEach(t, func(t *testing.T, mk func(testing.TB) Config) {
		s := open(t, mk(t))
		for _, r := range []struct {
			ts       time.Time
			interval time.Duration
		}{{t0, 5 * time.Minute}, {t0.Add(5 * time.Minute), 4 * time.Minute}, {t0.Add(-time.Minute), time.Second}} {
			rec := statsEvent(t, "a-1", "edge-a", "", r.ts, 1)
			var ev schemas.Event
			if err := json.Unmarshal(rec.JSON, &ev); err != nil {
				t.Fatal(err)
			}
			ev.Event.Duration = r.interval
			if _, err := s.Insert(context.Background(), []schemas.Record{record(t, &ev)}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Sensors(context.Background())
		if err != nil || len(got) != 1 || got[0].ReportInterval != 4*time.Minute {
			t.Fatalf("sensors: %+v %v", got, err)
		}
	})
}
