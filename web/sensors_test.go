package web

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/store/storetest"
)

// GET /api/v1/sensors lists the sensors that reported, the one silent for
// longer than SensorStaleAfter marked stale, and one that reports every 5
// minutes only after three of them (a claimed interval of weeks counts as
// the 3 h cap).
func TestSensorsAPI(t *testing.T) {
	st := openStore(t)
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	var recs []schemas.Record
	for _, s := range []struct {
		id, name      string
		ago, interval time.Duration
	}{{"a-1", "edge-a", time.Minute, 0}, {"b-2", "edge-b", 10 * time.Minute, time.Minute},
		{"c-3", "edge-c", 10 * time.Minute, 5 * time.Minute}, {"d-4", "edge-d", 4 * time.Hour, 500 * time.Hour}} {
		ev := &schemas.Event{Timestamp: now.Add(-s.ago)}
		ev.ECS.Version = schemas.ECSVersion
		ev.Event.Kind, ev.Event.Dataset, ev.Event.Category = "metric", schemas.DatasetStats, []string{"network"}
		ev.Event.Duration = s.interval
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
	if code := get(t, hs, "/api/v1/sensors", &ans); code != 200 || len(ans.Sensors) != 4 {
		t.Fatalf("GET /api/v1/sensors: %d %+v", code, ans)
	}
	a, b, c, d := ans.Sensors[0], ans.Sensors[1], ans.Sensors[2], ans.Sensors[3]
	if a.Name != "edge-a" || a.Site != "lyon" || a.Version != "2.0" || a.Drops != 1 || a.Stale {
		t.Errorf("edge-a: %+v", a)
	}
	if b.Name != "edge-b" || !b.Stale || b.StaleAfterSeconds != 180 {
		t.Errorf("edge-b, silent for 10 minutes, not stale: %+v", b)
	}
	if c.Name != "edge-c" || c.Stale || c.StaleAfterSeconds != 900 {
		t.Errorf("edge-c, reporting every 5 minutes, silent for 10: %+v", c)
	}
	if d.Name != "edge-d" || !d.Stale || d.StaleAfterSeconds != 3*3600 {
		t.Errorf("edge-d, claiming 500 h between reports, silent for 4 h: %+v", d)
	}
}

// Events from three sensors (storetest.Fleet) in one store: sensor= narrows
// every list and report endpoint to one of them, and without it they cover
// the fleet; GET /api/v1/sensors lists the three with their heartbeats and
// the lag from each one's heartbeat to the store.
func TestAPIFilterBySensor(t *testing.T) {
	st := openStore(t)
	t0 := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	if _, err := st.Insert(context.Background(), storetest.Fleet(t, t0)); err != nil {
		t.Fatal(err)
	}
	_, hs := testServer(t, Config{Store: st})
	var sensors struct {
		Sensors []SensorInfo
	}
	if code := get(t, hs, "/api/v1/sensors", &sensors); code != 200 || len(sensors.Sensors) != 3 {
		t.Fatalf("GET /api/v1/sensors: %d %+v", code, sensors)
	}
	for i, x := range sensors.Sensors {
		if x.Name != storetest.FleetNames[i] || x.Packets != int64(1000*(i+1)) || x.Stale ||
			x.LagSeconds < 60 || x.LagSeconds > 600 || !x.LastSeen.Equal(t0) {
			t.Errorf("sensor %d: %+v", i, x)
		}
	}
	rng := "since=" + t0.Add(-time.Hour).Format(time.RFC3339) + "&until=" + t0.Add(time.Hour).Format(time.RFC3339)
	for i, name := range append([]string{""}, storetest.FleetNames...) {
		q := rng + "&sensor=" + url.QueryEscape(name)
		wantFlows, wantOne := 6, 3
		if name != "" {
			wantFlows, wantOne = i, 1
		}
		var list ListPage
		for path, want := range map[string]int{"/api/v1/flows": wantFlows, "/api/v1/alerts": wantOne, "/api/v1/events?dataset=dns&": wantOne} {
			if !strings.Contains(path, "?") {
				path += "?"
			}
			if code := get(t, hs, path+q, &list); code != 200 || len(list.Items) != want {
				t.Errorf("%s%s: %d, %d items; want %d", path, q, code, len(list.Items), want)
			}
		}
		var top TopAnswer
		if code := get(t, hs, "/api/v1/top?"+q, &top); code != 200 || top.Totals.Flows != int64(wantFlows) ||
			name != "" && (len(top.Rows) != 1 || top.Rows[0].Key != "10.0.0."+strconv.Itoa(i)) || name == "" && len(top.Rows) != 3 {
			t.Errorf("top talkers of %q: %d %+v", name, code, top)
		}
		var sum struct{ Rules []AlertSummary }
		if code := get(t, hs, "/api/v1/alerts/summary?"+q, &sum); code != 200 || len(sum.Rules) != wantOne {
			t.Errorf("alert summary of %q: %d %+v", name, code, sum)
		}
		var series SeriesAnswer
		wantPackets := int64(600)
		if name != "" {
			wantPackets = int64(100 * i)
		}
		sq := "since=" + t0.Format(time.RFC3339) + "&until=" + t0.Add(time.Second).Format(time.RFC3339) + "&resolution=1s&sensor=" + url.QueryEscape(name)
		if code := get(t, hs, "/api/v1/series?"+sq, &series); code != 200 || len(series.Points) != 1 || series.Points[0].Packets != wantPackets {
			t.Errorf("series of %q: %d %+v; want %d packets", name, code, series.Points, wantPackets)
		}
	}
}
