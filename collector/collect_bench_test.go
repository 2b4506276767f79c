package collector

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/packetsleuth/packetsleuth/store/storetest"
)

// BenchmarkCollectToPostgres measures one collector draining a topic of
// 20000 flow events (of three sensors) into PostgreSQL, batches of 5000:
// events/s of wall time from start to the last commit and the collector
// process's CPU per event (Kafka fetches, parsing, the store's client side;
// the broker and the database server run in other processes). Producing
// the events is not measured.
func BenchmarkCollectToPostgres(b *testing.B) {
	broker, pg := services(b)
	const n = 20000
	var docs [][]byte
	for _, s := range []string{"edge-a", "edge-bb", "edge-ccc"} {
		docs = append(docs, flowEvents(b, s, n/3+1)...)
	}
	docs = docs[:n]
	var cpu, wall time.Duration
	for b.Loop() {
		b.StopTimer()
		dsn := storetest.PGSchema(b, pg)
		topic, group := randName("ps-bench-"), randName("ps-group-")
		produce(b, broker, topic, docs)
		cfg := loadYAML(b, configYAML(broker, group, topic, dsn, "", 5000))
		m := NewMetrics(nil)
		c, err := New(cfg, m, nil)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var ru0, ru1 syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
		start := time.Now()
		b.StartTimer()
		var wg sync.WaitGroup
		var runErr error
		wg.Go(func() { runErr = c.Run(ctx) })
		for testutil.ToFloat64(m.stored) < n {
			if time.Since(start) > 5*time.Minute {
				b.Fatalf("%v of %d stored in 5 minutes", testutil.ToFloat64(m.stored), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
		wall += time.Since(start)
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
		cpu += time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
		b.StopTimer()
		cancel()
		wg.Wait()
		if runErr != nil {
			b.Fatal(runErr)
		}
		waitFor(b, dsn, n, 0)
		b.StartTimer()
	}
	events := float64(b.N * n)
	b.ReportMetric(events/wall.Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/events, "cpu-ns/event")
}
