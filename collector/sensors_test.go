package collector

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/store/storetest"
)

// lockedBuffer is a log sink the collector and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// statsReport is a whole-sensor stats report of agent id.
func statsReport(t testing.TB, id string) []byte {
	ev := schemas.Event{Timestamp: time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)}
	ev.ECS.Version = schemas.ECSVersion
	ev.Event.Kind, ev.Event.Dataset, ev.Event.Category = "metric", schemas.DatasetStats, []string{"network"}
	ev.Observer.Name = "edge-" + id
	ev.Agent = schemas.Agent{ID: id, Name: "edge-" + id}
	ev.Sensor.Stats = schemas.Stats{Packets: 10, UptimeSeconds: 60}
	rec, err := schemas.NewRecord(&ev)
	if err != nil {
		t.Fatal(err)
	}
	return rec.JSON
}

// A producer inventing agent ids meets the store's max_sensors: the
// reports past it are refused, counted on /metrics and logged (once, not
// per report), and the events of every sensor are stored.
func TestCollectorSensorsRefused(t *testing.T) {
	broker, pg := services(t)
	dsn := storetest.PGSchema(t, pg)
	topic, group := randName("ps-collect-"), randName("ps-group-")
	docs := flowEvents(t, "edge-rogue", 500)
	for _, id := range []string{"agent-1", "agent-2", "agent-3", "agent-4", "agent-5"} {
		docs = append(docs, statsReport(t, id))
	}
	produce(t, broker, topic, docs)
	cfg := loadYAML(t, configYAML(broker, group, topic, dsn, "", 100)+"    max_sensors: 2\n")
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	var logs lockedBuffer
	c, err := New(cfg, m, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	waitFor(t, dsn, 500, 60*time.Second)
	refused := m.sensorsRefused.WithLabelValues("store")
	for deadline := time.Now().Add(30 * time.Second); testutil.ToFloat64(refused) < 3; {
		if time.Now().After(deadline) {
			t.Fatalf("%v reports refused, want 3", testutil.ToFloat64(refused))
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := testutil.ToFloat64(refused); n != 3 {
		t.Errorf("%v reports refused, want 3", n)
	}
	out := logs.String()
	if strings.Count(out, "sensors table full") != 1 || !strings.Contains(out, "max_sensors=2") || !strings.Contains(out, "last_agent_id=agent-") {
		t.Errorf("want one warning naming the bound and a refused agent id:\n%s", out)
	}
}
