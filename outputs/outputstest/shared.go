package outputstest

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// WriteShared writes recs through a Fanout of s (configured by cfg) and
// an in-memory Sink, batch records a write from one buffer filled again
// for every write, as the pipeline's workers write. The queues hold two
// batches, so the Fanout's copies of the records are used again over and
// over while s delivers: a sink that kept a record's bytes past its Write
// would deliver another record's. WriteShared checks that the in-memory
// Sink got every record unchanged and returns the Summary of s; the caller
// checks that the far end of s holds recs unchanged.
func WriteShared(t testing.TB, s outputs.Sink, cfg outputs.SinkConfig, recs []schemas.Record, batch int) outputs.Summary {
	t.Helper()
	cfg.QueueSize, cfg.BatchSize = 2*batch, batch
	quiet := outputs.WithLogger(slog.New(slog.DiscardHandler))
	far, err := outputs.NewRunner(s, cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	mem := New()
	near, err := outputs.NewRunner(mem, outputs.SinkConfig{Name: "memory", Type: "memory", QueueSize: 2 * batch, BatchSize: batch}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	f := outputs.NewFanout(far, near)
	buf := make([]schemas.Record, 0, batch)
	var arena []byte
	for start := 0; start < len(recs); start += batch {
		buf, arena = buf[:0], arena[:0]
		for _, r := range recs[start:min(start+batch, len(recs))] {
			at := len(arena)
			arena = append(arena, r.JSON...)
			r.JSON = arena[at:len(arena):len(arena)]
			buf = append(buf, r)
		}
		if err := f.Write(buf); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sums, err := f.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := mem.Records()
	if len(got) != len(recs) {
		t.Fatalf("the in-memory output got %d records of %d", len(got), len(recs))
	}
	for i := range recs {
		if !bytes.Equal(got[i].JSON, recs[i].JSON) {
			t.Fatalf("the in-memory output's record %d changed: %.80s", i, got[i].JSON)
		}
	}
	return sums[0]
}
