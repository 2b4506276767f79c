package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// MySQL/MariaDB: the queries of this package are written for SQLite and
// PostgreSQL; mysqlDialect turns the few that differ. Batches are written
// with multi-row INSERT IGNORE (the unique (event_id, ts) key drops what is
// stored already), and the event tables are partitioned by day (see
// migrations/mysql/0001_init.sql).

// mysqlDSN adds what the store needs to a go-sql-driver DSN: several
// statements per Exec (migrations) and client-side placeholders (one round
// trip per multi-row insert instead of a prepare and an execute).
func mysqlDSN(dsn string) string {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "multiStatements=true&interpolateParams=true"
}

var upsertAdd = regexp.MustCompile(`(\w+) = traffic\.\w+ \+ excluded\.(\w+)`)

// mysqlDialect rewrites a query of this package for MySQL.
func mysqlDialect(q string) string {
	switch q {
	case sensorsUpsert:
		return sensorsUpsertMySQL
	case hostsUpsert:
		return hostsUpsertMySQL
	}
	if body, ok := strings.CutSuffix(q, " ON CONFLICT DO NOTHING"); ok {
		q = "INSERT IGNORE INTO" + strings.TrimPrefix(body, "INSERT INTO")
	}
	if head, sets, ok := strings.Cut(q, "ON CONFLICT (res, ts, sensor, iface) DO UPDATE SET"); ok {
		// IGNORE: a name longer than the column is cut, not an error
		q = "INSERT IGNORE INTO" + strings.TrimPrefix(head, "INSERT INTO") + "ON DUPLICATE KEY UPDATE" +
			upsertAdd.ReplaceAllString(sets, "$1 = $1 + VALUES($2)")
	}
	q = strings.ReplaceAll(q, " AS BIGINT)", " AS SIGNED)")
	return strings.ReplaceAll(q, " AS TEXT)", " AS CHAR)")
}

// mysqlChunk is the most rows of one INSERT: 1000 flows of ~1 KiB stay far
// below the server's max_allowed_packet (16 MiB by default).
const mysqlChunk = 1000

