package store

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/store/storetest"
)

// A PostgreSQL store of schema version 3 with rows upgrades to day
// partitions: rows, row ids, event ids and acknowledgements are kept, the
// keys still drop what is sent again, new rows get new ids; retention drops
// whole partitions, and a writer whose partition another process dropped
// makes it again.
func TestPartitionsUpgradeAndRetention(t *testing.T) {
	dsn := os.Getenv("PS_TEST_PG")
	if dsn == "" {
		t.Skip("PS_TEST_PG is not set: eval \"$(../../shared/services/start-postgres.sh)\"")
	}
	ctx := context.Background()
	cfg := pgSchema(t, dsn)
	cfg.Retention = map[string]Duration{"flow": Duration(24 * time.Hour)}
	cfg.PruneInterval = -1
	day := func(d, h int) time.Time { return time.Date(2026, 11, 20+d, h, 0, 0, 0, time.UTC) }
	flowAt := func(ts time.Time, port int) schemas.Record {
		f := makeFlows(1)[0]
		f.end, f.dport = ts, port
		return record(t, f.event())
	}
	old := []schemas.Record{flowAt(day(1, 10), 1), flowAt(day(1, 11), 2), flowAt(day(2, 10), 3)}

	v3, err := openVersion(ctx, cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := range old {
		var r row
		if err := r.decode(&old[i], i); err != nil {
			t.Fatal(err)
		}
		// the columns of version 3: those of today but the sensor, the
		// last, and ts_start (not null then; migration 15 dropped it)
		n := len(rowColumns["flows"]) - 1
		cols := append([]string{"ts_start"}, rowColumns["flows"][:n]...)
		vals := append([]any{r.Timestamp.UnixNano()}, r.values("flows", &old[i], false)[:n]...)
		q := "INSERT INTO flows (" + strings.Join(cols, ", ") + ") VALUES (?" + strings.Repeat(", ?", len(cols)-1) + ")"
		if _, err := v3.DB().ExecContext(ctx, v3.rebind(q), vals...); err != nil {
			t.Fatal(err)
		}
	}
	v3.Close()

	s := open(t, cfg)
	if v, err := s.SchemaVersion(ctx); err != nil || v < 4 {
		t.Fatalf("version %d, %v", v, err)
	}
	count := func(q string) (n int) {
		t.Helper()
		if err := s.DB().QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	parts := func() int { // the day partitions, not the default one
		return count(`SELECT COUNT(*) FROM pg_inherits WHERE inhparent = to_regclass('flows')`) - 1
	}
	if n, ids, p := count(`SELECT COUNT(*) FROM flows`), count(`SELECT COUNT(DISTINCT event_id) FROM flows WHERE id BETWEEN 1 AND 3`), parts(); n != 3 || ids != 3 || p != 2 {
		t.Fatalf("after upgrade: %d rows, %d with their ids and event ids, %d partitions; want 3, 3, 2", n, ids, p)
	}
	st, err := s.Insert(ctx, append(old, flowAt(day(3, 10), 4)))
	if err != nil {
		t.Fatal(err)
	}
	if st.Flows != 1 || st.Duplicates != 3 {
		t.Errorf("insert after upgrade: %+v; want 1 new, 3 duplicates", st)
	}
	if n := count(`SELECT COUNT(*) FROM flows WHERE id > 3`); n != 1 || parts() != 3 {
		t.Errorf("the new row: %d with a new id, %d partitions", n, parts())
	}

	// retention 1 day at day 3 12:00: day 1 goes as a partition, day 2's
	// row by DELETE
	pr, err := s.Prune(ctx, day(3, 12))
	if err != nil {
		t.Fatal(err)
	}
	if pr["flow"] != 3 || parts() != 2 || count(`SELECT COUNT(*) FROM flows`) != 1 {
		t.Errorf("prune: %v, %d partitions, %d rows; want 3 deleted, 2 partitions, 1 row", pr, parts(), count(`SELECT COUNT(*) FROM flows`))
	}

	// a late event of day 1: its partition is made again; then another
	// process drops it and this one writes there again (into the default
	// partition)
	if _, err := s.Insert(ctx, []schemas.Record{flowAt(day(1, 12), 5)}); err != nil {
		t.Fatal(err)
	}
	other := open(t, cfg)
	if _, err := other.Prune(ctx, day(3, 12)); err != nil {
		t.Fatal(err)
	}
	if st, err := s.Insert(ctx, []schemas.Record{flowAt(day(1, 13), 6)}); err != nil || st.Flows != 1 {
		t.Fatalf("insert into a partition another process dropped: %+v %v", st, err)
	}
}

// On MariaDB a day is split off pmax before its first row; a row of an
// older day lands in the next partition; retention drops the partitions
// wholly past the cut and deletes the rest.
func TestMySQLPartitions(t *testing.T) {
	dsn, sock := os.Getenv("PS_TEST_MARIADB"), os.Getenv("PS_TEST_MARIADB_SOCKET")
	if dsn == "" || sock == "" {
		t.Skip("PS_TEST_MARIADB is not set: eval \"$(../../shared/services/start-mariadb.sh)\"")
	}
	ctx := context.Background()
	cfg := Config{Driver: MySQL, DSN: outputs.Secret(storetest.MySQLDatabase(t, dsn, sock)), PruneInterval: -1,
		Retention: map[string]Duration{"flow": Duration(24 * time.Hour)}}
	s := open(t, cfg)
	day := func(d, h int) time.Time { return time.Date(2026, 11, 20+d, h, 0, 0, 0, time.UTC) }
	flowAt := func(ts time.Time, port int) schemas.Record {
		f := makeFlows(1)[0]
		f.end, f.dport = ts, port
		return record(t, f.event())
	}
	names := func() []string {
		ps, err := s.mysqlPartitions(ctx, "flows")
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, p := range ps {
			n = append(n, p.name)
		}
		return n
	}
	batch := []schemas.Record{flowAt(day(1, 10), 1), flowAt(day(3, 10), 2), flowAt(day(1, 11), 3)}
	if st, err := s.Insert(ctx, batch); err != nil || st.Flows != 3 {
		t.Fatalf("insert: %+v %v", st, err)
	}
	if st, err := s.Insert(ctx, append(batch, flowAt(day(2, 10), 4))); err != nil || st.Flows != 1 || st.Duplicates != 3 {
		t.Fatalf("insert again with an older day: %+v %v", st, err)
	}
	if got := names(); !slices.Equal(got, []string{"p20261121", "p20261123", "pmax"}) {
		t.Errorf("partitions %v", got)
	}
	// at day 3 12:00 the cut is day 2 12:00: p20261121 goes whole (2 rows),
	// day 2's row, held by p20261123, is deleted
	pr, err := s.Prune(ctx, day(3, 12))
	if err != nil {
		t.Fatal(err)
	}
	var left int
	s.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM flows").Scan(&left)
	if pr["flow"] != 3 || left != 1 || !slices.Equal(names(), []string{"p20261123", "pmax"}) {
		t.Errorf("prune: %v, %d rows left, partitions %v", pr, left, names())
	}
}

// The day partitions of a PostgreSQL table are bounded: past maxParts the
// rows of further days land in the default partition, none lost; a day
// with rows there keeps landing there even once there is room; retention
// drops the old partitions and deletes the default partition's old rows,
// and new days get partitions again.
func TestPartitionCountBounded(t *testing.T) {
	dsn := os.Getenv("PS_TEST_PG")
	if dsn == "" {
		t.Skip("PS_TEST_PG is not set: eval \"$(../../shared/services/start-postgres.sh)\"")
	}
	ctx := context.Background()
	cfg := pgSchema(t, dsn)
	cfg.Retention = map[string]Duration{"flow": Duration(3 * 24 * time.Hour)}
	cfg.PruneInterval = -1
	s := open(t, cfg)
	s.maxParts = 3
	day := func(d int) time.Time { return time.Date(2026, 11, 1+d, 12, 0, 0, 0, time.UTC) }
	flowAt := func(ts time.Time, port int) schemas.Record {
		f := makeFlows(1)[0]
		f.end, f.dport = ts, port
		return record(t, f.event())
	}
	count := func(q string) (n int) {
		t.Helper()
		if err := s.DB().QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	parts := func() int {
		return count(`SELECT COUNT(*) FROM pg_inherits WHERE inhparent = to_regclass('flows')`) - 1 // the default
	}
	var batch []schemas.Record
	for d := range 6 { // a flow on each of days 0..5
		batch = append(batch, flowAt(day(d), d))
	}
	if st, err := s.Insert(ctx, batch); err != nil || st.Flows != 6 {
		t.Fatalf("insert 6 days: %+v %v", st, err)
	}
	if p, def := parts(), count(`SELECT COUNT(*) FROM flows_pdefault`); p != 3 || def != 3 || count(`SELECT COUNT(*) FROM flows`) != 6 {
		t.Fatalf("%d day partitions, %d rows in the default one; want 3 and 3, 6 rows in all", p, def)
	}
	// retention of 3 days at day 6: days 0..2 go as partitions, day 3's
	// row from the default partition by DELETE
	pr, err := s.Prune(ctx, day(6).Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if pr["flow"] != 4 || parts() != 0 || count(`SELECT COUNT(*) FROM flows`) != 2 {
		t.Errorf("prune: %v, %d partitions, %d rows; want 4 deleted, 0 partitions, 2 rows", pr, parts(), count(`SELECT COUNT(*) FROM flows`))
	}
	// day 4 has a row in the default partition: its new rows join it; day
	// 7 gets a partition
	if st, err := s.Insert(ctx, []schemas.Record{flowAt(day(4).Add(time.Minute), 40), flowAt(day(7), 7)}); err != nil || st.Flows != 2 {
		t.Fatalf("insert after prune: %+v %v", st, err)
	}
	if p, def := parts(), count(`SELECT COUNT(*) FROM flows_pdefault`); p != 1 || def != 3 {
		t.Errorf("after prune and insert: %d day partitions, %d rows in the default one; want 1 and 3", p, def)
	}
}
