package store

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/testpki"
	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/store/storetest"
)

// tls: makes the PostgreSQL connection TLS even when the DSN says
// sslmode=disable, verified against the CA; a server certificate from
// another CA is refused.
func TestPostgresTLS(t *testing.T) {
	dsn, ca := os.Getenv("PS_TEST_PG"), os.Getenv("PS_TEST_CA")
	if dsn == "" || ca == "" {
		t.Skip("PS_TEST_PG and PS_TEST_CA are needed: eval \"$(../../shared/services/start-postgres.sh)\"")
	}
	if !strings.Contains(dsn, "sslmode=disable") {
		t.Fatalf("the test expects the plaintext DSN of start-postgres.sh: %s", dsn)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := Config{Driver: Postgres, DSN: outputs.Secret(storetest.PGSchema(t, dsn)), TLS: &outputs.ClientTLS{CA: ca}}
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var on bool
	var version string
	if err := s.db.QueryRowContext(ctx, `SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()`).Scan(&on, &version); err != nil {
		t.Fatal(err)
	}
	if !on {
		t.Fatal("tls: set, but the connection is plaintext")
	}
	t.Logf("connected with %s", version)

	other := testpki.New(t, "another CA")
	cfg.TLS = &outputs.ClientTLS{CA: other.CAFile}
	if s, err := Open(ctx, cfg); err == nil {
		s.Close()
		t.Fatal("a server certificate of another CA was accepted")
	} else if !strings.Contains(err.Error(), "certificate") || strings.Contains(err.Error(), "packetsleuth@") {
		t.Errorf("unclear error, or it shows the DSN: %v", err)
	}
}

// tls: against a MariaDB without TLS fails instead of falling back to
// plaintext.
func TestMySQLTLSNeverFallsBack(t *testing.T) {
	dsn, sock := os.Getenv("PS_TEST_MARIADB"), os.Getenv("PS_TEST_MARIADB_SOCKET")
	if dsn == "" || sock == "" {
		t.Skip("PS_TEST_MARIADB is not set: eval \"$(../../shared/services/start-mariadb.sh)\"")
	}
	ca := testpki.New(t, "test CA")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := Config{Driver: MySQL, DSN: outputs.Secret(storetest.MySQLDatabase(t, dsn, sock)), TLS: &outputs.ClientTLS{CA: ca.CAFile}}
	s, err := Open(ctx, cfg)
	if err == nil {
		s.Close()
		t.Fatal("tls: set, and the store opened over the server's plaintext")
	}
	if !strings.Contains(err.Error(), "TLS") {
		t.Errorf("unclear error: %v", err)
	}
	t.Logf("refused: %v", err)
	cfg.TLS = nil
	if s, err := Open(ctx, cfg); err != nil {
		t.Fatalf("without tls: %v", err)
	} else {
		s.Close()
	}
}

func TestTLSConfigErrors(t *testing.T) {
	err := Config{Driver: SQLite, Path: "x.db", TLS: &outputs.ClientTLS{}}.Validate()
	if err == nil || !strings.Contains(err.Error(), "tls is for drivers postgres and mysql") {
		t.Errorf("sqlite with tls: %v", err)
	}
	_, err = Open(context.Background(), Config{Driver: MySQL, DSN: "u:secret@tcp(127.0.0.1:1)/db", TLS: &outputs.ClientTLS{CA: "/nonexistent/ca.pem"}})
	if err == nil || !strings.Contains(err.Error(), "store: tls.ca") || strings.Contains(err.Error(), "secret") {
		t.Errorf("missing CA file: %v", err)
	}
	_, err = Open(context.Background(), Config{Driver: Postgres, DSN: "postgres://u:secret@[bad", TLS: &outputs.ClientTLS{}})
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("bad DSN: %v", err)
	}
}