// insertMulti is Insert on MySQL.
func (s *Store) insertMulti(ctx context.Context, rows map[string][][]any, buckets []row, st InsertStats) (InsertStats, error) {
	if err := s.ensureMySQLPartitions(ctx, rows); err != nil {
		return st, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return st, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	var args []any
	for _, table := range eventTables {
		cols := rowColumns[table]
		one := "(?" + strings.Repeat(", ?", len(cols)-1) + ")"
		for rs := range slices.Chunk(rows[table], mysqlChunk) {
			args = args[:0]
			for _, r := range rs {
				args = append(args, r...)
			}
			q := "INSERT IGNORE INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " + one + strings.Repeat(", "+one, len(rs)-1)
			res, err := tx.ExecContext(ctx, q, args...)
			if err != nil {
				return st, fmt.Errorf("store: insert into %s: %w", table, err)
			}
			n, _ := res.RowsAffected()
			st.add(table, int(n), len(rs)-int(n))
		}
	}
	exec := func(table string, args ...any) (int64, error) {
		res, err := tx.ExecContext(ctx, s.insertQ[table], args...)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}
	if err := addAggregates(buckets, rows, exec, &st); err != nil {
		return st, err
	}
	if err := tx.Commit(); err != nil {
		return st, fmt.Errorf("store: commit: %w", err)
	}
	return st, nil
}

// mysqlPartition is a partition and its bound (exclusive; 0 for pmax).
type mysqlPartition struct {
	name  string
	bound int64
}

func (s *Store) mysqlPartitions(ctx context.Context, table string) ([]mysqlPartition, error) {
	rs, err := s.db.QueryContext(ctx, `SELECT PARTITION_NAME, PARTITION_DESCRIPTION FROM information_schema.PARTITIONS
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND PARTITION_NAME IS NOT NULL`, table)
	if err != nil {
		return nil, fmt.Errorf("store: partitions of %s: %w", table, err)
	}
	defer rs.Close()
	var ps []mysqlPartition
	for rs.Next() {
		var name string
		var desc sql.NullString
		if err := rs.Scan(&name, &desc); err != nil {
			return nil, err
		}
		b, _ := strconv.ParseInt(desc.String, 10, 64) // MAXVALUE: 0
		ps = append(ps, mysqlPartition{name, b})
	}
	return ps, rs.Err()
}

// ensureMySQLPartitions splits off pmax a partition for each day of the
// rows newer than the newest partition. Older days need none: their rows
// go to the next partition, which retention drops only once it is wholly
// past the cut, so with them.
func (s *Store) ensureMySQLPartitions(ctx context.Context, rows map[string][][]any) error {
	for _, table := range eventTables {
		rs := rows[table]
		s.mu.Lock()
		newest, known := s.newest[table]
		s.mu.Unlock()
		var days []int64
		for _, r := range rs {
			d := dayOf(r[0].(int64))
			if (!known || (d+1)*nsPerDay > newest) && !slices.Contains(days, d) {
				days = append(days, d)
			}
		}
		if len(days) == 0 {
			continue
		}
		ps, err := s.mysqlPartitions(ctx, table)
		if err != nil {
			return err
		}
		newest = 0
		for _, p := range ps {
			newest = max(newest, p.bound)
		}
		days = slices.DeleteFunc(days, func(d int64) bool { return (d+1)*nsPerDay <= newest })
		slices.Sort(days)
		if len(ps)+len(days) > s.maxParts {
			days = days[:max(0, s.maxParts-len(ps))]
		}
		if len(days) > 0 {
			var parts []string
			for _, d := range days {
				parts = append(parts, fmt.Sprintf("PARTITION p%s VALUES LESS THAN (%d)",
					time.Unix(0, d*nsPerDay).UTC().Format("20060102"), (d+1)*nsPerDay))
			}
			_, err := s.db.ExecContext(ctx, "ALTER TABLE "+table+" REORGANIZE PARTITION pmax INTO ("+
				strings.Join(parts, ", ")+", PARTITION pmax VALUES LESS THAN MAXVALUE)")
			var me *mysql.MySQLError
			// 1517: duplicate partition name, 1493: bounds out of order:
			// another writer split those days off first
			if err != nil && !(errors.As(err, &me) && (me.Number == 1517 || me.Number == 1493)) {
				return fmt.Errorf("store: partitions of %s: %w", table, err)
			}
			if err == nil {
				newest = max(newest, (days[len(days)-1]+1)*nsPerDay)
			}
		}
		s.mu.Lock()
		s.newest[table] = newest
		s.mu.Unlock()
	}
	return nil
}

// dropMySQLPartitions is dropPartitions on MySQL: the day partitions whose
// bound is at or before cut.
func (s *Store) dropMySQLPartitions(ctx context.Context, table string, cut time.Time) (map[string]int64, error) {
	ps, err := s.mysqlPartitions(ctx, table)
	if err != nil {
		return nil, err
	}
	n := map[string]int64{}
	for _, p := range ps {
		if p.name == "pmax" || p.bound > cut.UnixNano() {
			continue
		}
		if err := s.countRows(ctx, table, "SELECT %s COUNT(*) FROM "+table+" PARTITION ("+p.name+")", n); err != nil {
			return nil, err
		}
		if _, err := s.db.ExecContext(ctx, "ALTER TABLE "+table+" DROP PARTITION "+p.name); err != nil {
			return nil, fmt.Errorf("store: drop %s of %s: %w", p.name, table, err)
		}
	}
	return n, nil
}

// countRows adds to n the rows q counts, by dataset for the events table
// ("" for the others). q has a %s for the selected dataset column.
func (s *Store) countRows(ctx context.Context, table, q string, n map[string]int64) error {
	sel, group := "'',", ""
	if table == "events" {
		sel, group = "dataset,", " GROUP BY dataset"
	}
	rs, err := s.db.QueryContext(ctx, fmt.Sprintf(q, sel)+group)
	if err != nil {
		return fmt.Errorf("store: count %s: %w", table, err)
	}
	defer rs.Close()
	for rs.Next() {
		var ds string
		var c int64
		if err := rs.Scan(&ds, &c); err != nil {
			return err
		}
		n[ds] += c
	}
	return rs.Err()
}
