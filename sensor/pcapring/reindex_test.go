package pcapring

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/sensor/pcapindex"
)

// A run that stops without closing its file (a crash) leaves a capture
// without its index, its last block cut short: the next run indexes it in
// the background, counts the index against max_bytes, and every flow
// carves as it was captured, but for the frame the crash cut. A file the
// crash left empty (before the first flush) is removed.
func TestRingReindexesAfterCrash(t *testing.T) {
	capture := mix(t, 1<<20)
	r := newRing(t, Config{MaxBytes: 64 << 20})
	flows, order := feed(t, r, capture, 1)
	r.Close()
	// The crash: no index, and the last frame's block half written.
	file := firstCapture(t, r.Dir())
	if err := os.Remove(pcapindex.PathFor("", file)); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(file, st.Size()-20); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(r.Dir(), filePrefix+"29991231T000000.000000000Z"+fileSuffix)
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	b := budget.New(256 << 20)
	r2 := newRing(t, Config{Dir: r.Dir(), MaxBytes: 64 << 20, Budget: b})
	deadline := time.Now().Add(20 * time.Second)
	for r2.Stats().Reindexed == 0 || r2.Stats().ReindexFailed == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the file left unindexed was not indexed: %+v", r2.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := r2.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(empty); !os.IsNotExist(err) {
		t.Errorf("the empty file is still there: %v", err)
	}
	ist, err := os.Stat(pcapindex.PathFor("", file))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r2.Stats().DiskBytes, st.Size()-20+ist.Size(); got != want {
		t.Errorf("disk bytes %d, want the capture and its new index, %d", got, want)
	}
	missing := 0
	for _, cid := range order {
		got, want := carved(t, r.Dir(), cid), flows[cid]
		if !equalFrames(got, want[:len(got)]) {
			t.Fatalf("flow %s: carved frames differ from the captured ones", cid)
		}
		missing += len(want) - len(got)
	}
	if missing != 1 {
		t.Errorf("%d frames not carved, want only the one the crash cut", missing)
	}
	if used := b.Stats().Used; used != 0 {
		t.Errorf("budget holds %d bytes after Close", used)
	}
}
