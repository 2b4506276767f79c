package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/store/storetest"
)

// BenchmarkInsertNew measures inserts of batches of 5000 flows never stored
// before (each iteration gets new event ids and later times, 1 ms apart,
// as a collector's batches do),
// and reports events/s of wall time and this process's CPU time per event
// (the database server's CPU is not in it).
func BenchmarkInsertNew(b *testing.B) {
	flows := makeFlows(5000)
	recs := make([]schemas.Record, len(flows))
	for i, f := range flows {
		recs[i] = record(b, f.event())
	}
	for _, be := range backends(b) {
		b.Run(be.name, func(b *testing.B) {
			s := open(b, be.cfg(b))
			server := serverCPU(b, s)
			var n uint64
			var ru0, ru1 syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			srv0 := server()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				for i := range recs {
					n++
					newID(recs[i].JSON, n)
					recs[i].Time = t0.Add(time.Duration(n) * time.Millisecond)
				}
				st, err := s.Insert(context.Background(), recs)
				if err != nil {
					b.Fatal(err)
				}
				if st.Flows != len(recs) {
					b.Fatalf("%d of %d flows written", st.Flows, len(recs))
				}
			}
			b.StopTimer()
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
			if srv := server() - srv0; srv > 0 {
				b.ReportMetric(float64(srv.Nanoseconds())/float64(b.N*len(recs)), "server-cpu-ns/event")
			}
			events := float64(b.N * len(recs))
			cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
			b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(cpu.Nanoseconds())/events, "cpu-ns/event")
		})
	}
}

// newID overwrites the event.id in doc with one made from n, a hash as
// the sensors' ids are (their order is not the order of the events).
func newID(doc []byte, n uint64) {
	id := schemas.EventIDOf(doc)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	sum := sha256.Sum256(b[:])
	hex.Encode(id, sum[:len(id)/2])
}

// serverCPU returns a function that reads the CPU time of the database
// server's side of s, or zero where it cannot be read (SQLite, a server on
// another machine): on PostgreSQL the backend serving s (s is limited to
// that one connection), on MySQL/MariaDB the whole server process (its
// other clients' work counts too).
func serverCPU(b *testing.B, s *Store) func() time.Duration {
	var pid int
	switch s.Driver() {
	case Postgres:
		s.DB().SetMaxOpenConns(1)
		if err := s.DB().QueryRow("SELECT pg_backend_pid()").Scan(&pid); err != nil {
			b.Fatal(err)
		}
	case MySQL:
		var file string
		if err := s.DB().QueryRow("SELECT @@pid_file").Scan(&file); err != nil {
			b.Fatal(err)
		}
		if p, err := os.ReadFile(file); err == nil {
			pid, _ = strconv.Atoi(strings.TrimSpace(string(p)))
		}
	}
	if pid == 0 {
		return func() time.Duration { return 0 }
	}
	return func() time.Duration { return storetest.ProcCPU(pid) }
}
