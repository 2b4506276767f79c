package outputs_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/outputs/outputstest"
	"github.com/packetsleuth/packetsleuth/schemas"
)

var t0 = time.Date(2026, 11, 24, 10, 0, 0, 123456000, time.UTC)

func quiet() outputs.Option {
	return outputs.WithLogger(slog.New(slog.DiscardHandler))
}

func recs(from, to int) []schemas.Record {
	var out []schemas.Record
	for i := from; i < to; i++ {
		out = append(out, outputstest.Record(schemas.DatasetFlow, fmt.Sprintf("id-%d", i), i, t0.Add(time.Duration(i)*time.Microsecond)))
	}
	return out
}

// seqOf returns the "n" of each accepted record, in order.
func seqOf(t *testing.T, rs []schemas.Record) []int {
	t.Helper()
	out := make([]int, len(rs))
	for i, r := range rs {
		var v struct{ N int }
		if err := json.Unmarshal(r.JSON, &v); err != nil {
			t.Fatalf("record %d: %v: %s", i, err, r.JSON)
		}
		out[i] = v.N
	}
	return out
}

// wantSeq checks that got is exactly from..to-1 in order.
func wantSeq(t *testing.T, got []int, from, to int) {
	t.Helper()
	if len(got) != to-from {
		t.Fatalf("got %d records, want %d (first %v)", len(got), to-from, got[:min(len(got), 10)])
	}
	for i, n := range got {
		if n != from+i {
			t.Fatalf("record %d is n=%d, want %d (out of order or lost)", i, n, from+i)
		}
	}
}

