package store

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// The SQLite file and its -wal and -shm are created 0600 whatever the
// umask: they hold URLs, DNS names and user names from the wire.
func TestSQLiteFilesPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "ps.db")
	s, err := Open(context.Background(), Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ev schemas.Event
	ev.Event.Dataset = schemas.DatasetDNS
	rec, _ := schemas.NewRecord(&ev)
	if _, err := s.Insert(context.Background(), []schemas.Record{rec}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
}
