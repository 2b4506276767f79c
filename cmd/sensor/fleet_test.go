package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/packetsleuth/packetsleuth/store"
	"github.com/packetsleuth/packetsleuth/store/storetest"
)

// Every event of a replay carries the configured sensor identity (name,
// site, tags, the agent.id kept in the id file), and the ids of the events
// do not depend on it: two sensors replaying one capture give the same ids.
func TestReplayCarriesSensorIdentity(t *testing.T) {
	dir := t.TempDir()
	idFile := filepath.Join(dir, "state", "sensor-id")
	replay := func(name string) (ids []string, agent string) {
		cfg := filepath.Join(dir, name+".yaml")
		y := "sensor:\n  name: " + name + "\n  site: paris-dc\n  tags: [dmz]\n  id_file: " + idFile + "\n"
		if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, name+".ndjson")
		var stdout, stderr bytes.Buffer
		if rc := run([]string{"replay", "--config", cfg, "--out", out, "../../testdata/pcaps/http-ethernet.pcap"}, &stdout, &stderr); rc != 0 {
			t.Fatalf("replay: rc %d: %s", rc, stderr.String())
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		for line := range bytes.Lines(b) {
			var ev struct {
				Event    struct{ ID string }
				Observer struct {
					Name string
					Geo  struct{ Name string }
				}
				Agent struct{ ID, Name string }
				Tags  []string
			}
			if err := json.Unmarshal(line, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Observer.Name != name || ev.Agent.Name != name || ev.Observer.Geo.Name != "paris-dc" ||
				len(ev.Agent.ID) != 36 || !slices.Contains(ev.Tags, "dmz") {
				t.Fatalf("event without the sensor identity: %s", line)
			}
			if agent != "" && ev.Agent.ID != agent {
				t.Fatalf("two agent ids in one run: %s and %s", agent, ev.Agent.ID)
			}
			agent = ev.Agent.ID
			ids = append(ids, ev.Event.ID)
		}
		if len(ids) == 0 {
			t.Fatal("no events")
		}
		return ids, agent
	}
	a, agentA := replay("edge-1")
	b, agentB := replay("edge-2")
	if agentA != agentB {
		t.Errorf("agent.id changed with the name: %s, %s (same id file)", agentA, agentB)
	}
	if !slices.Equal(a, b) {
		t.Errorf("event ids depend on the sensor name")
	}
}

// An id file that cannot be written is a clear error naming the key to set.
func TestReplayUnwritableIDFile(t *testing.T) {
	dir := t.TempDir()
	block := filepath.Join(dir, "file")
	cfg := filepath.Join(dir, "s.yaml")
	os.WriteFile(block, nil, 0o600)
	os.WriteFile(cfg, []byte("sensor:\n  id_file: "+filepath.Join(block, "x", "sensor-id")+"\n"), 0o600)
	var stdout, stderr bytes.Buffer
	rc := run([]string{"replay", "--config", cfg, "--out", filepath.Join(dir, "o.ndjson"), "../../testdata/pcaps/http-ethernet.pcap"}, &stdout, &stderr)
	if rc == 0 || !bytes.Contains(stderr.Bytes(), []byte("sensor.id_file")) {
		t.Fatalf("rc %d, stderr %s", rc, stderr.String())
	}
}

// replay --store mysql://… writes to MariaDB and report --dsn mysql://…
// reads it back.
func TestReplayStoreMariaDB(t *testing.T) {
	dsn, sock := os.Getenv("PS_TEST_MARIADB"), os.Getenv("PS_TEST_MARIADB_SOCKET")
	if dsn == "" || sock == "" {
		t.Skip("PS_TEST_MARIADB is not set: eval \"$(../../shared/services/start-mariadb.sh)\"")
	}
	url := store.MySQLScheme + storetest.MySQLDatabase(t, dsn, sock)
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"replay", "--store", url, "--out", filepath.Join(t.TempDir(), "o.ndjson"), "../../testdata/pcaps/http-ethernet.pcap"}, &stdout, &stderr); rc != 0 {
		t.Fatalf("replay: rc %d: %s", rc, stderr.String())
	}
	stdout.Reset()
	if rc := run([]string{"report", "--dsn", url, "--since", "2009-01-01", "--until", "2030-01-01", "--format", "json"}, &stdout, &stderr); rc != 0 {
		t.Fatalf("report: rc %d: %s", rc, stderr.String())
	}
	var rep struct {
		Totals struct{ Flows int64 }
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil || rep.Totals.Flows == 0 {
		t.Fatalf("report from MariaDB: %v: %s", err, stdout.String())
	}
}
