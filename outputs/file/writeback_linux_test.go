package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// A file of several writebackEvery, appended to an existing one, holds
// every line once and in order; and before Close, the bytes of the first
// writeback are no longer dirty in the page cache: their writeback began.
func TestWritebackKeepsTheFileWhole(t *testing.T) {
	p := filepath.Join(t.TempDir(), "events.ndjson")
	want := []byte("{\"n\":-1,\"existing\":true}\n")
	if err := os.WriteFile(p, want, 0o600); err != nil {
		t.Fatal(err)
	}
	s := newSink(t, Options{Path: p}, nil)
	pad := strings.Repeat("x", 1000)
	n := 0
	for len(want) < 3*writebackEvery {
		batch := make([]schemas.Record, 500)
		for i := range batch {
			batch[i] = schemas.Record{Dataset: schemas.DatasetFlow, JSON: fmt.Appendf(nil, `{"n":%d,"pad":"%s"}`, n, pad)}
			want = append(append(want, batch[i].JSON...), '\n')
			n++
		}
		if err := s.Write(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	o := s.files[""]
	o.wb.wait()
	// the first writeback took at least the first writebackEvery bytes; its
	// last folio (up to 2 MiB) was filled further, dirty again
	const checked = writebackEvery - 2<<20
	dirty, ok := dirtyPages(t, o.f, checked)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the file (%d bytes) differs from the %d records written (%d bytes)", len(got), n, len(want))
	}
	if !ok {
		return
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if after, _ := dirtyPages(t, f, int64(len(want))); after > 0 {
		t.Logf("%d pages still dirty after fsync: this filesystem has no writeback to watch", after)
		return
	}
	if dirty > 0 {
		t.Errorf("%d pages of the first %d MiB still dirty before Close: their writeback never began", dirty, checked>>20)
	}
}

// dirtyPages counts the dirty pages among f's first n bytes (cachestat,
// Linux 6.5+); ok is false where the kernel cannot tell.
func dirtyPages(t *testing.T, f *os.File, n int64) (dirty uint64, ok bool) {
	var st unix.Cachestat_t
	err := unix.Cachestat(uint(f.Fd()), &unix.CachestatRange{Len: uint64(n)}, &st, 0)
	if err != nil {
		t.Logf("cachestat: %v; the writeback is not checked", err)
		return 0, false
	}
	return st.Dirty, true
}

// A rotation whose fsync fails (here the active file is a named pipe,
// which cannot be synced) fails its records and keeps the file open; the
// next rotation tries again, and Close closes the file once.
func TestRotateAfterFailedSync(t *testing.T) {
	p := filepath.Join(t.TempDir(), "events.ndjson")
	if err := unix.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	read := make(chan []byte, 1)
	go func() {
		f, err := os.Open(p) // returns when the sink opens the pipe
		if err != nil {
			read <- nil
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		read <- b
	}()
	first := batchOf("d", 0, 3)
	var want []byte
	for _, r := range first {
		want = append(append(want, r.JSON...), '\n')
	}
	s := newSink(t, Options{Path: p, RotateSize: outputs.ByteSize(len(want))}, nil)
	if err := s.Write(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	next := batchOf("d", 3, 5)
	for try := range 3 {
		err := s.Write(context.Background(), next)
		var be *outputs.BatchError
		if !errors.As(err, &be) || !errors.Is(err, syscall.EINVAL) || len(be.Failed) != len(next) {
			t.Fatalf("try %d: Write past rotate_size on a file fsync refuses: %v; want every record failed with EINVAL", try, err)
		}
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := <-read; !bytes.Equal(got, want) {
		t.Fatalf("the pipe got %q, want %q", got, want)
	}
}
