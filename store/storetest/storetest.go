// Package storetest helps tests that use a real PostgreSQL or MariaDB server.
package storetest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"strings"
	"testing"

	_ "github.com/go-sql-driver/mysql" // database/sql driver "mysql"
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

// MySQLDatabase creates a database of the test's own on the MariaDB/MySQL
// server of dsn (a go-sql-driver DSN), through root on the server's socket,
// grants it to dsn's user, drops it when the test ends, and returns dsn
// naming that database.
func MySQLDatabase(t testing.TB, dsn, socket string) string {
	t.Helper()
	var rb [6]byte
	rand.Read(rb[:])
	name := "ps_test_" + hex.EncodeToString(rb[:])
	root, err := sql.Open("mysql", "root@unix("+socket+")/")
	if err != nil {
		t.Fatal(err)
	}
	user, _, _ := strings.Cut(dsn, ":")
	for _, q := range []string{"CREATE DATABASE " + name, "GRANT ALL ON " + name + ".* TO '" + user + "'@'127.0.0.1'", "GRANT ALL ON " + name + ".* TO '" + user + "'@'localhost'"} {
		if _, err := root.Exec(q); err != nil {
			root.Close()
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		root.Exec("DROP DATABASE " + name)
		root.Close()
	})
	slash := strings.LastIndex(dsn, "/")
	rest := ""
	if q := strings.IndexByte(dsn[slash:], '?'); q >= 0 {
		rest = dsn[slash+q:]
	}
	return dsn[:slash+1] + name + rest
}
