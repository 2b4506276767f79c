package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// On PostgreSQL the event tables are partitioned by UTC day of ts
// (migration 0004): a day's partition is made before its first row, up to
// maxDayPartitions a table, past which rows land in the default partition
// (migration 0009); retention drops the partitions wholly past it and
// deletes the rest row by row. MySQL: see mysql.go.

const nsPerDay = int64(24 * time.Hour)

// dayOf is the day number (since 1970-01-01 UTC) of a ts in Unix ns.
func dayOf(ts int64) int64 {
	d := ts / nsPerDay
	if ts%nsPerDay < 0 {
		d--
	}
	return d
}

// maxDayPartitions bounds the day partitions of a table (MySQL allows
// 8192; PostgreSQL plans slower with each): past it a batch's days get
// none (capture times spread over years, by accident or on purpose), their
// rows go to the catch-all partition (PostgreSQL: <table>_pdefault, MySQL:
// pmax) and retention deletes them row by row.
const maxDayPartitions = 1000

// ensurePartitions makes the partitions the rows of each table need, once
// per process and day (ps_ensure_partition makes nothing that exists), as
// long as the table has fewer than s.maxParts.
func (s *Store) ensurePartitions(ctx context.Context, rows map[string][][]any) error {
	for _, table := range eventTables {
		n := -1 // the table's day partitions, counted when a day needs one
		for _, r := range rows[table] {
			ts := r[0].(int64) // ts is the first column of every event table
			key := partKey{table, dayOf(ts)}
			if _, ok := s.parts.Load(key); ok {
				continue
			}
			if n < 0 {
				if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
					WHERE i.inhparent = to_regclass($1) AND c.relname <> $2`, table, table+"_pdefault").Scan(&n); err != nil {
					return fmt.Errorf("store: partitions of %s: %w", table, err)
				}
			}
			if n >= s.maxParts {
				continue // to the default partition
			}
			if _, err := s.db.ExecContext(ctx, "SELECT ps_ensure_partition($1, $2)", table, ts); err != nil {
				return fmt.Errorf("store: partition of %s for %s: %w", table, time.Unix(0, key.day*nsPerDay).UTC().Format(time.DateOnly), err)
			}
			s.parts.Store(key, true)
			n++
		}
	}
	return nil
}

type partKey struct {
	table string
	day   int64
}

// dropPartitions drops the partitions of table whose whole day is before
// cut and returns the rows they held, by dataset for the events table
// (by "" for the others).
func (s *Store) dropPartitions(ctx context.Context, table string, cut time.Time) (map[string]int64, error) {
	if s.driver == MySQL {
		return s.dropMySQLPartitions(ctx, table, cut)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = to_regclass($1)`, table)
	if err != nil {
		return nil, fmt.Errorf("store: partitions of %s: %w", table, err)
	}
	var old []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return nil, err
		}
		day, err := time.Parse("20060102", strings.TrimPrefix(name, table+"_p"))
		if err != nil {
			continue // not one of ours
		}
		if !day.Add(24 * time.Hour).After(cut) {
			old = append(old, name)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	n := map[string]int64{}
	for _, name := range old {
		if err := s.countRows(ctx, table, "SELECT %s COUNT(*) FROM "+quoteIdent(name), n); err != nil {
			return nil, err
		}
		if _, err := s.db.ExecContext(ctx, "DROP TABLE "+quoteIdent(name)); err != nil {
			return nil, fmt.Errorf("store: drop %s: %w", name, err)
		}
		s.parts.Range(func(k, _ any) bool {
			if pk := k.(partKey); pk.table == table && time.Unix(0, pk.day*nsPerDay).UTC().Format("20060102") == strings.TrimPrefix(name, table+"_p") {
				s.parts.Delete(k)
			}
			return true
		})
	}
	return n, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
