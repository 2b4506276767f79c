// Package store is PacketSleuth's history: ended flows, alerts, DPI events
// (DNS, HTTP, TLS) and the traffic time series, in SQLite (embedded, the
// default, zero set-up), PostgreSQL (shared or large installs) or
// MySQL/MariaDB.
//
// One schema serves both databases. Migrations are embedded SQL files per
// driver (migrations/<driver>/NNNN_name.sql) recorded in a schema_migrations
// table; Open applies the missing ones, so re-opening is idempotent. Every
// query is written once, with `?` placeholders, and runs unchanged on both
// (placeholders are rebound to $n for PostgreSQL). Times are stored as Unix
// nanoseconds, traffic buckets as Unix seconds.
//
// Writing: the Sink (type `store` in the outputs registry) gets batches from
// the shared outputs.Runner and inserts each batch in one transaction with
// prepared statements. Traffic buckets (dataset packetsleuth.timeseries) are
// upserted with addition into three resolutions at once (1 s, 1 min, 1 h),
// so buckets of several workers with the same time add up and the rollups
// are always current. Rows are keyed by event.id (unique, ON CONFLICT DO
// NOTHING) and the ids of the bucket events already added are kept as long
// as the 1 s series, so a re-replay or a redelivery writes nothing twice.
// Prune applies the retention of each level.
//
// Reading: the typed query API (Top, Series, Peaks, AlertCounts, List,
// Acknowledge, Bounds) is what `sensor report`, `sensor export` and the web
// UI use. Every time range is half-open: [Since, Until).
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/go-sql-driver/mysql" // database/sql driver "mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"
)

// Drivers.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
	MySQL    = "mysql" // MySQL or MariaDB
)

// DefaultPath is the SQLite file used when Config.Path is empty.
const DefaultPath = "packetsleuth.db"

//go:embed migrations
var migrationsFS embed.FS

// Store is an open history database. It is safe for concurrent use.
type Store struct {
	db     *sql.DB
	driver string
	cfg    Config
	stmts  map[string]*sql.Stmt // insert statements, by table
	// insertQ is the text of stmts for the driver (PostgreSQL and MySQL
	// run it in their own transactions; rebound once, not per bucket).
	insertQ map[string]string
	tables  map[string]string // event.dataset → table, the kept datasets only
	parts   sync.Map          // PostgreSQL: partKey of the partitions made
	// maxParts bounds the day partitions of a table (maxDayPartitions).
	maxParts int
	sensors  sensorCache // the agent ids the sensors table holds

	mu     sync.Mutex
	newest map[string]int64 // MySQL: bound of the newest day partition, by table
}

// Open opens (creating when needed) the database cfg names and applies the
// missing migrations.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	return openVersion(ctx, cfg, 0)
}

// openVersion is Open applying the migrations up to version upTo only (0:
// all); a store short of the latest version is only good for tests of
// upgrades (it cannot insert).
func openVersion(ctx context.Context, cfg Config, upTo int) (*Store, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var (
		db  *sql.DB
		err error
	)
	switch cfg.Driver {
	case SQLite:
		// WAL lets readers (report, web UI) run beside the writer;
		// immediate transactions avoid lock-upgrade deadlocks between
		// writers; busy_timeout makes a second writer wait.
		if err := createPrivate(cfg.Path); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		dsn := "file:" + cfg.Path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		db, err = sql.Open("sqlite", dsn)
	case Postgres:
		db, err = openPostgres(cfg)
		if err == nil {
			db.SetMaxIdleConns(max(2, cfg.Writers+1)) // the writers' connections stay open between batches
		}
	case MySQL:
		db, err = openMySQL(cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", cfg.Driver, err)
	}
	s := &Store{db: db, driver: cfg.Driver, cfg: cfg, stmts: map[string]*sql.Stmt{}, insertQ: map[string]string{}, tables: tablesOf(cfg.Datasets), newest: map[string]int64{}, maxParts: maxDayPartitions}
	if err := s.migrate(ctx, upTo); err != nil {
		db.Close()
		return nil, err
	}
	if upTo != 0 {
		return s, nil
	}
	if err := s.prepare(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// createPrivate creates the SQLite file 0600 when it does not exist yet:
// it holds URLs, DNS names and user names seen on the wire, and SQLite
// gives its -wal and -shm files the mode of the database file. An existing
// file keeps its mode. ":memory:" and URI names are left to SQLite.
func createPrivate(path string) error {
	if path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// Close closes the database.
func (s *Store) Close() error {
	for _, st := range s.stmts {
		st.Close()
	}
	return s.db.Close()
}

// Driver returns "sqlite", "postgres" or "mysql".
func (s *Store) Driver() string { return s.driver }

// DB returns the underlying database (for tests and tools; prefer the typed API).
func (s *Store) DB() *sql.DB { return s.db }

// rebind turns `?` placeholders into $1, $2, ... for PostgreSQL. Queries in
// this package never contain a literal question mark.
func (s *Store) rebind(q string) string {
	if s.driver == MySQL {
		return mysqlDialect(q)
	}
	if s.driver != Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// Migration is one embedded schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations lists the embedded migrations of a driver, in order.
func Migrations(driver string) ([]Migration, error) {
	dir := path.Join("migrations", driver)
	ents, err := fs.ReadDir(migrationsFS, dir)
	if err != nil {
		return nil, fmt.Errorf("store: no migrations for driver %q", driver)
	}
	var ms []Migration
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration %s: name must be NNNN_name.sql", name)
		}
		b, err := fs.ReadFile(migrationsFS, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: strings.TrimSuffix(name, ".sql"), SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("store: two migrations with version %d", ms[i].Version)
		}
	}
	return ms, nil
}

// migrate applies the missing migrations, each in its own transaction
// together with its schema_migrations row. On PostgreSQL an advisory lock
// keeps two sensors from migrating at once.
func (s *Store) migrate(ctx context.Context, upTo int) error {
	ms, err := Migrations(s.driver)
	if err != nil {
		return err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: connect: %w", err)
	}
	defer conn.Close()
	switch s.driver {
	case Postgres:
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(7426730)"); err != nil {
			return fmt.Errorf("store: migration lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(7426730)")
	case MySQL:
		if _, err := conn.ExecContext(ctx, "SELECT GET_LOCK('packetsleuth_migrate', 600)"); err != nil {
			return fmt.Errorf("store: migration lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT RELEASE_LOCK('packetsleuth_migrate')")
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at BIGINT  NOT NULL)`); err != nil {
		return fmt.Errorf("store: schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	rows, err := conn.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return fmt.Errorf("store: schema_migrations: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	latest := 0
	if len(ms) > 0 {
		latest = ms[len(ms)-1].Version
	}
	for v := range applied {
		if v > latest {
			return fmt.Errorf("store: the database has schema version %d, newer than this sensor knows (%d)", v, latest)
		}
	}
	for _, m := range ms {
		if applied[m.Version] || upTo != 0 && m.Version > upTo {
			continue
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: migration %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, s.rebind("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
			m.Version, m.Name, time.Now().Unix()); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: migration %s: %w", m.Name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("store: migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// SchemaVersion returns the highest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := s.db.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&v)
	return int(v.Int64), err
}

// ErrNotFound is returned by Acknowledge for an unknown alert id.
var ErrNotFound = errors.New("store: not found")
