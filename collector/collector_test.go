package collector

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	kgo "github.com/segmentio/kafka-go"

	"github.com/packetsleuth/packetsleuth/schemas"
	_ "github.com/packetsleuth/packetsleuth/store" // the store output
	"github.com/packetsleuth/packetsleuth/store/storetest"
)

// services returns the Kafka and PostgreSQL addresses, or skips.
func services(t testing.TB) (broker, pg string) {
	broker, pg = os.Getenv("PS_TEST_KAFKA"), os.Getenv("PS_TEST_PG")
	if broker == "" || pg == "" {
		t.Skip("PS_TEST_KAFKA and PS_TEST_PG are needed: eval \"$(../../shared/services/start-all.sh kafka postgres)\"")
	}
	return broker, pg
}

func randName(prefix string) string {
	var b [6]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// flowEvents makes n distinct flow events of one sensor, encoded with their
// event.id as the sensors send them.
func flowEvents(t testing.TB, sensor string, n int) [][]byte {
	docs := make([][]byte, n)
	base := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	for i := range docs {
		ev := schemas.Event{Timestamp: base.Add(time.Duration(i) * time.Millisecond)}
		ev.ECS.Version = schemas.ECSVersion
		ev.Event.Kind, ev.Event.Dataset, ev.Event.Category = "event", schemas.DatasetFlow, []string{"network"}
		ev.Network.Transport, ev.Network.Bytes, ev.Network.Packets = "tcp", int64(100+i), 2
		ev.Source.IP, ev.Source.Port = fmt.Sprintf("10.%d.%d.%d", len(sensor), i/250%250, i%250+1), 40000+i%20000
		ev.Destination.IP, ev.Destination.Port = "192.0.2.80", 443
		cid := sha256.Sum256(fmt.Appendf(nil, "%s %d", sensor, i))
		ev.Network.CommunityID = "1:" + base64.StdEncoding.EncodeToString(cid[:20])
		ev.Observer.Name = sensor
		ev.Sensor.Notes = []string{sensor} // events of different sensors differ
		rec, err := schemas.NewRecord(&ev)
		if err != nil {
			t.Fatal(err)
		}
		docs[i] = rec.JSON
	}
	return docs
}

// produce writes docs to topic, keyed as the sensor's kafka output keys them.
func produce(t testing.TB, broker, topic string, docs [][]byte) {
	t.Helper()
	w := &kgo.Writer{Addr: kgo.TCP(broker), Topic: topic, Balancer: &kgo.Hash{}, RequiredAcks: kgo.RequireAll,
		AllowAutoTopicCreation: true, BatchSize: 1000, BatchTimeout: time.Millisecond}
	defer w.Close()
	msgs := make([]kgo.Message, len(docs))
	for i, d := range docs {
		msgs[i] = kgo.Message{Key: schemas.EventIDOf(d), Value: d}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		err := w.WriteMessages(ctx, msgs...)
		if err == nil {
			return
		}
		// a just auto-created topic may not have a leader yet
		if ctx.Err() != nil || !strings.Contains(err.Error(), "Leader Not Available") && !strings.Contains(err.Error(), "Unknown Topic") {
			t.Fatalf("produce: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// configYAML is a collector.yaml for a test.
func configYAML(broker, group, topic, dsn, dead string, batch int) string {
	return fmt.Sprintf(`kafka:
  brokers: [%q]
  group_id: %s
  topics: [%s]
  session_timeout: 6s
batch:
  max_records: %d
  max_wait: 100ms
retry_max: 1s
dead_letter: %q
outputs:
  - type: store
    driver: postgres
    dsn: %q
`, broker, group, topic, batch, dead, dsn)
}

func loadYAML(t testing.TB, y string) Config {
	t.Helper()
	p := filepath.Join(t.TempDir(), "collector.yaml")
	if err := os.WriteFile(p, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// flowCount counts the stored flows and their distinct event ids.
func flowCount(t testing.TB, dsn string) (rows, distinct int) {
	t.Helper()
	driver := "pgx"
	if !strings.HasPrefix(dsn, "postgres") {
		driver = "mysql"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT event_id) FROM flows`).Scan(&rows, &distinct); err != nil {
		if strings.Contains(err.Error(), "does not exist") || strings.Contains(err.Error(), "doesn't exist") {
			return 0, 0 // the collector has not migrated the store yet
		}
		t.Fatal(err)
	}
	return rows, distinct
}

// waitFor polls the store until it holds want flows, or fails.
func waitFor(t testing.TB, dsn string, want int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		rows, distinct := flowCount(t, dsn)
		if rows == want && distinct == want {
			return
		}
		if rows > want || time.Now().After(deadline) {
			t.Fatalf("store holds %d flows (%d distinct ids), want %d", rows, distinct, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Three sensors, each event sent twice (at-least-once producers), a poison
// message among them, two collectors in one group: every event is stored
// exactly once, the poison message is dead-lettered and the rest flows.
func TestTwoCollectorsExactlyOnce(t *testing.T) {
	broker, pg := services(t)
	dsn := storetest.PGSchema(t, pg)
	topic, group := randName("ps-collect-"), randName("ps-group-")
	dead := filepath.Join(t.TempDir(), "dead.ndjson")
	var all [][]byte
	for _, s := range []string{"edge-a", "edge-bb", "edge-ccc"} {
		all = append(all, flowEvents(t, s, 2000)...)
	}
	produce(t, broker, topic, all)
	produce(t, broker, topic, [][]byte{[]byte(`{"not json`), []byte(`{"event":{}}`)})
	produce(t, broker, topic, all[:3000]) // redelivered by a sensor's output

	y := configYAML(broker, group, topic, dsn, dead, 500)
	// and MariaDB beside PostgreSQL, when it runs
	mdsn, sock := os.Getenv("PS_TEST_MARIADB"), os.Getenv("PS_TEST_MARIADB_SOCKET")
	if mdsn != "" && sock != "" {
		mdsn = storetest.MySQLDatabase(t, mdsn, sock)
		y += fmt.Sprintf("  - type: store\n    name: mariadb\n    driver: mysql\n    dsn: %q\n", mdsn)
	} else {
		t.Log("PS_TEST_MARIADB is not set: MariaDB is skipped")
		mdsn = ""
	}
	cfg := loadYAML(t, y)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make([]error, 2)
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg) // shared by both: the group's totals
	for i := range errs {
		c, err := New(cfg, m, nil)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { errs[i] = c.Run(ctx) })
	}
	waitFor(t, dsn, len(all), 60*time.Second)
	// and the copies sent twice: every partition read to its end
	lagZero := func() bool {
		if testutil.CollectAndCount(m.lag) != 3 {
			return false
		}
		for _, p := range []string{"0", "1", "2"} {
			if testutil.ToFloat64(m.lag.WithLabelValues(topic, p)) != 0 {
				return false
			}
		}
		return true
	}
	for deadline := time.Now().Add(30 * time.Second); !lagZero(); {
		if time.Now().After(deadline) {
			t.Fatalf("lag not back to 0 on every partition in 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	waitFor(t, dsn, len(all), 0)
	if mdsn != "" {
		waitFor(t, mdsn, len(all), 0)
		if d := testutil.ToFloat64(m.duplicates.WithLabelValues("mariadb")); d < 3000 {
			t.Errorf("MariaDB: %v duplicates counted, want at least 3000", d)
		}
	}
	// a rebalance between the two may deliver a batch twice: more duplicates
	// and dead letters, never another row
	if d := testutil.ToFloat64(m.duplicates.WithLabelValues("store")); d < 3000 {
		t.Errorf("%v duplicates counted, want at least the 3000 sent twice", d)
	}
	if n := testutil.ToFloat64(m.deadLettered); n < 2 {
		t.Errorf("%v dead-lettered, want 2", n)
	}
	t.Logf("stored %v, duplicates %v, dead-lettered %v, commit errors %v", testutil.ToFloat64(m.stored),
		testutil.ToFloat64(m.duplicates.WithLabelValues("store")), testutil.ToFloat64(m.deadLettered), testutil.ToFloat64(m.commitErrors))
	b, err := os.ReadFile(dead)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("not JSON")) || !bytes.Contains(b, []byte("no event.dataset")) {
		t.Errorf("dead letter: %s", b)
	}
}

// The collector is killed (SIGKILL) mid-stream and started again: the
// store ends with every event exactly once.
func TestCollectorKilledMidStream(t *testing.T) {
	broker, pg := services(t)
	dsn := storetest.PGSchema(t, pg)
	topic, group := randName("ps-collect-"), randName("ps-group-")
	docs := flowEvents(t, "edge-kill", 30000)
	produce(t, broker, topic, docs)
	cfgPath := filepath.Join(t.TempDir(), "collector.yaml")
	y := configYAML(broker, group, topic, dsn, filepath.Join(t.TempDir(), "dead.ndjson"), 200)
	if err := os.WriteFile(cfgPath, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperCollector$")
		cmd.Env = append(os.Environ(), "PS_COLLECTOR_HELPER="+cfgPath)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	cmd := start()
	// kill it once part of the stream is stored
	deadline := time.Now().Add(60 * time.Second)
	var before int
	for {
		if before, _ = flowCount(t, dsn); before >= 2000 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the collector stored %d flows in 60 s", before)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	before, _ = flowCount(t, dsn)
	if before >= len(docs) {
		t.Fatalf("the collector was killed after it stored everything (%d): not mid-stream", before)
	}
	t.Logf("killed with %d of %d flows stored", before, len(docs))
	cmd = start()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	waitFor(t, dsn, len(docs), 90*time.Second)
}

// TestHelperCollector is the collector process of TestCollectorKilledMidStream.
func TestHelperCollector(t *testing.T) {
	path := os.Getenv("PS_COLLECTOR_HELPER")
	if path == "" {
		t.Skip("helper process of TestCollectorKilledMidStream")
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer cancel()
	if err := c.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

// The shipped collector.yaml.example loads.
func TestExampleConfig(t *testing.T) {
	c, err := Load("../collector.yaml.example")
	if err != nil {
		t.Fatal(err)
	}
	if c.Kafka.GroupID != "packetsleuth-collector" || len(c.Kafka.Topics) != len(schemas.DatasetGroups) || c.Outputs[0].Type != "store" {
		t.Errorf("example: %+v", c)
	}
	if _, err := Load(writeTemp(t, "kafka:\n  brokers: [x:1]\n  brokerz: 1\n")); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("unknown key: %v", err)
	}
}

func writeTemp(t testing.TB, s string) string {
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
