package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	kgo "github.com/segmentio/kafka-go"

	"github.com/packetsleuth/packetsleuth/collector"
	"github.com/packetsleuth/packetsleuth/store/storetest"
)

// fleetServices returns the Kafka and PostgreSQL addresses, or skips.
func fleetServices(t *testing.T) (broker, pg string) {
	broker, pg = os.Getenv("PS_TEST_KAFKA"), os.Getenv("PS_TEST_PG")
	if broker == "" || pg == "" {
		t.Skip("PS_TEST_KAFKA and PS_TEST_PG are needed: eval \"$(../../shared/services/start-all.sh kafka postgres mariadb)\"")
	}
	return broker, pg
}

func fleetRunID() string {
	var b [5]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// fleetSensor replays pcap as the sensor name into the Kafka topic, with
// the NDJSON of the same events in out (what the store must end with).
// extra is appended to the kafka output's keys.
func fleetSensor(t *testing.T, dir, name, broker, topic, pcap, extra string) (out string) {
	t.Helper()
	cfg := filepath.Join(dir, name+".yaml")
	out = filepath.Join(dir, name+".ndjson")
	y := fmt.Sprintf(`sensor:
  name: %s
  site: site-%s
  id_file: %s
shutdown_timeout: 90s
outputs:
  - type: kafka
    brokers: [%q]
    topic: %s
    timeout: 2s
    retry_min: 100ms
    retry_max: 1s
%s`, name, name, filepath.Join(dir, name+".id"), broker, topic, extra)
	if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"replay", "--config", cfg, "--stats-report", "--out", out, pcap}, &stdout, &stderr); rc != 0 {
		t.Fatalf("replay %s: rc %d: %s", name, rc, stderr.String())
	}
	t.Logf("%s: %s", name, firstLine(stderr.String()))
	return out
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// fleetEvent is what the test reads of an event.
type fleetEvent struct {
	Event    struct{ ID, Dataset string }
	Observer struct{ Name string }
}

// sentEvents reads the sensors' NDJSON: the event ids by sensor and
// dataset. The captures differ, so no id may repeat across sensors.
func sentEvents(t *testing.T, files ...string) map[string]map[string]map[string]bool {
	t.Helper()
	sent := map[string]map[string]map[string]bool{}
	owner := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for line := range bytes.Lines(b) {
			var ev fleetEvent
			if err := json.Unmarshal(line, &ev); err != nil {
				t.Fatal(err)
			}
			if o, ok := owner[ev.Event.ID]; ok && o != ev.Observer.Name {
				t.Fatalf("event id %s sent by %s and %s: the captures must differ", ev.Event.ID, o, ev.Observer.Name)
			}
			owner[ev.Event.ID] = ev.Observer.Name
			if sent[ev.Observer.Name] == nil {
				sent[ev.Observer.Name] = map[string]map[string]bool{}
			}
			if sent[ev.Observer.Name][ev.Event.Dataset] == nil {
				sent[ev.Observer.Name][ev.Event.Dataset] = map[string]bool{}
			}
			sent[ev.Observer.Name][ev.Event.Dataset][ev.Event.ID] = true
		}
	}
	return sent
}

