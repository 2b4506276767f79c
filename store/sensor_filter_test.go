package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/store/storetest"
)

// Rows remember their sensor (storetest.Fleet: three sensors), and every
// query narrows to one when asked:
// lists, top talkers, totals, alert counts and the traffic series; without
// a sensor they cover the whole fleet.
func TestQueriesBySensor(t *testing.T) {
	forEach(t, func(t *testing.T, mk func(testing.TB) Config) {
		ctx := context.Background()
		s := open(t, mk(t))
		if _, err := s.Insert(ctx, storetest.Fleet(t, t0)); err != nil {
			t.Fatal(err)
		}
		day := Range{Since: t0.Add(-time.Hour), Until: t0.Add(time.Hour)}
		for i, name := range []string{"", "edge-a", "edge-b", "edge-c"} {
			r := day
			r.Sensor = name
			wantFlows, wantBytes, wantPackets := 6, int64(1000+2*2000+3*3000), int64(600)
			if name != "" {
				wantFlows, wantBytes, wantPackets = i, int64(i*i*1000), int64(i*100)
			}
			tot, err := s.Totals(ctx, r)
			if err != nil || tot.Flows != int64(wantFlows) || tot.Bytes != wantBytes {
				t.Errorf("%q: totals %+v %v; want %d flows, %d bytes", name, tot, err, wantFlows, wantBytes)
			}
			top, err := s.Top(ctx, TopQuery{Range: r, Group: "source.ip"})
			if err != nil || name != "" && (len(top) != 1 || top[0].Key != "10.0.0."+string(rune('0'+i))) || name == "" && len(top) != 3 {
				t.Errorf("%q: top talkers %+v %v", name, top, err)
			}
			if name == "" && len(top) == 3 && top[0].Key != "10.0.0.3" {
				t.Errorf("overall top talker %q, want edge-c's 10.0.0.3", top[0].Key)
			}
			for _, ds := range []string{"flow", "alert", "dns"} {
				want := wantFlows
				if ds != "flow" {
					want = 3
					if name != "" {
						want = 1
					}
				}
				p, err := s.List(ctx, ListQuery{Dataset: ds, Range: r})
				if err != nil || len(p.Items) != want {
					t.Errorf("%q: %d %s items, %v; want %d", name, len(p.Items), ds, err, want)
				}
				for _, it := range p.Items {
					if name != "" && !strings.Contains(string(it.JSON), `"`+name+`"`) {
						t.Errorf("%q: listed another sensor's %s: %s", name, ds, it.JSON)
					}
				}
			}
			counts, err := s.AlertCounts(ctx, r)
			if err != nil || name == "" && len(counts) != 3 || name != "" && (len(counts) != 1 || counts[0].RuleID != "PS-"+name) {
				t.Errorf("%q: alert counts %+v %v", name, counts, err)
			}
			pts, err := s.Series(ctx, SeriesQuery{Range: Range{Since: t0, Until: t0.Add(time.Second), Sensor: name}, Resolution: time.Second})
			if err != nil || len(pts) != 1 || pts[0].Packets != wantPackets {
				t.Errorf("%q: series %+v %v; want %d packets", name, pts, err, wantPackets)
			}
		}
		r := day
		r.Sensor = "edge-z"
		if tot, err := s.Totals(ctx, r); err != nil || tot.Flows != 0 {
			t.Errorf("a sensor that sent nothing: %+v %v", tot, err)
		}
	})
}

// The migration that adds the sensor column keeps the traffic buckets of
// before (SQLite rebuilds the table), with no sensor, and later buckets of
// the same second and interface from a named sensor add up beside them.
func TestSensorMigrationKeepsTraffic(t *testing.T) {
	forEach(t, func(t *testing.T, mk func(testing.TB) Config) {
		ctx := context.Background()
		cfg := mk(t).WithDefaults()
		ms, err := Migrations(cfg.Driver)
		if err != nil {
			t.Fatal(err)
		}
		before := 0
		for _, m := range ms {
			if strings.HasSuffix(m.Name, "_sensor") {
				before = m.Version - 1
			}
		}
		old, err := openVersion(ctx, cfg, before)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := old.DB().ExecContext(ctx, old.rebind("INSERT INTO traffic (res, ts, iface, packets) VALUES (?, ?, ?, ?)"), 1, t0.Unix(), "eth0", 7); err != nil {
			t.Fatal(err)
		}
		old.Close()
		s := open(t, cfg)
		b := bucket(t0, "eth0", 5, 1, 1, nil)
		b.Observer.Name = "edge-a"
		if _, err := s.Insert(ctx, []schemas.Record{record(t, b)}); err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]int64{"": 12, "edge-a": 5} {
			pts, err := s.Series(ctx, SeriesQuery{Range: Range{Since: t0, Until: t0.Add(time.Second), Sensor: name}, Resolution: time.Second})
			if err != nil || len(pts) != 1 || pts[0].Packets != want {
				t.Errorf("sensor %q: %+v %v; want %d packets", name, pts, err, want)
			}
		}
	})
}
