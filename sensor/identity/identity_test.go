package identity

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestLoadKeepsTheID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "sensor-id")
	a, err := Load(Config{Name: "edge-1", Site: "paris", Tags: []string{"dmz"}, IDFile: path}, "1.2")
	if err != nil {
		t.Fatal(err)
	}
	if a.Observer.Name != "edge-1" || a.Agent.Name != "edge-1" || a.Observer.Geo.Name != "paris" || a.Agent.Version != "1.2" || len(a.Agent.ID) != 36 {
		t.Fatalf("identity: %+v", a)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("id file mode %v, want 0600", fi.Mode().Perm())
	}
	b, err := Load(Config{IDFile: path}, "1.3")
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if b.Agent.ID != a.Agent.ID {
		t.Errorf("id changed across loads: %s then %s", a.Agent.ID, b.Agent.ID)
	}
	if b.Observer.Name != host {
		t.Errorf("default name %q, want the hostname %q", b.Observer.Name, host)
	}
}

func TestLoadIDConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sensor-id")
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			id, err := LoadID(path)
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("concurrent creations disagree: %v", ids)
		}
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".sensor-id-*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestLoadIDErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("not a uuid\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadID(bad); err == nil || !strings.Contains(err.Error(), "does not hold a UUID") {
		t.Errorf("bad file: %v", err)
	}
	// a directory in the way of the state directory: unwritable for anyone, root included
	block := filepath.Join(dir, "file")
	if err := os.WriteFile(block, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadID(filepath.Join(block, "sub", "sensor-id"))
	if err == nil || !strings.Contains(err.Error(), "sensor.id_file") {
		t.Errorf("unwritable place: %v", err)
	}
}
