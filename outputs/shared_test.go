package outputs_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/outputs/outputstest"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// docOf is record n's JSON, as long as a flow event's and different at
// every byte position from its neighbours': a block used again while a
// runner still held it would show.
func docOf(n int) []byte {
	b := fmt.Appendf(nil, `{"n":%d,"pad":"`, n)
	for i := range 600 {
		b = append(b, 'a'+byte((n+i)%26))
	}
	return append(b, `"}`...)
}

// writeShared writes records from..from+writers*perWriter through f from
// writers goroutines, each reusing one buffer of batch records for all its
// writes, as the pipeline's workers do; every 5th record is an alert.
func writeShared(t *testing.T, f *outputs.Fanout, from, writers, perWriter, batch int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			buf := make([]schemas.Record, batch)
			var arena []byte
			for start := 0; start < perWriter; start += batch {
				arena = arena[:0]
				for i := range buf {
					n := from + w*perWriter + start + i
					at := len(arena)
					arena = append(arena, docOf(n)...)
					buf[i] = schemas.Record{Dataset: schemas.DatasetFlow, Kind: "event", Time: t0, JSON: arena[at:]}
					if n%5 == 0 {
						buf[i].Dataset, buf[i].Kind, buf[i].Severity = schemas.DatasetAlert, "alert", 47
					}
				}
				if err := f.Write(buf); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// checkDocs checks that got holds exactly the documents of those of
// records 0..total want selects, each once and unchanged.
func checkDocs(t *testing.T, name string, got [][]byte, total int, want func(n int) bool) {
	t.Helper()
	seen := map[int]bool{}
	for _, doc := range got {
		var n int
		if _, err := fmt.Sscanf(string(doc), `{"n":%d,`, &n); err != nil || !bytes.Equal(doc, docOf(n)) {
			t.Fatalf("%s: a record changed under its output: %.80s", name, doc)
		}
		if seen[n] || !want(n) {
			t.Fatalf("%s: record %d delivered twice, or not routed here", name, n)
		}
		seen[n] = true
	}
	for n := range total {
		if want(n) && !seen[n] {
			t.Fatalf("%s: record %d missing (%d delivered)", name, n, len(got))
		}
	}
}

func jsonOf(recs []schemas.Record) [][]byte {
	out := make([][]byte, len(recs))
	for i := range recs {
		out[i] = recs[i].JSON
	}
	return out
}

// TestFanoutSlowOutputsSeeTheirRecordsUnchanged: the Fanout's copies are
// used again once every runner is done with them; an output held for the
// whole run, one that retries part of each batch and one routed a subset
// must still deliver every record's bytes as written (run with -race: a
// copy written while a runner reads it is a race too).
func TestFanoutSlowOutputsSeeTheirRecordsUnchanged(t *testing.T) {
	fast, held, retrying, alerts := outputstest.New(), outputstest.New(), outputstest.New(), outputstest.New()
	held.Hold()
	alerts.Hold()
	tried := map[int]bool{}
	var mu sync.Mutex
	retrying.FailRecords(func(r schemas.Record) outputstest.Verdict {
		var n int
		fmt.Sscanf(string(r.JSON), `{"n":%d,`, &n)
		mu.Lock()
		defer mu.Unlock()
		if n%7 == 0 && !tried[n] {
			tried[n] = true
			return outputstest.Retry
		}
		return outputstest.Accept
	})
	cfg := func(name string) outputs.SinkConfig {
		return outputs.SinkConfig{Name: name, BatchSize: 100, FlushInterval: time.Millisecond, RetryMin: time.Millisecond, RetryMax: time.Millisecond}
	}
	alertsCfg := cfg("alerts")
	alertsCfg.Datasets = []string{schemas.DatasetAlert} // a part of every write
	f := outputs.NewFanout(
		newRunner(t, fast, cfg("fast")),
		newRunner(t, held, cfg("held")),
		newRunner(t, retrying, cfg("retrying")),
		newRunner(t, alerts, alertsCfg),
	)
	const writers, perWriter, batch = 2, 2048, 64 // perWriter a multiple of batch
	half := writers * perWriter
	writeShared(t, f, 0, writers, perWriter, batch)
	if !fast.WaitLen(half, 10*time.Second) {
		t.Fatal("the fast output waited for the held ones")
	}
	// more writes while the held outputs still hold the first ones: they
	// may only use copies that every runner is done with
	writeShared(t, f, half, writers, perWriter, batch)
	held.Release()
	alerts.Release()
	if _, err := f.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	total := 2 * half
	all := func(int) bool { return true }
	checkDocs(t, "fast", jsonOf(fast.Records()), total, all)
	checkDocs(t, "held", jsonOf(held.Records()), total, all)
	checkDocs(t, "retrying", jsonOf(retrying.Records()), total, all)
	checkDocs(t, "alerts", jsonOf(alerts.Records()), total, func(n int) bool { return n%5 == 0 })
}

// The same with outputs whose records leave them other ways than by
// delivery: one down that spills to its spool and drains it later, one
// that drops what does not fit, one that loses what it holds at Close.
// None gives a record back twice (that panics) or before it is done with
// it: what the spool drains is what was written.
func TestFanoutSpooledDroppedAndLostRecordsAreGivenBack(t *testing.T) {
	fast, down, full, lost := outputstest.New(), outputstest.New(), outputstest.New(), outputstest.New()
	down.SetDown(true)
	full.Hold()
	lost.SetDown(true)
	retry := outputs.SinkConfig{FlushInterval: time.Millisecond, RetryMin: time.Millisecond, RetryMax: 2 * time.Millisecond}
	spooling, dropping, losing := retry, retry, retry
	spooling.Name, spooling.QueueSize, spooling.SpoolDir, spooling.SpoolAfter = "down", 500, t.TempDir(), 5*time.Millisecond
	dropping.Name, dropping.QueueSize, dropping.BatchSize, dropping.OnFull = "full", 100, 100, outputs.PolicyDrop
	losing.Name, losing.OnFull = "lost", outputs.PolicyDrop
	f := outputs.NewFanout(
		newRunner(t, fast, outputs.SinkConfig{Name: "fast", FlushInterval: time.Millisecond}),
		newRunner(t, down, spooling),
		newRunner(t, full, dropping),
		newRunner(t, lost, losing),
	)
	const writers, perWriter, batch = 2, 2048, 64
	total := writers * perWriter
	writeShared(t, f, 0, writers, perWriter, batch)
	waitFor(t, "the down output to spool", func() bool { return f.Stats()[1].SpoolRecords == int64(total) })
	down.SetDown(false)
	if !down.WaitLen(total, 10*time.Second) {
		t.Fatalf("the spool drained %d of %d", down.Len(), total)
	}
	full.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	sums, _ := f.Close(ctx)
	all := func(int) bool { return true }
	checkDocs(t, "fast", jsonOf(fast.Records()), total, all)
	checkDocs(t, "down", jsonOf(down.Records()), total, all)
	for _, s := range sums {
		balanced(t, s, uint64(total))
	}
	if sums[2].Dropped == 0 || sums[3].Lost+sums[3].Dropped != uint64(total) {
		t.Errorf("summaries %v", sums)
	}
}
