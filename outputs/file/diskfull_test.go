package file

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/outputs/outputstest"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// wholeLines checks that p ends with a newline and holds exactly the
// records 0..n-1 in order, once each.
func wholeLines(t *testing.T, p string, n int) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Fatalf("the file ends in a torn line: %q", b[max(0, len(b)-40):])
	}
	got := ns(t, lines(t, p))
	if len(got) != n {
		t.Fatalf("%d lines, want %d", len(got), n)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("line %d holds record %d (lost or duplicated)", i, v)
		}
	}
}

// A full disk: the sink reports exactly the records it did not write,
// leaves no torn line, and writes again once there is room.
func TestSinkFullDiskCutsBackAndResumes(t *testing.T) {
	dir := outputstest.TinyDisk(t, 64<<10)
	if dir == "" {
		return
	}
	p := filepath.Join(dir, "events.ndjson")
	s := newSink(t, Options{Path: p}, nil)
	filler := outputstest.FillDisk(t, dir)
	// leave room for part of the batch: the write stops mid-line
	if err := os.Truncate(filler, 58<<10); err != nil {
		t.Fatal(err)
	}
	in := batchOf(schemas.DatasetFlow, 0, 400) // ~ 40 KB
	err := s.Write(context.Background(), in)
	var be *outputs.BatchError
	if !errors.As(err, &be) || !errors.Is(err, syscall.ENOSPC) || len(be.Failed) == 0 || len(be.Failed) == len(in) {
		t.Fatalf("Write on a nearly full disk: %v; want a partial BatchError with ENOSPC", err)
	}
	written := len(in) - len(be.Failed)
	for k, i := range be.Failed {
		if i != written+k {
			t.Fatalf("failed records %v: want the tail of the batch from %d", be.Failed[:min(5, len(be.Failed))], written)
		}
	}
	wholeLines(t, p, written)
	// still full: nothing more is written, and nothing torn is left
	if err := s.Write(context.Background(), in[written:]); err == nil {
		t.Fatal("Write succeeded on a full disk")
	}
	wholeLines(t, p, written)
	// room again: the rest goes in after the last whole line
	os.Remove(filler)
	if err := s.Write(context.Background(), in[written:]); err != nil {
		t.Fatalf("Write after space came back: %v", err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	wholeLines(t, p, len(in))
}

// Through the Runner: the disk fills while events flow, then frees; every
// event is delivered exactly once and counted as delivered.
func TestRunnerFullDiskDeliversEveryRecordOnce(t *testing.T) {
	dir := outputstest.TinyDisk(t, 128<<10)
	if dir == "" {
		return
	}
	p := filepath.Join(dir, "events.ndjson")
	cfg := outputs.SinkConfig{Type: "file", BatchSize: 50, FlushInterval: time.Millisecond, RetryMin: time.Millisecond, RetryMax: 5 * time.Millisecond}
	cfg.SetOption("path", p)
	sink, err := outputs.NewSink(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := outputs.NewRunner(sink, cfg, outputs.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	filler := outputstest.FillDisk(t, dir)
	os.Truncate(filler, 100<<10) // about 28 KB free: the disk fills part way
	const n = 2000               // ~ 200 KB in all
	in := batchOf(schemas.DatasetFlow, 0, n)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < n; i += 100 {
			r.Enqueue(in[i : i+100])
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for r.Stats().Errors == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the disk never filled")
		}
		time.Sleep(time.Millisecond)
	}
	os.Remove(filler)
	<-done
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sum, err := r.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sent != n || sum.Offered != n || sum.Lost+sum.Dropped != 0 {
		t.Fatalf("summary %v; want all %d delivered", sum, n)
	}
	wholeLines(t, p, n)
	t.Logf("%d write errors on the full disk, %d record retries; %v", r.Stats().Errors, r.Stats().Retried, sum)
}
