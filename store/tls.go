package store

import (
	"crypto/tls"
	"database/sql"
	"errors"
	"net"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// tlsFor is the client TLS of cfg.TLS for a server at host, or nil when
// the DSN alone decides. The name to verify defaults to the DSN's host.
func tlsFor(cfg Config, host string) (*tls.Config, error) {
	if cfg.TLS == nil {
		return nil, nil
	}
	t, err := cfg.TLS.Config("store: tls.")
	if err != nil {
		return nil, err
	}
	if t.ServerName == "" {
		t.ServerName = host
	}
	return t, nil
}

// openPostgres opens the pool; with tls: every connection is TLS, verified,
// and the plaintext fallbacks of sslmode=prefer/allow are dropped.
func openPostgres(cfg Config) (*sql.DB, error) {
	if cfg.TLS == nil {
		return sql.Open("pgx", cfg.DSN.Value())
	}
	pc, err := pgx.ParseConfig(cfg.DSN.Value())
	if err != nil {
		return nil, errDSN
	}
	if pc.TLSConfig, err = tlsFor(cfg, pc.Host); err != nil {
		return nil, err
	}
	pc.Fallbacks = nil
	return stdlib.OpenDB(*pc), nil
}

// openMySQL opens the pool with the options the store needs; with tls:
// every connection is TLS, verified.
func openMySQL(cfg Config) (*sql.DB, error) {
	mc, err := mysql.ParseDSN(mysqlDSN(cfg.DSN.Value()))
	if err != nil {
		return nil, errDSN
	}
	host := mc.Addr
	if h, _, err := net.SplitHostPort(mc.Addr); err == nil {
		host = h
	}
	t, err := tlsFor(cfg, host)
	if err != nil {
		return nil, err
	}
	if t != nil {
		mc.TLS = t
	}
	conn, err := mysql.NewConnector(mc)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(conn), nil
}

// errDSN stands for a DSN parse error, which could echo the DSN and its
// password.
var errDSN = errors.New("dsn: cannot be parsed (check its form; it is not shown as it may hold a password)")
