package store

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// splitRows gives every row to exactly one writer, all copies of one
// event.id to the same one, the other tables' rows to the first, and
// splits a small batch less.
func TestSplitRows(t *testing.T) {
	rows := map[string][][]any{"sensors": {{"s1"}}, "hosts": {{"h1"}}}
	cols := len(rowColumns["flows"])
	for i := range 3000 {
		r := make([]any, cols)
		r[idColumn["flows"]] = fmt.Sprintf("id-%d", i%2500) // 500 ids twice
		if i%1000 == 7 {
			r[idColumn["flows"]] = nil // no event.id
		}
		rows["flows"] = append(rows["flows"], r)
	}
	parts := splitRows(rows, 4)
	if len(parts) != 4 {
		t.Fatalf("%d parts, want 4", len(parts))
	}
	seen := map[any]int{}
	n := 0
	for i, p := range parts {
		if len(p["flows"]) < 500 {
			t.Errorf("part %d: %d flows, want a fair share of 3000", i, len(p["flows"]))
		}
		for _, r := range p["flows"] {
			n++
			id := r[idColumn["flows"]]
			if id == nil {
				if i != 0 {
					t.Errorf("a row without id in part %d", i)
				}
				continue
			}
			if j, ok := seen[id]; ok && j != i {
				t.Errorf("id %v in parts %d and %d", id, j, i)
			}
			seen[id] = i
		}
		if (len(p["sensors"]) == 1) != (i == 0) || (len(p["hosts"]) == 1) != (i == 0) {
			t.Errorf("part %d: sensors %v hosts %v", i, p["sensors"], p["hosts"])
		}
	}
	if n != 3000 {
		t.Errorf("%d rows in the parts, want 3000", n)
	}
	if got := len(splitRows(rows, 8)); got != 6 {
		t.Errorf("3000 rows among 8 writers: %d parts, want 6 (%d rows each at least)", got, minWriterRows)
	}
	small := map[string][][]any{"flows": rows["flows"][:999]}
	if got := len(splitRows(small, 4)); got != 1 {
		t.Errorf("999 rows: %d parts, want 1", got)
	}
}

// With several writers a batch is written in parts at once: every event
// once, copies in the batch and a redelivery of the whole batch dropped,
// the buckets added once.
func TestWritersExactlyOnce(t *testing.T) {
	dsn := os.Getenv("PS_TEST_PG")
	if dsn == "" {
		t.Skip("PS_TEST_PG is not set: eval \"$(../../shared/services/start-postgres.sh)\"")
	}
	ctx := context.Background()
	cfg := pgSchema(t, dsn)
	cfg.Writers = 3
	s := open(t, cfg)
	var recs []schemas.Record
	for _, f := range makeFlows(3000) {
		recs = append(recs, record(t, f.event()))
	}
	recs = append(recs, recs[:400]...) // copies in the same batch
	b := bucket(t0, "eth0", 2, 120, 1, map[string]int64{"tcp": 120})
	b.Event.ID = "bucket-1"
	recs = append(recs, record(t, b))
	count := func() (flows, ids, packets int64) {
		if err := s.DB().QueryRowContext(ctx, "SELECT COUNT(*), COUNT(DISTINCT event_id) FROM flows").Scan(&flows, &ids); err != nil {
			t.Fatal(err)
		}
		if err := s.DB().QueryRowContext(ctx, "SELECT COALESCE(SUM(packets), 0) FROM traffic WHERE res = 1").Scan(&packets); err != nil {
			t.Fatal(err)
		}
		return
	}
	st, err := s.Insert(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	if f, ids, p := count(); f != 3000 || ids != 3000 || p != 2 || st.Flows != 3000 || st.Duplicates != 400 || st.Buckets != 1 {
		t.Fatalf("first insert: %d flows, %d ids, %d packets; %+v", f, ids, p, st)
	}
	st, err = s.Insert(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	if f, ids, p := count(); f != 3000 || ids != 3000 || p != 2 || st.Flows != 0 || st.Duplicates != len(recs) {
		t.Fatalf("again: %d flows, %d ids, %d packets; %+v", f, ids, p, st)
	}
}

// writers is for PostgreSQL, and bounded.
func TestWritersConfig(t *testing.T) {
	for _, c := range []Config{
		{Driver: SQLite, Path: "x.db", Writers: 2},
		{Driver: Postgres, DSN: "postgres://h/db", Writers: -1},
		{Driver: Postgres, DSN: "postgres://h/db", Writers: maxWriters + 1},
	} {
		if err := c.WithDefaults().Validate(); err == nil {
			t.Errorf("%s writers %d: no error", c.Driver, c.Writers)
		}
	}
	if c := (Config{Driver: Postgres, DSN: "postgres://h/db"}).WithDefaults(); c.Writers != 1 || c.Validate() != nil {
		t.Errorf("default writers %d, %v", c.Writers, c.Validate())
	}
}
