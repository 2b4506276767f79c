package store

import (
	"context"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// Inserting the same records again (a re-replay, an output's redelivery)
// writes nothing twice: rows are keyed by event.id and the traffic buckets
// are added once per bucket event.
func TestInsertIdempotentByEventID(t *testing.T) {
	forEach(t, func(t *testing.T, mk func(testing.TB) Config) {
		ctx := context.Background()
		s := open(t, mk(t))
		var recs []schemas.Record
		for _, f := range makeFlows(40) {
			recs = append(recs, record(t, f.event()))
		}
		dns := &schemas.Event{Timestamp: t0}
		dns.Event = schemas.EventMeta{Kind: "event", Dataset: schemas.DatasetDNS}
		alert := &schemas.Event{Timestamp: t0}
		alert.Event = schemas.EventMeta{Kind: "alert", Dataset: schemas.DatasetAlert, Severity: 3}
		alert.Rule.ID = "r1"
		recs = append(recs, record(t, dns), record(t, alert))
		// two workers' buckets of one second, byte-identical but for the
		// id their worker gives them, both count
		for _, id := range []string{"bucket-worker-0", "bucket-worker-1"} {
			b := bucket(t0, "eth0", 2, 120, 1, map[string]int64{"tcp": 120})
			b.Event.ID = id
			recs = append(recs, record(t, b))
		}
		rows := func() (n [4]int64) {
			for i, q := range []string{"SELECT COUNT(*) FROM flows", "SELECT COUNT(*) FROM alerts",
				"SELECT COUNT(*) FROM events", "SELECT COALESCE(SUM(packets), 0) FROM traffic WHERE res = 1"} {
				if err := s.DB().QueryRowContext(ctx, q).Scan(&n[i]); err != nil {
					t.Fatal(err)
				}
			}
			return n
		}
		st, err := s.Insert(ctx, recs)
		if err != nil {
			t.Fatal(err)
		}
		first := rows()
		if want := [4]int64{40, 1, 1, 4}; first != want || st.Duplicates != 0 {
			t.Fatalf("first insert: rows %v, want %v; %+v", first, want, st)
		}
		for range 2 {
			st, err := s.Insert(ctx, recs)
			if err != nil {
				t.Fatal(err)
			}
			if got := rows(); got != first || st.Duplicates != len(recs) || st.Flows+st.Alerts+st.Events+st.Buckets != 0 {
				t.Errorf("again: rows %v, want %v; %+v", got, first, st)
			}
		}
		pts, err := s.Series(ctx, SeriesQuery{Range: Range{Since: t0, Until: t0.Add(time.Hour)}, Resolution: time.Hour})
		if err != nil || len(pts) != 1 || pts[0].Packets != 4 || pts[0].Bytes != 240 {
			t.Errorf("hourly series after re-inserts: %+v %v", pts, err)
		}
		// Records without an id (older producers) are still written.
		noID := schemas.Record{Dataset: schemas.DatasetDNS, Kind: "event", Time: t0,
			JSON: []byte(`{"@timestamp":"2026-11-24T10:00:00Z","event":{"kind":"event","dataset":"packetsleuth.dns"}}`)}
		for range 2 {
			if _, err := s.Insert(ctx, []schemas.Record{noID}); err != nil {
				t.Fatal(err)
			}
		}
		if got := rows(); got[2] != 3 {
			t.Errorf("events without id: %d rows, want 3", got[2])
		}
	})
}

// A store of schema version 2 with rows in it upgrades: its rows keep a
// NULL event_id and the same events, inserted again with ids, are kept.
func TestEventIDMigrationKeepsOldRows(t *testing.T) {
	forEach(t, func(t *testing.T, mk func(testing.TB) Config) {
		ctx := context.Background()
		cfg := mk(t).WithDefaults()
		ms, err := Migrations(cfg.Driver)
		if err != nil {
			t.Fatal(err)
		}
		s, err := openVersion(ctx, cfg, 2)
		if err != nil {
			t.Fatal(err)
		}
		f := makeFlows(1)[0]
		if _, err := s.DB().ExecContext(ctx, s.rebind("INSERT INTO flows (ts, ts_start, doc) VALUES (?, ?, ?)"), f.end.UnixNano(), f.end.UnixNano(), "{}"); err != nil {
			t.Fatal(err)
		}
		s.Close()
		s = open(t, cfg)
		if v, err := s.SchemaVersion(ctx); err != nil || v != ms[len(ms)-1].Version {
			t.Fatalf("after upgrade: version %d, %v", v, err)
		}
		for range 2 {
			if _, err := s.Insert(ctx, []schemas.Record{record(t, f.event())}); err != nil {
				t.Fatal(err)
			}
		}
		var rows, nulls int
		s.DB().QueryRowContext(ctx, "SELECT COUNT(*), COUNT(*) - COUNT(event_id) FROM flows").Scan(&rows, &nulls)
		if rows != 2 || nulls != 1 {
			t.Errorf("after upgrade and two inserts: %d rows, %d without id; want 2, 1", rows, nulls)
		}
	})
}