// storedEvents reads every stored event back (flows, alerts and the DPI
// events tables): how often each id is stored, by sensor and dataset.
func storedEvents(t *testing.T, driver, dsn string) (map[string]map[string]map[string]int, error) {
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT doc FROM flows UNION ALL SELECT doc FROM alerts UNION ALL SELECT doc FROM events`)
	if err != nil {
		return nil, err // not migrated yet
	}
	defer rows.Close()
	got := map[string]map[string]map[string]int{}
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			t.Fatal(err)
		}
		var ev fleetEvent
		if err := json.Unmarshal([]byte(doc), &ev); err != nil {
			t.Fatalf("stored doc: %v", err)
		}
		if got[ev.Observer.Name] == nil {
			got[ev.Observer.Name] = map[string]map[string]int{}
		}
		if got[ev.Observer.Name][ev.Event.Dataset] == nil {
			got[ev.Observer.Name][ev.Event.Dataset] = map[string]int{}
		}
		got[ev.Observer.Name][ev.Event.Dataset][ev.Event.ID]++
	}
	return got, rows.Err()
}

// exactlyOnce compares the store with what the sensors sent: every
// dataset the store keeps holds each sent event once and nothing else;
// flows and alerts are kept always. It returns "" when that holds, or
// what differs.
func exactlyOnce(t *testing.T, driver, dsn string, sent map[string]map[string]map[string]bool) (stored int, diff string) {
	got, err := storedEvents(t, driver, dsn)
	if err != nil {
		return 0, err.Error()
	}
	for sensor, byDS := range got {
		for ds, ids := range byDS {
			for id, n := range ids {
				stored++
				if n != 1 {
					return stored, fmt.Sprintf("%s %s %s stored %d times", sensor, ds, id, n)
				}
				if !sent[sensor][ds][id] {
					return stored, fmt.Sprintf("%s %s %s stored but never sent", sensor, ds, id)
				}
			}
		}
	}
	for sensor, byDS := range sent {
		for ds, ids := range byDS {
			n := len(got[sensor][ds])
			mustKeep := ds == "packetsleuth.flow" || ds == "packetsleuth.alert"
			if n == len(ids) || n == 0 && !mustKeep {
				continue
			}
			return stored, fmt.Sprintf("%s %s: %d of %d events stored", sensor, ds, n, len(ids))
		}
	}
	return stored, ""
}

// waitExactlyOnce polls until the store holds every sent event once.
func waitExactlyOnce(t *testing.T, name, driver, dsn string, sent map[string]map[string]map[string]bool, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		n, diff := exactlyOnce(t, driver, dsn, sent)
		if diff == "" {
			t.Logf("%s: %d events stored, each once", name, n)
			return
		}
		if strings.Contains(diff, "times") || strings.Contains(diff, "never sent") || time.Now().After(deadline) {
			t.Fatalf("%s: %s", name, diff)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// fleetCollector runs a collector (in this process) on topic into the PG
// schema and, when the server runs, a MariaDB database of the test's own.
// It returns the MariaDB DSN ("" without it), the dead-letter file and a
// stop function.
func fleetCollector(t *testing.T, broker, topic, pgDSN string) (mysqlDSN, dead string, stop func()) {
	t.Helper()
	dir := t.TempDir()
	dead = filepath.Join(dir, "dead.ndjson")
	y := fmt.Sprintf(`kafka:
  brokers: [%q]
  group_id: ps-fleet-%s
  topics: [%s]
  session_timeout: 6s
batch: {max_records: 500, max_wait: 100ms}
retry_max: 1s
dead_letter: %q
outputs:
  - type: store
    driver: postgres
    dsn: %q
`, broker, topic, topic, dead, pgDSN)
	mdsn, sock := os.Getenv("PS_TEST_MARIADB"), os.Getenv("PS_TEST_MARIADB_SOCKET")
	if mdsn != "" && sock != "" {
		mysqlDSN = storetest.MySQLDatabase(t, mdsn, sock)
		y += fmt.Sprintf("  - type: store\n    name: mariadb\n    driver: mysql\n    dsn: %q\n", mysqlDSN)
	} else {
		t.Log("PS_TEST_MARIADB is not set: MariaDB is skipped")
	}
	p := filepath.Join(dir, "collector.yaml")
	if err := os.WriteFile(p, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := collector.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	c, err := collector.New(cfg, nil, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() { runErr = c.Run(ctx) })
	return mysqlDSN, dead, func() {
		cancel()
		wg.Wait()
		if runErr != nil {
			t.Errorf("collector: %v", runErr)
		}
	}
}

// poison writes a message that is no event to topic.
func poison(t *testing.T, broker, topic string) {
	t.Helper()
	w := &kgo.Writer{Addr: kgo.TCP(broker), Topic: topic, AllowAutoTopicCreation: true, RequiredAcks: kgo.RequireAll}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		err := w.WriteMessages(ctx, kgo.Message{Value: []byte(`{"event": {"id": "poison`)})
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("poison: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fleetCaptures are three different public captures: a port scan (flows
// and alerts), web browsing (HTTP, DNS, TLS) and TLS handshakes.
func fleetCaptures(t *testing.T) []string {
	var ps []string
	for _, name := range []string{"portscan-masscan-tcp.pcap", "http1-browsing.pcap", "tls-handshakes-many.pcapng"} {
		p := filepath.Join("..", "..", "..", "shared", "pcaps", name)
		if _, err := os.Stat(p); err != nil {
			t.Skipf("the shared captures are needed (../shared/pcaps): %v", err)
		}
		ps = append(ps, p)
	}
	return ps
}

// Three sensors with their own names replay different captures into one
// topic, with a poison message among their events; one collector writes
// them to PostgreSQL and MariaDB: each store holds every event once, by
// sensor and dataset, and nothing else.
func TestFleetThreeSensorsExactlyOnce(t *testing.T) {
	broker, pg := fleetServices(t)
	dir := t.TempDir()
	topic := "ps-fleet-" + fleetRunID()
	pgDSN := storetest.PGSchema(t, pg)
	mysqlDSN, dead, stop := fleetCollector(t, broker, topic, pgDSN)
	var outs []string
	for i, pcap := range fleetCaptures(t) {
		outs = append(outs, fleetSensor(t, dir, fmt.Sprintf("edge-%d", i+1), broker, topic, pcap, ""))
		if i == 0 {
			poison(t, broker, topic)
		}
	}
	sent := sentEvents(t, outs...)
	if len(sent) != 3 {
		t.Fatalf("events of %d sensors, want 3", len(sent))
	}
	waitExactlyOnce(t, "PostgreSQL", "pgx", pgDSN, sent, time.Minute)
	if mysqlDSN != "" {
		waitExactlyOnce(t, "MariaDB", "mysql", mysqlDSN, sent, time.Minute)
	}
	stop()
	// each sensor's --stats-report is its row on the Sensors page
	for _, st := range []struct{ driver, dsn string }{{"pgx", pgDSN}, {"mysql", mysqlDSN}} {
		if st.dsn == "" {
			continue
		}
		db, err := sql.Open(st.driver, st.dsn)
		if err != nil {
			t.Fatal(err)
		}
		var names string
		err = db.QueryRow(`SELECT string_agg(name, ',' ORDER BY name) FROM sensors WHERE events > 0`).Scan(&names)
		if st.driver == "mysql" {
			err = db.QueryRow(`SELECT GROUP_CONCAT(name ORDER BY name) FROM sensors WHERE events > 0`).Scan(&names)
		}
		db.Close()
		if err != nil || names != "edge-1,edge-2,edge-3" {
			t.Errorf("%s sensors: %q %v", st.driver, names, err)
		}
	}
	if b, err := os.ReadFile(dead); err != nil || !bytes.Contains(b, []byte("not JSON")) || bytes.Count(b, []byte("\n")) != 1 {
		t.Errorf("dead letter (want the one poison message): %v %s", err, b)
	}
}

// The broker is down for 10 s while a sensor replays: the sensor's kafka
// output holds the events and retries, the collector waits and resumes;
// the store ends with every event of both sensors exactly once.
func TestFleetBrokerDown10s(t *testing.T) {
	broker, pg := fleetServices(t)
	if testing.Short() {
		t.Skip("stops the shared Kafka server for 10 s")
	}
	svc := filepath.Join("..", "..", "..", "shared", "services")
	if _, err := os.Stat(filepath.Join(svc, "stop-kafka.sh")); err != nil {
		t.Skipf("service scripts not found (../shared/services): %v", err)
	}
	dir := t.TempDir()
	topic := "ps-fleet-" + fleetRunID()
	pgDSN := storetest.PGSchema(t, pg)
	mysqlDSN, _, stop := fleetCollector(t, broker, topic, pgDSN)
	pcaps := fleetCaptures(t)
	first := fleetSensor(t, dir, "edge-up", broker, topic, pcaps[0], "")
	waitExactlyOnce(t, "before the outage", "pgx", pgDSN, sentEvents(t, first), time.Minute)

	if out, err := exec.Command(filepath.Join(svc, "stop-kafka.sh")).CombinedOutput(); err != nil {
		t.Fatalf("stop-kafka: %v %s", err, out)
	}
	down := time.Now()
	restarted := make(chan error, 1)
	go func() {
		time.Sleep(10 * time.Second)
		out, err := exec.Command(filepath.Join(svc, "start-kafka.sh")).CombinedOutput()
		if err != nil {
			err = fmt.Errorf("start-kafka: %v %s", err, out)
		}
		restarted <- err
	}()
	t.Cleanup(func() { exec.Command(filepath.Join(svc, "start-kafka.sh")).Run() }) // whatever happens
	// replays while the broker is down: it ends once its output delivered
	second := fleetSensor(t, dir, "edge-down", broker, topic, pcaps[1], "")
	if err := <-restarted; err != nil {
		t.Fatal(err)
	}
	if d := time.Since(down); d < 10*time.Second {
		t.Fatalf("the replay ended %v after the broker stopped, before it came back: its events went nowhere", d)
	}
	sent := sentEvents(t, first, second)
	waitExactlyOnce(t, "PostgreSQL", "pgx", pgDSN, sent, 2*time.Minute)
	if mysqlDSN != "" {
		waitExactlyOnce(t, "MariaDB", "mysql", mysqlDSN, sent, time.Minute)
	}
	stop()
}
