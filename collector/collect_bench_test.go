package collector

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/store"
	"github.com/packetsleuth/packetsleuth/store/storetest"
)

// BenchmarkCollectToPostgres measures one collector draining a pre-filled
// topic of flow events of three sensors (PS_BENCH_EVENTS, default 100000)
// into PostgreSQL, batches of 5000 (PS_BENCH_BATCH), the way issue 15
// states its goal.
// Joining the group and the first batch are left out: from the first
// batch stored to the last, it reports events/s of wall time and the CPU
// time per event of each process: the collector (this process: Kafka
// fetches, parsing, the store's client side), the PostgreSQL backends
// serving it (server-cpu-ns/event; /proc, so the server must run on this
// machine) and, when PS_BENCH_BROKER_PID names the broker's process,
// the broker (broker-cpu-ns/event). The schema is migrated beforehand.
// Sub-benchmarks: the store's writers (connections writing a batch).
func BenchmarkCollectToPostgres(b *testing.B) {
	for _, w := range []int{1, 2} {
		b.Run(fmt.Sprintf("writers=%d", w), func(b *testing.B) { benchCollect(b, w) })
	}
}

func benchCollect(b *testing.B, writers int) {
	broker, pg := services(b)
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("PS_BENCH_EVENTS")); err == nil && v > 0 {
		n = v
	}
	batch := 5000
	if v, err := strconv.Atoi(os.Getenv("PS_BENCH_BATCH")); err == nil && v > 0 {
		batch = v
	}
	brokerPID, _ := strconv.Atoi(os.Getenv("PS_BENCH_BROKER_PID"))
	var docs [][]byte
	for _, s := range []string{"edge-a", "edge-bb", "edge-ccc"} {
		docs = append(docs, flowEvents(b, s, n/3+1)...)
	}
	docs = docs[:n]
	admin, err := sql.Open("pgx", pg)
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close()
	var events float64
	var cpu, srv, brk, wall time.Duration
	for b.Loop() {
		b.StopTimer()
		app := randName("ps-bench-")
		dsn := storetest.PGSchema(b, pg) + "&application_name=" + app
		st, err := store.Open(context.Background(), store.Config{Driver: store.Postgres, DSN: outputs.Secret(dsn)})
		if err != nil {
			b.Fatal(err)
		}
		st.Close()
		topic, group := randName("ps-bench-"), randName("ps-group-")
		produce(b, broker, topic, docs)
		cfg := loadYAML(b, configYAML(broker, group, topic, dsn, "", batch)+fmt.Sprintf("    writers: %d\n", writers))
		m := NewMetrics(nil)
		c, err := New(cfg, m, nil)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		var runErr error
		wg.Go(func() { runErr = c.Run(ctx) })
		// from the first batch stored: the group is joined, the connections open
		start := time.Now()
		for testutil.ToFloat64(m.batches) < 1 {
			if time.Since(start) > time.Minute {
				b.Fatal("no batch stored in a minute")
			}
			time.Sleep(time.Millisecond)
		}
		p0 := sample(b, admin, app, brokerPID)
		first := testutil.ToFloat64(m.stored)
		b.StartTimer()
		for testutil.ToFloat64(m.stored) < float64(n) {
			if time.Since(start) > 5*time.Minute {
				b.Fatalf("%v of %d stored in 5 minutes", testutil.ToFloat64(m.stored), n)
			}
			time.Sleep(time.Millisecond)
		}
		b.StopTimer()
		p1 := sample(b, admin, app, brokerPID)
		events += float64(n) - first
		wall += p1.at.Sub(p0.at)
		cpu += p1.self - p0.self
		brk += p1.broker - p0.broker
		for pid, t := range p1.backends {
			srv += t - p0.backends[pid] // a backend opened since counts whole
		}
		cancel()
		wg.Wait()
		if runErr != nil {
			b.Fatal(runErr)
		}
		waitFor(b, dsn, n, 0)
		b.StartTimer()
	}
	b.ReportMetric(events/wall.Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/events, "cpu-ns/event")
	if srv > 0 {
		b.ReportMetric(float64(srv.Nanoseconds())/events, "server-cpu-ns/event")
	}
	if brk > 0 {
		b.ReportMetric(float64(brk.Nanoseconds())/events, "broker-cpu-ns/event")
	}
}

// point is the CPU time used so far by each process of the chain.
type point struct {
	at       time.Time
	self     time.Duration
	backends map[int]time.Duration
	broker   time.Duration
}

func sample(b *testing.B, admin *sql.DB, app string, brokerPID int) point {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	p := point{at: time.Now(), self: time.Duration(ru.Utime.Nano() + ru.Stime.Nano())}
	var err error
	if p.backends, err = storetest.PGBackendsCPU(admin, app); err != nil {
		b.Fatal(err)
	}
	if brokerPID > 0 {
		p.broker = storetest.ProcCPU(brokerPID)
	}
	return p
}
