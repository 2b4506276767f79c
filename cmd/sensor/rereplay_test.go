package main

import (
	"bytes"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// storeCounts replays capture into db and returns the flow rows, the
// packets of the 1-second traffic series and the replay's summary.
func storeCounts(t *testing.T, capture, db, workers string) (flows, packets int64, summary string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"replay", "--workers", workers, "--store", db, "--out", filepath.Join(t.TempDir(), "ev.ndjson"), capture}, &stdout, &stderr); rc != 0 {
		t.Fatalf("replay: rc %d: %s", rc, stderr.String())
	}
	d, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.QueryRow("SELECT COUNT(*) FROM flows").Scan(&flows); err != nil {
		t.Fatal(err)
	}
	if err := d.QueryRow("SELECT COALESCE(SUM(packets), 0) FROM traffic WHERE res = 1").Scan(&packets); err != nil {
		t.Fatal(err)
	}
	return flows, packets, stderr.String()
}

// Re-running a replay into the same store adds nothing: one row per flow
// and the traffic series counts each packet once, whatever the workers.
func TestReReplayStoreIdempotent(t *testing.T) {
	capture := mixCapture(t, 512<<10)
	one := filepath.Join(t.TempDir(), "one.db")
	flows, packets, _ := storeCounts(t, capture, one, "1")
	if flows == 0 || packets == 0 {
		t.Fatalf("first replay stored %d flows, %d packets", flows, packets)
	}
	three := filepath.Join(t.TempDir(), "three.db")
	for i := range 2 {
		f, p, summary := storeCounts(t, capture, three, "3")
		if f != flows || p != packets {
			t.Errorf("replay %d with 3 workers: %d flows, %d packets in the series; want %d, %d", i+1, f, p, flows, packets)
		}
		// the summary says what the store already held
		if said := strings.Contains(summary, "already stored (same event.id)"); said != (i == 1) {
			t.Errorf("replay %d: summary says already stored: %v:\n%s", i+1, said, summary)
		}
	}
}
