package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// insertCopy is Insert on PostgreSQL: the rows of each event table go with
// COPY (see copyRows), so a batch costs a few round trips instead of one
// per row and the rows the store already holds (by event.id) are still
// dropped. Traffic buckets, a few per second of traffic, are upserted one
// by one.
func (s *Store) insertCopy(ctx context.Context, rows map[string][][]any, buckets []row, st InsertStats) (InsertStats, error) {
	if err := s.ensurePartitions(ctx, rows); err != nil {
		return st, err
	}
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
	var r row
	for i := range batch {
		rec := &batch[i]
		table := s.tableOf(rec)
		if table == "" {
			st.Skipped++
			continue
		}
		if err := r.decode(rec, i); err != nil {
			bad = append(bad, err)
			continue
		}
		switch {
		case table == "traffic":
			buckets = append(buckets, r)
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
			rows[table] = append(rows[table], r.values(table, rec))
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
	n, err := sp.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
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
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{stage}, cols, pgx.CopyFromRows(rows)); err != nil {
		return 0, fmt.Errorf("store: copy into %s: %w", table, err)
	}
	tag, err := tx.Exec(ctx, "INSERT INTO "+table+" ("+list+") SELECT "+list+" FROM "+stage+" ON CONFLICT DO NOTHING")
	if err != nil {
		return 0, fmt.Errorf("store: insert into %s: %w", table, err)
	}
	return tag.RowsAffected(), nil
}
