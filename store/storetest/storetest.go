// Package storetest helps tests that use a real PostgreSQL server.
package storetest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// PGSchema creates a schema of the test's own in the database dsn names,
// dropped when the test ends, and returns dsn with that schema as its
// search_path.
func PGSchema(t testing.TB, dsn string) string {
	t.Helper()
	var rb [6]byte
	rand.Read(rb[:])
	schema := "ps_test_" + hex.EncodeToString(rb[:])
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}