func newRunner(t *testing.T, s outputs.Sink, cfg outputs.SinkConfig) *outputs.Runner {
	t.Helper()
	if cfg.Type == "" {
		cfg.Type = "mem"
	}
	r, err := outputs.NewRunner(s, cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func closeOK(t *testing.T, r *outputs.Runner) outputs.Summary {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sum, err := r.Close(ctx)
	if err != nil {
		t.Fatalf("Close: %v", err)
	}
	return sum
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestRunnerOrderAndBatches(t *testing.T) {
	s := outputstest.New()
	r := newRunner(t, s, outputs.SinkConfig{BatchSize: 7, FlushInterval: time.Hour})
	in := recs(0, 100)
	for i := 0; i < len(in); i += 3 {
		if err := r.Enqueue(in[i:min(i+3, len(in))]); err != nil {
			t.Fatal(err)
		}
	}
	sum := closeOK(t, r)
	wantSeq(t, seqOf(t, s.Records()), 0, 100)
	for i, b := range s.Batches() {
		if b > 7 {
			t.Errorf("batch %d has %d records, batch_size is 7", i, b)
		}
	}
	if sum.Sent != 100 || !sum.Clean() || !s.Closed() {
		t.Errorf("summary %+v, sink closed %v", sum, s.Closed())
	}
	st := r.Stats()
	if st.Enqueued != 100 || st.Sent != 100 || st.QueueLen != 0 || st.Latency.Count == 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestRunnerCopiesCallerBuffers(t *testing.T) {
	s := outputstest.New()
	r := newRunner(t, s, outputs.SinkConfig{FlushInterval: time.Hour})
	buf := []byte(`{"n":1}`)
	r.Enqueue([]schemas.Record{{Dataset: "d", JSON: buf}})
	copy(buf, `{"n":2}`) // the worker reuses its buffer
	closeOK(t, r)
	if got := string(s.Records()[0].JSON); got != `{"n":1}` {
		t.Fatalf("runner kept the caller's buffer: %s", got)
	}
}

func TestRunnerFlushInterval(t *testing.T) {
	s := outputstest.New()
	r := newRunner(t, s, outputs.SinkConfig{BatchSize: 1000, FlushInterval: 20 * time.Millisecond})
	defer closeOK(t, r)
	r.Enqueue(recs(0, 3))
	if !s.WaitLen(3, 5*time.Second) {
		t.Fatal("a partial batch was not flushed after flush_interval")
	}
	if b := s.Batches(); len(b) != 1 || b[0] != 3 {
		t.Errorf("batches %v, want one of 3", b)
	}
}

func TestRunnerBatchBytes(t *testing.T) {
	s := outputstest.New()
	in := recs(0, 50)
	per := len(in[10].JSON)
	r := newRunner(t, s, outputs.SinkConfig{BatchSize: 1000, BatchBytes: outputs.ByteSize(per * 4), FlushInterval: time.Hour})
	r.Enqueue(in)
	closeOK(t, r)
	wantSeq(t, seqOf(t, s.Records()), 0, 50)
	for _, b := range s.Batches() {
		if b > 4 {
			t.Fatalf("batch of %d records over batch_bytes (%d bytes each, limit %d)", b, per, per*4)
		}
	}
}

func TestRunnerConcurrentProducers(t *testing.T) {
	s := outputstest.New()
	r := newRunner(t, s, outputs.SinkConfig{QueueSize: 64, BatchSize: 16, FlushInterval: time.Millisecond})
	const producers, each = 4, 500
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := range each {
				rec := outputstest.Record("d", fmt.Sprint(p), i, t0)
				if err := r.Enqueue([]schemas.Record{rec}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	closeOK(t, r)
	next := map[string]int{}
	for _, rec := range s.Records() {
		var v struct {
			ID string
			N  int
		}
		json.Unmarshal(rec.JSON, &v)
		if v.N != next[v.ID] {
			t.Fatalf("producer %s: got n=%d, want %d", v.ID, v.N, next[v.ID])
		}
		next[v.ID]++
	}
	if s.Len() != producers*each {
		t.Fatalf("got %d records, want %d", s.Len(), producers*each)
	}
}

func TestRunnerRetriesWithBackoff(t *testing.T) {
	s := outputstest.New()
	s.FailWrites(3, nil)
	r := newRunner(t, s, outputs.SinkConfig{BatchSize: 10, FlushInterval: time.Millisecond, RetryMin: time.Millisecond, RetryMax: 4 * time.Millisecond})
	r.Enqueue(recs(0, 10))
	closeOK(t, r)
	wantSeq(t, seqOf(t, s.Records()), 0, 10)
	st := r.Stats()
	if st.Errors != 3 || st.Retried != 30 || st.Sent != 10 {
		t.Errorf("errors %d retried %d sent %d, want 3, 30, 10", st.Errors, st.Retried, st.Sent)
	}
	if st.LastError != outputstest.ErrInjected.Error() {
		t.Errorf("last error %q", st.LastError)
	}
}

func TestRunnerReconnects(t *testing.T) {
	s := outputstest.New()
	s.SetDown(true)
	r := newRunner(t, s, outputs.SinkConfig{BatchSize: 5, FlushInterval: time.Millisecond, RetryMin: time.Millisecond, RetryMax: 2 * time.Millisecond})
	r.Enqueue(recs(0, 5))
	waitFor(t, "connect attempts", func() bool { c, _ := s.Calls(); return c >= 3 })
	s.SetDown(false)
	if !s.WaitLen(5, 5*time.Second) {
		t.Fatal("not delivered after the sink came back")
	}
	// drop the connection: the next Write gets ErrNotConnected and reconnects
	s.SetDown(true)
	s.SetDown(false)
	connects, _ := s.Calls()
	r.Enqueue(recs(5, 10))
	closeOK(t, r)
	wantSeq(t, seqOf(t, s.Records()), 0, 10)
	if c, _ := s.Calls(); c <= connects {
		t.Errorf("no Connect after ErrNotConnected (connects %d then %d)", connects, c)
	}
	if st := r.Stats(); st.Reconnects < 3 || st.Errors < 3 {
		t.Errorf("reconnects %d errors %d", st.Reconnects, st.Errors)
	}
}

func TestRunnerPartialFailure(t *testing.T) {
	s := outputstest.New()
	var mu sync.Mutex
	tries := map[int]int{}
	s.FailRecords(func(rec schemas.Record) outputstest.Verdict {
		var v struct{ N int }
		json.Unmarshal(rec.JSON, &v)
		mu.Lock()
		defer mu.Unlock()
		tries[v.N]++
		switch {
		case v.N%10 == 7:
			return outputstest.Permanent
		case v.N%10 == 3 && tries[v.N] <= 2:
			return outputstest.Retry
		}
		return outputstest.Accept
	})
	dl := filepath.Join(t.TempDir(), "dead.ndjson")
	r := newRunner(t, s, outputs.SinkConfig{Name: "part", BatchSize: 10, FlushInterval: time.Millisecond, RetryMin: time.Millisecond, DeadLetter: dl})
	r.Enqueue(recs(0, 30))
	closeOK(t, r)

	got := seqOf(t, s.Records())
	seen := map[int]int{}
	for _, n := range got {
		seen[n]++
	}
	for n := range 30 {
		want := 1
		if n%10 == 7 {
			want = 0
		}
		if seen[n] != want {
			t.Errorf("record %d delivered %d times, want %d", n, seen[n], want)
		}
	}
	for n := 3; n < 30; n += 10 {
		if tries[n] != 3 {
			t.Errorf("record %d tried %d times, want 3 (only failed records are retried)", n, tries[n])
		}
		if tries[n+1] != 1 {
			t.Errorf("record %d tried %d times, want 1", n+1, tries[n+1])
		}
	}
	st := r.Stats()
	if st.Sent != 27 || st.DeadLettered != 3 || st.Retried != 6 {
		t.Errorf("sent %d dead %d retried %d, want 27, 3, 6", st.Sent, st.DeadLettered, st.Retried)
	}
	f, err := os.Open(dl)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("dead letter line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 3 {
		t.Fatalf("%d dead letter lines, want 3", len(lines))
	}
	ev := lines[1]["event"].(map[string]any)
	if ev["n"] != 17.0 || lines[1]["output"] != "part" || lines[1]["reason"] != "outputstest: rejected" {
		t.Errorf("dead letter line %v", lines[1])
	}
}

func TestRunnerSpoolsWhenDownThenDrainsInOrder(t *testing.T) {
	s := outputstest.New()
	s.SetDown(true)
	dir := t.TempDir()
	r := newRunner(t, s, outputs.SinkConfig{QueueSize: 100, BatchSize: 10, FlushInterval: time.Millisecond,
		RetryMin: time.Millisecond, RetryMax: 5 * time.Millisecond, SpoolAfter: 20 * time.Millisecond, SpoolDir: dir})
	r.Enqueue(recs(0, 50))
	waitFor(t, "the queue to move to the spool", func() bool { st := r.Stats(); return st.SpoolRecords == 50 && st.QueueLen == 0 })
	// while spooling, new records go behind the spooled ones, even with room in memory
	r.Enqueue(recs(50, 500))
	if st := r.Stats(); st.SpoolRecords != 500 || st.Spooled != 500 || st.SpoolBytes == 0 {
		t.Fatalf("spool records %d spooled %d bytes %d, want 500, 500, >0", st.SpoolRecords, st.Spooled, st.SpoolBytes)
	}
	s.SetDown(false)
	if !s.WaitLen(500, 10*time.Second) {
		t.Fatalf("drained %d of 500", s.Len())
	}
	r.Enqueue(recs(500, 510))
	sum := closeOK(t, r)
	wantSeq(t, seqOf(t, s.Records()), 0, 510)
	if sum.SpoolRecords != 0 || sum.Sent != 510 {
		t.Errorf("summary %+v", sum)
	}
	if segs, _ := filepath.Glob(filepath.Join(dir, "*.seg")); len(segs) != 0 {
		t.Errorf("delivered segments left behind: %v", segs)
	}
}

func TestRunnerRestartResumesSpool(t *testing.T) {
	dir := t.TempDir()
	cfg := outputs.SinkConfig{QueueSize: 1000, BatchSize: 10, FlushInterval: time.Millisecond,
		RetryMin: time.Millisecond, RetryMax: 5 * time.Millisecond, SpoolAfter: time.Hour, SpoolDir: dir}

	down := outputstest.New()
	down.SetDown(true)
	r1 := newRunner(t, down, cfg)
	r1.Enqueue(recs(0, 100))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	sum, err := r1.Close(ctx)
	if err == nil || sum.SpoolRecords != 100 || sum.Lost != 0 || sum.Clean() {
		t.Fatalf("Close while down: %+v, %v; want 100 records reported in the spool", sum, err)
	}

	up := outputstest.New()
	r2 := newRunner(t, up, cfg)
	if st := r2.Stats(); st.SpoolRecords+int64(up.Len()) != 100 {
		t.Fatalf("a new runner sees %d spooled records, want 100", st.SpoolRecords)
	}
	r2.Enqueue(recs(100, 120))
	sum = closeOK(t, r2)
	wantSeq(t, seqOf(t, up.Records()), 0, 120)
	if sum.SpoolRecords != 0 {
		t.Errorf("summary %+v", sum)
	}
	rec := up.Records()[5]
	if rec.Dataset != schemas.DatasetFlow || rec.Kind != "event" || rec.Key != "id-5" || !rec.Time.Equal(t0.Add(5*time.Microsecond)) {
		t.Errorf("spooled record lost its fields: %+v", rec)
	}
}

// spoolWhileDown leaves n records in a spool in dir.
func spoolWhileDown(t *testing.T, dir string, n int, cfg outputs.SinkConfig) {
	t.Helper()
	s := outputstest.New()
	s.SetDown(true)
	cfg.SpoolDir = dir
	cfg.OnFull = outputs.PolicySpool
	cfg.QueueSize = 1
	cfg.BatchSize = 1
	cfg.SpoolAfter = time.Millisecond
	cfg.RetryMin = time.Millisecond
	r := newRunner(t, s, cfg)
	for i := range n {
		r.Enqueue(recs(i, i+1))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	r.Close(ctx)
}

func TestRunnerCorruptSpoolTail(t *testing.T) {
	dir := t.TempDir()
	spoolWhileDown(t, dir, 20, outputs.SinkConfig{})
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(segs) == 0 {
		t.Fatal("no spool segment written")
	}
	last := segs[len(segs)-1]
	b, err := os.ReadFile(last)
	if err != nil {
		t.Fatal(err)
	}
	// flip a byte in the last record's JSON and add a torn partial record
	b[len(b)-3] ^= 0x55
	b = append(b, 0x40, 0, 0, 0, 1, 2)
	os.WriteFile(last, b, 0o600)

	s := outputstest.New()
	r := newRunner(t, s, outputs.SinkConfig{BatchSize: 100, FlushInterval: time.Millisecond, SpoolDir: dir})
	st := r.Stats()
	if st.SpoolCorrupt == 0 {
		t.Error("corruption not counted")
	}
	closeOK(t, r)
	got := seqOf(t, s.Records())
	// every record before the damaged one comes back, in order
	wantSeq(t, got, 0, 19)
}

func TestRunnerSpoolBoundedDropsOldest(t *testing.T) {
	dir := t.TempDir()
	s := outputstest.New()
	s.SetDown(true)
	r := newRunner(t, s, outputs.SinkConfig{QueueSize: 1, BatchSize: 1, OnFull: outputs.PolicySpool, SpoolDir: dir,
		SpoolMaxBytes: 256 << 10, RetryMin: time.Millisecond, RetryMax: 2 * time.Millisecond, FlushInterval: time.Millisecond})
	const n = 8000 // ~ 60 bytes each on disk: about twice the spool
	for i := range n {
		if err := r.Enqueue(recs(i, i+1)); err != nil {
			t.Fatal(err)
		}
	}
	st := r.Stats()
	if st.Dropped == 0 || st.SpoolBytes > 256<<10 {
		t.Fatalf("dropped %d, spool bytes %d (max %d)", st.Dropped, st.SpoolBytes, 256<<10)
	}
	s.SetDown(false)
	sum := closeOK(t, r)
	got := seqOf(t, s.Records())
	// what is left is the records held in memory, then a run of the newest
	// ones, in order: the oldest spooled records were dropped
	gaps := 0
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("out of order at %d: %d after %d", i, got[i], got[i-1])
		}
		if got[i] != got[i-1]+1 {
			gaps++
		}
	}
	if got[len(got)-1] != n-1 || gaps > 2 {
		t.Fatalf("last delivered %d (want %d), %d gaps (want at most 2)", got[len(got)-1], n-1, gaps)
	}
	if sum.Sent+sum.Dropped != n {
		t.Errorf("sent %d + dropped %d != %d", sum.Sent, sum.Dropped, n)
	}
}

func TestRunnerDropPolicyCounts(t *testing.T) {
	s := outputstest.New()
	s.Hold()
	r := newRunner(t, s, outputs.SinkConfig{QueueSize: 10, BatchSize: 5, OnFull: outputs.PolicyDrop, FlushInterval: time.Millisecond})
	for i := range 100 {
		if err := r.Enqueue(recs(i, i+1)); err != nil {
			t.Fatal(err)
		}
	}
	s.Release()
	sum := closeOK(t, r)
	st := r.Stats()
	if st.Dropped == 0 || st.Sent+st.Dropped != 100 || st.Enqueued != st.Sent || sum.Dropped != st.Dropped {
		t.Fatalf("sent %d dropped %d enqueued %d, want sent+dropped = 100", st.Sent, st.Dropped, st.Enqueued)
	}
	got := seqOf(t, s.Records())
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("out of order: %v", got)
		}
	}
}

func TestRunnerBlockPolicyBlocks(t *testing.T) {
	s := outputstest.New()
	s.Hold()
	r := newRunner(t, s, outputs.SinkConfig{QueueSize: 10, BatchSize: 5, FlushInterval: time.Millisecond})
	var done atomic.Bool
	go func() {
		r.Enqueue(recs(0, 100))
		done.Store(true)
	}()
	waitFor(t, "the queue to fill", func() bool { return r.Stats().QueueLen == 15 })
	time.Sleep(20 * time.Millisecond)
	if done.Load() {
		t.Fatal("Enqueue returned with a full queue and on_full: block")
	}
	s.Release()
	waitFor(t, "Enqueue to return", done.Load)
	closeOK(t, r)
	wantSeq(t, seqOf(t, s.Records()), 0, 100)
	if st := r.Stats(); st.Dropped != 0 {
		t.Errorf("dropped %d with block", st.Dropped)
	}
}

func TestRunnerCloseReleasesBlockedEnqueue(t *testing.T) {
	s := outputstest.New()
	s.SetDown(true)
	r := newRunner(t, s, outputs.SinkConfig{QueueSize: 5, BatchSize: 5, FlushInterval: time.Millisecond, RetryMin: time.Millisecond})
	errc := make(chan error, 1)
	go func() { errc <- r.Enqueue(recs(0, 50)) }()
	waitFor(t, "the queue to fill", func() bool { return r.Stats().QueueLen == 10 })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	sum, err := r.Close(ctx)
	if e := <-errc; !errors.Is(e, outputs.ErrClosed) {
		t.Errorf("blocked Enqueue returned %v, want ErrClosed", e)
	}
	// 10 in memory at the deadline, 40 still waiting for room
	if err == nil || sum.Lost != 50 || sum.Offered != 50 || sum.Dropped != 0 {
		t.Errorf("Close without spool while down: %v, %v; want 50 lost", sum, err)
	}
	if err := r.Enqueue(recs(0, 1)); !errors.Is(err, outputs.ErrClosed) {
		t.Errorf("Enqueue after Close: %v", err)
	}
}

func TestRunnerCloseFlushesPartialBatch(t *testing.T) {
	s := outputstest.New()
	r := newRunner(t, s, outputs.SinkConfig{BatchSize: 1000, FlushInterval: time.Hour})
	r.Enqueue(recs(0, 10))
	start := time.Now()
	closeOK(t, r)
	wantSeq(t, seqOf(t, s.Records()), 0, 10)
	if time.Since(start) > 5*time.Second {
		t.Error("Close waited for the flush interval")
	}
}

func TestRunnerOverflowToSpoolKeepsOrder(t *testing.T) {
	// on_full: spool while the memory queue holds older records, then an
	// outage moves the memory queue to the spool: it must go first.
	s := outputstest.New()
	s.SetDown(true)
	r := newRunner(t, s, outputs.SinkConfig{QueueSize: 10, BatchSize: 5, OnFull: outputs.PolicySpool, SpoolDir: t.TempDir(),
		FlushInterval: time.Millisecond, RetryMin: time.Millisecond, RetryMax: 2 * time.Millisecond, SpoolAfter: 30 * time.Millisecond})
	r.Enqueue(recs(0, 100))
	waitFor(t, "the memory queue to spill", func() bool { return r.Stats().SpoolRecords == 100 })
	s.SetDown(false)
	closeOK(t, r)
	wantSeq(t, seqOf(t, s.Records()), 0, 100)
}

func TestRunnerCloseSpoolsLeftoversAtDeadline(t *testing.T) {
	dir := t.TempDir()
	s := outputstest.New()
	s.SetDown(true)
	r := newRunner(t, s, outputs.SinkConfig{BatchSize: 10, FlushInterval: time.Millisecond, RetryMin: time.Millisecond, SpoolAfter: time.Hour, SpoolDir: dir})
	r.Enqueue(recs(0, 25))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	sum, err := r.Close(ctx)
	if err == nil || sum.SpoolRecords != 25 || sum.Lost != 0 || sum.SpoolDir != dir {
		t.Fatalf("summary %+v, err %v", sum, err)
	}
	s2 := outputstest.New()
	closeOK(t, newRunner(t, s2, outputs.SinkConfig{FlushInterval: time.Millisecond, SpoolDir: dir}))
	wantSeq(t, seqOf(t, s2.Records()), 0, 25)
}

func TestFanout(t *testing.T) {
	fast, slow := outputstest.New(), outputstest.New()
	slow.Hold()
	f := outputs.NewFanout(
		newRunner(t, fast, outputs.SinkConfig{Name: "fast", FlushInterval: time.Millisecond}),
		newRunner(t, slow, outputs.SinkConfig{Name: "slow", QueueSize: 10, BatchSize: 10, OnFull: outputs.PolicyDrop, FlushInterval: time.Millisecond}),
	)
	for i := range 100 {
		if err := f.Write(recs(i, i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if !fast.WaitLen(100, 5*time.Second) {
		t.Fatal("a slow sink held up the fast one")
	}
	slow.Release()
	sums, err := f.Close(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	st := f.Stats()
	if st[0].Name != "fast" || st[0].Sent != 100 || st[1].Sent+st[1].Dropped != 100 || st[1].Dropped == 0 {
		t.Errorf("stats %+v", st)
	}
	if sums[0].Sent != 100 {
		t.Errorf("summaries %+v", sums)
	}
	wantSeq(t, seqOf(t, fast.Records()), 0, 100)
}

// discard accepts everything and keeps nothing.
type discard struct{ n atomic.Int64 }

func (d *discard) Connect(context.Context) error { return nil }
func (d *discard) Write(_ context.Context, b []schemas.Record) error {
	d.n.Add(int64(len(b)))
	return nil
}
func (d *discard) Close(context.Context) error { return nil }

func BenchmarkRunnerEnqueue(b *testing.B) {
	for _, size := range []int{1, 64} {
		b.Run(fmt.Sprintf("per_call=%d", size), func(b *testing.B) {
			d := &discard{}
			r, _ := outputs.NewRunner(d, outputs.SinkConfig{Type: "discard", FlushInterval: time.Millisecond}, quiet())
			in := make([]schemas.Record, size)
			for i := range in {
				in[i] = schemas.Record{Dataset: schemas.DatasetFlow, JSON: make([]byte, 400)}
			}
			b.ReportAllocs()
			b.SetBytes(int64(400 * size))
			b.ResetTimer()
			for b.Loop() {
				r.Enqueue(in)
			}
			r.Close(context.Background())
			b.StopTimer()
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "records/s")
			if d.n.Load() != int64(b.N*size) {
				b.Fatalf("delivered %d of %d", d.n.Load(), b.N*size)
			}
		})
	}
}
