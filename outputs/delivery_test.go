package outputs_test

import (
	"context"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/outputs/outputstest"
)

// balanced checks that every record given to the output is in exactly one
// of the five outcomes.
func balanced(t *testing.T, s outputs.Summary, produced uint64) {
	t.Helper()
	if s.Offered+s.Resumed != produced {
		t.Errorf("%s: offered %d + resumed %d, want %d produced", s.Name, s.Offered, s.Resumed, produced)
	}
	if got := s.Sent + uint64(s.SpoolRecords) + s.DeadLettered + s.Dropped + s.Lost; got != produced {
		t.Errorf("%s: delivered+spooled+dead-lettered+dropped+lost = %d, want %d (%v)", s.Name, got, produced, s)
	}
}

// blockedProducer starts Enqueue(0..n) on r and returns its result channel.
func blockedProducer(t *testing.T, r *outputs.Runner, n int) <-chan error {
	errc := make(chan error, 1)
	go func() { errc <- r.Enqueue(recs(0, n)) }()
	waitFor(t, "the producer to block", func() bool { return r.Stats().Blocked == 1 })
	return errc
}

func TestRunnerInterruptUnblocksAndCountsWithoutSpool(t *testing.T) {
	s := outputstest.New()
	s.SetDown(true)
	r := newRunner(t, s, outputs.SinkConfig{QueueSize: 10, BatchSize: 5, FlushInterval: time.Millisecond, RetryMin: time.Millisecond})
	errc := blockedProducer(t, r, 100)
	r.Interrupt()
	if err := <-errc; err != nil {
		t.Fatalf("interrupted Enqueue: %v", err)
	}
	// later records do not wait either
	if err := r.Enqueue(recs(100, 120)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	sum, err := r.Close(ctx)
	if err == nil || sum.Lost != 120 || sum.Sent != 0 {
		t.Fatalf("summary %v, err %v; want all 120 lost", sum, err)
	}
	balanced(t, sum, 120)
}

func TestRunnerInterruptSpoolsAndCloseDoesNotWaitForTheDeadline(t *testing.T) {
	dir := t.TempDir()
	s := outputstest.New()
	s.SetDown(true)
	cfg := outputs.SinkConfig{QueueSize: 10, BatchSize: 5, FlushInterval: time.Millisecond, RetryMin: time.Millisecond,
		RetryMax: time.Millisecond, SpoolAfter: time.Hour, SpoolDir: dir}
	r := newRunner(t, s, cfg)
	errc := blockedProducer(t, r, 100)
	r.Interrupt()
	if err := <-errc; err != nil {
		t.Fatalf("interrupted Enqueue: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sum, err := r.Close(ctx)
	if ctx.Err() != nil {
		t.Fatal("Close of a failing output with a spool waited for its deadline")
	}
	if err == nil || sum.SpoolRecords != 100 || sum.Lost != 0 {
		t.Fatalf("summary %v, err %v; want all 100 in the spool", sum, err)
	}
	balanced(t, sum, 100)

	// the next start delivers them in order
	s2 := outputstest.New()
	r2 := newRunner(t, s2, cfg)
	sum2 := closeOK(t, r2)
	wantSeq(t, seqOf(t, s2.Records()), 0, 100)
	balanced(t, sum2, 100)
}

func TestFanoutTryWriteNeverWaits(t *testing.T) {
	s := outputstest.New()
	s.SetDown(true)
	r := newRunner(t, s, outputs.SinkConfig{QueueSize: 10, BatchSize: 5, FlushInterval: time.Millisecond, RetryMin: time.Millisecond})
	f := outputs.NewFanout(r)
	for i := range 50 {
		if err := f.TryWrite(recs(i, i+1)); err != nil {
			t.Fatal(err)
		}
	}
	st := r.Stats()
	if st.Dropped != 50-uint64(st.QueueLen) || st.QueueLen == 0 {
		t.Fatalf("queue %d, dropped %d: want the overflow dropped", st.QueueLen, st.Dropped)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	sum, _ := f.Close(ctx)
	balanced(t, sum[0], 50)
}

func TestRunnerSpoolAfterCountsFromTheFirstFailure(t *testing.T) {
	// the backoff (an hour) is far longer than spool_after: the records
	// must still move to the spool at spool_after
	s := outputstest.New()
	s.SetDown(true)
	r := newRunner(t, s, outputs.SinkConfig{BatchSize: 5, FlushInterval: time.Millisecond, RetryMin: time.Hour,
		SpoolAfter: 20 * time.Millisecond, SpoolDir: t.TempDir()})
	r.Enqueue(recs(0, 30))
	waitFor(t, "the queue to move to the spool", func() bool { return r.Stats().SpoolRecords == 30 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	sum, _ := r.Close(ctx)
	balanced(t, sum, 30)
}

func TestRunnerSpoolOnAFullDiskCountsLossAndRecovers(t *testing.T) {
	dir := outputstest.TinyDisk(t, 256<<10)
	if dir == "" {
		return
	}
	filler := outputstest.FillDisk(t, dir)
	s := outputstest.New()
	s.SetDown(true)
	r := newRunner(t, s, outputs.SinkConfig{QueueSize: 10, BatchSize: 5, OnFull: outputs.PolicySpool, FlushInterval: time.Millisecond,
		RetryMin: time.Millisecond, RetryMax: time.Millisecond, SpoolAfter: time.Hour, SpoolDir: dir + "/spool"})
	var failed atomic.Int64
	for i := range 100 {
		if err := r.Enqueue(recs(i, i+1)); err != nil {
			failed.Add(1)
		}
	}
	st := r.Stats()
	if st.Lost == 0 || st.Lost != uint64(failed.Load()) {
		t.Fatalf("disk full: lost %d, Enqueue errors %d; want the same, > 0", st.Lost, failed.Load())
	}
	// space comes back: the spool takes records again
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := r.Enqueue(recs(100, 150)); err != nil {
		t.Fatalf("spool after the disk has room again: %v", err)
	}
	s.SetDown(false)
	sum, err := r.Close(context.Background())
	if err == nil {
		t.Error("Close reported no loss")
	}
	balanced(t, sum, 150)
	if sum.Lost != st.Lost || sum.Sent != 150-st.Lost {
		t.Fatalf("summary %v; want %d lost, the rest delivered", sum, st.Lost)
	}
	got := seqOf(t, s.Records())
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("out of order or duplicated: %d after %d", got[i], got[i-1])
		}
	}
}

// on_full: block with a spool whose disk fills up: the producer waits, as
// for a full queue, instead of losing records; once the output is back
// everything arrives, in order.
func TestRunnerBlockWaitsOnAFullSpoolDisk(t *testing.T) {
	dir := outputstest.TinyDisk(t, 256<<10)
	if dir == "" {
		return
	}
	s := outputstest.New()
	s.SetDown(true)
	r := newRunner(t, s, outputs.SinkConfig{QueueSize: 10, BatchSize: 5, FlushInterval: time.Millisecond,
		RetryMin: time.Millisecond, RetryMax: 5 * time.Millisecond, SpoolAfter: time.Millisecond, SpoolDir: dir + "/spool"})
	const n = 6000 // about twice what the disk holds
	errc := make(chan error, 1)
	go func() {
		var err error
		for i := 0; i < n && err == nil; i += 10 {
			err = r.Enqueue(recs(i, i+10))
		}
		errc <- err
	}()
	waitFor(t, "the producer to wait on the full disk", func() bool {
		st := r.Stats()
		return st.Blocked == 1 && st.SpoolBytes > 128<<10
	})
	if st := r.Stats(); st.Lost != 0 {
		t.Fatalf("%d records lost on a full spool disk with on_full: block", st.Lost)
	}
	s.SetDown(false)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	sum := closeOK(t, r)
	balanced(t, sum, n)
	wantSeq(t, seqOf(t, s.Records()), 0, n)
}
