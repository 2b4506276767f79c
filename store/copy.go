package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// insertCopy is Insert on PostgreSQL: the rows of each event table go with
// COPY (see copyRows), so a batch costs a few round trips instead of one
// per row and the rows the store already holds (by event.id) are still
// dropped. Traffic buckets, a few per second of traffic, are upserted one
// by one. With Writers > 1 a large batch is split among that many
// connections (see splitRows), written at once.
func (s *Store) insertCopy(ctx context.Context, rows map[string][][]any, buckets []row, st InsertStats) (InsertStats, error) {
	if err := s.ensurePartitions(ctx, rows); err != nil {
		return st, err
	}
	parts := splitRows(rows, s.cfg.Writers)
	if len(parts) == 1 {
		return s.copyTx(ctx, rows, buckets, st)
	}
	sts := make([]InsertStats, len(parts))
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, p := range parts {
		var b []row
		if i == 0 {
			b = buckets // with the sensors' and hosts' rows (splitRows)
		}
		wg.Go(func() { sts[i], errs[i] = s.copyTx(ctx, p, b, InsertStats{}) })
	}
	wg.Wait()
	for _, o := range sts {
		st.merge(o)
	}
	return st, errors.Join(errs...)
}

// minWriterRows is the fewest event rows per writer worth a connection of
// its own; maxWriters bounds Config.Writers.
const (
	minWriterRows = 500
	maxWriters    = 64
)

// splitRows splits a batch's rows among up to n writers, by a hash of
// event.id: the copies of one event (a redelivery in the same batch) stay
// in one part, so two parts never wait on each other's unique keys. The
// first part takes the rows of the other tables. A batch with fewer than
// minWriterRows event rows a writer is split less, or not at all.
func splitRows(rows map[string][][]any, n int) []map[string][][]any {
	total := 0
	for _, t := range eventTables {
		total += len(rows[t])
	}
	n = min(n, total/minWriterRows)
	if n <= 1 {
		return []map[string][][]any{rows}
	}
	parts := make([]map[string][][]any, n)
	for i := range parts {
		parts[i] = map[string][][]any{}
	}
	for t, rs := range rows {
		col := idColumn[t]
		if col < 0 {
			parts[0][t] = rs
			continue
		}
		for _, r := range rs {
			i := 0
			if id, ok := r[col].(string); ok {
				i = int(fnv32(id) % uint32(n))
			}
			parts[i][t] = append(parts[i][t], r)
		}
	}
	return parts
}

// idColumn is the index of event_id in the rows of each table (-1: the
// table has none).
var idColumn = func() map[string]int {
	m := map[string]int{"sensors": -1, "hosts": -1}
	for t, cols := range rowColumns {
		m[t] = slices.Index(cols, "event_id")
	}
	return m
}()

// fnv32 is FNV-1a of s.
func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

// copyTx writes rows (and the aggregates) in one transaction.
func (s *Store) copyTx(ctx context.Context, rows map[string][][]any, buckets []row, st InsertStats) (InsertStats, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return st, fmt.Errorf("store: %w", err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			return fmt.Errorf("store: begin: %w", err)
		}
		defer tx.Rollback(ctx)
		for _, table := range eventTables {
			if len(rows[table]) == 0 {
				continue
			}
			n, err := copyRows(ctx, tx, table, rows[table])
			if err != nil {
				return err
			}
			st.add(table, int(n), len(rows[table])-int(n))
		}
		exec := func(table string, args ...any) (int64, error) {
			tag, err := tx.Exec(ctx, s.insertQ[table], args...)
			return tag.RowsAffected(), err
		}
		if err := addAggregates(buckets, rows, exec, &st); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("store: commit: %w", err)
		}
		return nil
	})
	return st, err
}

// decodeBatch decodes a batch into the column values of each event
// table's rows (and of the sensors' reports) and the traffic bucket events;
// the records that cannot be decoded are left out and returned in bad, in
// batch order.
func (s *Store) decodeBatch(batch []schemas.Record) (rows map[string][][]any, buckets []row, st InsertStats, bad []*RecordError) {
	rows = map[string][][]any{}
	var own row
	for i := range batch {
		rec := &batch[i]
		table := s.tableOf(rec)
		if table == "" {
			st.Skipped++
			continue
		}
		r, err := decodedRow(rec, i, &own)
		if err != nil {
			bad = append(bad, err)
			continue
		}
		switch {
		case table == "traffic":
			buckets = append(buckets, *r)
		case table == "sensors" && (r.PS.Stats.Interface != "" || r.sensorKey() == ""):
			st.Skipped++ // an interface's report (the sensor's own says it all), or one naming no sensor
		case table == "sensors":
			rows[table] = append(rows[table], r.sensorValues())
		case table == "hosts":
			stmt, args := r.hostValues()
			if stmt == "" {
				st.Skipped++ // a DHCP message that grants or ends no lease
				continue
			}
			rows[table] = append(rows[table], append([]any{stmt}, args...))
		default:
			rows[table] = append(rows[table], r.values(table, rec, s.driver == Postgres))
		}
	}
	return rows, buckets, st, bad
}

// eventTables are the tables of rowColumns, in the order a batch fills them.
var eventTables = []string{"flows", "alerts", "events"}

// copyRows copies rows into table and returns how many were new. The rows
// go straight into the table with COPY, under a savepoint; when one of them
// is stored already (a redelivery: COPY stops at the unique key), the
// savepoint is rolled back and the rows go through the staging table,
// whose INSERT ... SELECT ... ON CONFLICT DO NOTHING drops those. New rows,
// the common case, so cost one write instead of three (staging table,
// read back, table).
func copyRows(ctx context.Context, tx pgx.Tx, table string, rows [][]any) (int64, error) {
	cols := rowColumns[table]
	sp, err := tx.Begin(ctx) // a savepoint
	if err != nil {
		return 0, fmt.Errorf("store: savepoint: %w", err)
	}
	n, err := copyIn(ctx, sp, table, cols, rows)
	if err == nil {
		if err := sp.Commit(ctx); err != nil {
			return 0, fmt.Errorf("store: release savepoint: %w", err)
		}
		return n, nil
	}
	if err := sp.Rollback(ctx); err != nil {
		return 0, fmt.Errorf("store: rollback to savepoint: %w", err)
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23505" { // unique_violation
		return 0, fmt.Errorf("store: copy into %s: %w", table, err)
	}
	return copyStaged(ctx, tx, table, rows)
}

// copyStaged copies rows into table through its staging table, dropping
// those stored already, and returns how many were new.
func copyStaged(ctx context.Context, tx pgx.Tx, table string, rows [][]any) (int64, error) {
	cols := rowColumns[table]
	list := strings.Join(cols, ", ")
	stage := "ps_stage_" + table
	// ON COMMIT DELETE ROWS: the staging table is empty at every batch's start
	if _, err := tx.Exec(ctx, "CREATE TEMP TABLE IF NOT EXISTS "+stage+" ON COMMIT DELETE ROWS AS SELECT "+list+" FROM "+table+" WITH NO DATA"); err != nil {
		return 0, fmt.Errorf("store: staging table for %s: %w", table, err)
	}
	if _, err := copyIn(ctx, tx, stage, cols, rows); err != nil {
		return 0, fmt.Errorf("store: copy into %s: %w", table, err)
	}
	tag, err := tx.Exec(ctx, "INSERT INTO "+table+" ("+list+") SELECT "+list+" FROM "+stage+" ON CONFLICT DO NOTHING")
	if err != nil {
		return 0, fmt.Errorf("store: insert into %s: %w", table, err)
	}
	return tag.RowsAffected(), nil
}
