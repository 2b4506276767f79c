package pcapring

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/sensor/pcapindex"
)

// bareWriter is a ring's writer without its goroutine: the test calls
// it, so that no tick (once a second) corrects the gauge behind its back.
func bareWriter(t *testing.T) (*Ring, *writer) {
	t.Helper()
	r := &Ring{log: slog.New(slog.DiscardHandler), cfg: Config{Dir: t.TempDir(), MaxBytes: 64 << 20, FileBytes: 1 << 20,
		FileAge: time.Hour, Links: []layers.LinkType{layers.LinkTypeEthernet}, Snaplen: 262144, Log: slog.New(slog.DiscardHandler)}}
	w, err := newWriter(r)
	if err != nil {
		t.Fatal(err)
	}
	r.w = w
	return r, w
}

// fileBytes sums the sizes of the regular files in dir.
func fileBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
	}
	return n
}

// The disk gauge is what the ring holds after every outcome: a file
// closed, a close that failed (the file is removed), a write that failed
// (the file is dropped).
func TestDiskGaugeAfterFailures(t *testing.T) {
	r, w := bareWriter(t)
	frame := make([]byte, 1500)
	check := func(what string) {
		t.Helper()
		want := fileBytes(t, r.Dir())
		if w.cur != nil {
			want += int64(w.cur.bw.Buffered()) // on its way
		}
		if got := r.Stats().DiskBytes; got != want {
			t.Errorf("%s: gauge %d bytes, the ring holds %d", what, got, want)
		}
	}
	w.write("1:cid-a", 0, 1, len(frame), frame)
	check("a frame written")
	if err := w.rotate(time.Now()); err != nil {
		t.Fatal(err)
	}
	check("a file closed")
	kept := fileBytes(t, r.Dir())

	// the index cannot be written where a folder stands: the close fails
	w.write("1:cid-a", 0, 2, len(frame), frame)
	ipath := pcapindex.PathFor("", w.cur.path)
	if err := os.Mkdir(ipath, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ipath, "x"), nil, 0o600); err != nil { // not empty: it stays
		t.Fatal(err)
	}
	if err := w.rotate(time.Now()); err == nil {
		t.Fatal("rotate onto a folder succeeded")
	}
	check("a close failed")
	if got := fileBytes(t, r.Dir()); got != kept {
		t.Fatalf("the ring holds %d bytes, %d before the failed close", got, kept)
	}

	// a write to a file the disk took away fails: the file is dropped
	w.write("1:cid-a", 0, 3, len(frame), frame)
	w.cur.f.Close()
	big := make([]byte, 128<<10) // more than the buffer: written through
	w.write("1:cid-a", 0, 4, len(big), big)
	if w.cur != nil || r.Stats().WriteErrors != 2 {
		t.Fatalf("after a failed write: file %v, %d write errors", w.cur, r.Stats().WriteErrors)
	}
	check("a write failed")
}
