package store

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/outputs/outputstest"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// Records that cannot be decoded are reported by their place in the batch
// (what the collector dead-letters) and the others are written.
func TestSinkWriteReportsEachBadRecord(t *testing.T) {
	forEach(t, func(t *testing.T, mk func(testing.TB) Config) {
		k, err := NewSink(mk(t))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := k.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		defer k.Close(ctx)
		bad := schemas.Record{Dataset: schemas.DatasetFlow, Kind: "event", Time: t0, JSON: []byte(`{"source":{"port":"x"}}`)}
		var batch []schemas.Record
		for i, fl := range makeFlows(3) {
			if i > 0 {
				batch = append(batch, bad)
			}
			batch = append(batch, record(t, fl.event()))
		}
		err = k.Write(ctx, batch)
		var be *outputs.BatchError
		if !errors.As(err, &be) || !slices.Equal(be.Permanent, []int{1, 3}) || len(be.Failed) != 0 || len(be.Reasons) != 2 {
			t.Fatalf("Write: %v (%+v)", err, be)
		}
		for i, r := range be.Reasons {
			if want := []string{"record 1:", "record 3:"}[i]; !strings.Contains(r.Error(), want) {
				t.Errorf("reason %d: %q does not name %q", i, r, want)
			}
		}
		if k.Stats.Flows != 3 {
			t.Errorf("%d flows written, want the 3 good ones", k.Stats.Flows)
		}
	})
}

// The outputs' Fanout uses its copies of the records again once every
// output is done with them: each flow in the store must still be the
// document written (PostgreSQL's COPY sends the bytes without a copy).
func TestSinkSharedCopiesReachTheStore(t *testing.T) {
	forEach(t, func(t *testing.T, mk func(testing.TB) Config) {
		cfg := mk(t)
		sc := outputs.SinkConfig{Type: "store"}
		sc.SetOption("driver", cfg.Driver)
		if cfg.Driver == SQLite {
			sc.SetOption("path", cfg.Path)
		} else {
			sc.SetOption("dsn", cfg.DSN.Value())
		}
		sink, err := outputs.NewSink(sc)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{} // event.id → the document written
		var recs []schemas.Record
		for i, fl := range makeFlows(3000) {
			ev := fl.event()
			ev.Source.Port = 1024 + i // every document its own
			rec := record(t, ev)
			var doc any
			if err := json.Unmarshal(rec.JSON, &doc); err != nil {
				t.Fatal(err)
			}
			want[string(schemas.EventIDOf(rec.JSON))] = doc
			recs = append(recs, rec)
		}
		if sum := outputstest.WriteShared(t, sink, sc, recs, 64); sum.Sent != uint64(len(recs)) {
			t.Fatalf("summary %v", sum)
		}
		rows, err := open(t, cfg).DB().Query("SELECT event_id, doc FROM flows")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var id string
			var raw []byte
			var doc any
			if err := rows.Scan(&id, &raw); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &doc); err != nil || !reflect.DeepEqual(doc, want[id]) {
				t.Fatalf("flow %s is not the document written (%v): %.100s", id, err, raw)
			}
			n++
		}
		if err := rows.Err(); err != nil || n != len(recs) {
			t.Fatalf("%d flows of %d (%v)", n, len(recs), err)
		}
	})
}
