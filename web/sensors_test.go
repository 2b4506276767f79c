package web

import (
	"context"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// GET /api/v1/sensors lists the sensors that reported, the one silent for
// longer than SensorStaleAfter marked stale.
func TestSensorsAPI(t *testing.T) {
	st := openStore(t)
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	var recs []schemas.Record
	for _, s := range []struct {
		id, name string
		ago      time.Duration
	}{{"a-1", "edge-a", time.Minute}, {"b-2", "edge-b", 10 * time.Minute}} {
		ev := &schemas.Event{Timestamp: now.Add(-s.ago)}
		ev.ECS.Version = schemas.ECSVersion
		ev.Event.Kind, ev.Event.Dataset, ev.Event.Category = "metric", schemas.DatasetStats, []string{"network"}
		ev.Observer = schemas.Observer{Name: s.name, Geo: schemas.ObserverGeo{Name: "lyon"}}
		ev.Agent = schemas.Agent{ID: s.id, Version: "2.0"}
		ev.Sensor.Stats = schemas.Stats{Packets: 10, KernelDrops: 1}
		rec, err := schemas.NewRecord(ev)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	if _, err := st.Insert(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	_, hs := testServer(t, Config{Store: st, Now: func() time.Time { return now }})
	var ans struct {
		Sensors []SensorInfo
	}
	if code := get(t, hs, "/api/v1/sensors", &ans); code != 200 || len(ans.Sensors) != 2 {
		t.Fatalf("GET /api/v1/sensors: %d %+v", code, ans)
	}
	a, b := ans.Sensors[0], ans.Sensors[1]
	if a.Name != "edge-a" || a.Site != "lyon" || a.Version != "2.0" || a.Drops != 1 || a.Stale {
		t.Errorf("edge-a: %+v", a)
	}
	if b.Name != "edge-b" || !b.Stale {
		t.Errorf("edge-b, silent for 10 minutes, not stale: %+v", b)
	}
}
