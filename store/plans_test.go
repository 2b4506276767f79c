package store

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// The web UI's and API's list queries that migration 12 concerns use an
// index on PostgreSQL (the Community ID index became a partial hash index,
// the event_id key starts with ts):
// EXPLAIN of the query List runs, with sequential scans priced out and a
// generic plan (the one a cached prepared statement may get: the values
// unknown), names the index each filter needs.
func TestListQueriesUseIndexes(t *testing.T) {
	dsn := os.Getenv("PS_TEST_PG")
	if dsn == "" {
		t.Skip("PS_TEST_PG is not set: eval \"$(../../shared/services/start-postgres.sh)\"")
	}
	ctx := context.Background()
	s := open(t, pgSchema(t, dsn))
	var recs []schemas.Record
	for _, f := range makeFlows(2000) {
		recs = append(recs, record(t, f.event()))
	}
	for i := range 200 {
		ev := &schemas.Event{Timestamp: t0.Add(time.Duration(i) * time.Second)}
		ev.Event = schemas.EventMeta{Kind: "event", Dataset: schemas.DatasetDNS}
		ev.Network.CommunityID = fmt.Sprintf("1:dns%d", i)
		recs = append(recs, record(t, ev))
	}
	insertAll(t, s, recs, 1000)
	conn, err := s.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{"ANALYZE flows", "ANALYZE events", "SET enable_seqscan = off", "SET plan_cache_mode = force_generic_plan"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	day := Range{Since: t0, Until: t0.Add(time.Hour)}
	for _, c := range []struct {
		q       ListQuery
		want    []string // index names (of the partitions: <partition>_<columns>_idx) the plan must use
		ordered bool     // in the index's order: no sort of all the rows
	}{
		{ListQuery{Dataset: "flow", CommunityID: "1:cid7"}, []string{"community_id_idx"}, false},
		{ListQuery{Dataset: "dns", CommunityID: "1:dns7"}, []string{"community_id_idx"}, false},
		// flows have no (ts, id) index: the unique key gives the ts order
		{ListQuery{Dataset: "flow", Range: day}, []string{"ts_event_id_idx"}, true},
		{ListQuery{Dataset: "flow", Range: day, Desc: true, After: fmt.Sprintf("%d.7", t0.Add(time.Minute).UnixNano())}, []string{"ts_event_id_idx"}, true},
		{ListQuery{Dataset: "flow", Desc: true}, []string{"ts_event_id_idx"}, true},
		{ListQuery{Dataset: "dns", Range: day, Desc: true}, []string{"dataset_ts_id_idx"}, true},
	} {
		_, query, args, err := s.listSQL(c.q)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "PREPARE list AS "+query); err != nil {
			t.Fatal(err)
		}
		lits := make([]string, len(args))
		for i, a := range args {
			lits[i] = fmt.Sprint(a)
			if v, ok := a.(string); ok {
				lits[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
			}
		}
		rows, err := conn.QueryContext(ctx, "EXPLAIN EXECUTE list("+strings.Join(lits, ", ")+")")
		if err != nil {
			t.Fatal(err)
		}
		var plan strings.Builder
		for rows.Next() {
			var line string
			rows.Scan(&line)
			plan.WriteString(line + "\n")
		}
		rows.Close()
		if _, err := conn.ExecContext(ctx, "DEALLOCATE list"); err != nil {
			t.Fatal(err)
		}
		if c.ordered && fullSort.MatchString(plan.String()) {
			t.Errorf("%+v: the plan sorts all the rows:\n%s", c.q, plan.String())
		}
		for _, idx := range c.want {
			if !strings.Contains(plan.String(), idx) {
				t.Errorf("%+v: the plan uses no %s index:\n%s", c.q, idx, plan.String())
			}
		}
	}
}

// fullSort is a plan's Sort node (an Incremental Sort sorts only the rows
// of one key, in the order an index gives).
var fullSort = regexp.MustCompile(`(?m)^\s*(->\s+)?Sort\s+\(`)
