package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/store"
)

// export and hunt over a fleet's store keep one sensor's events with
// --sensor, as report does.
func TestExportAndHuntBySensor(t *testing.T) {
	db := filepath.Join(t.TempDir(), "fleet.db")
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{Path: db})
	if err != nil {
		t.Fatal(err)
	}
	var recs []schemas.Record
	t0 := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	for i, name := range []string{"edge-a", "edge-b", "edge-b"} {
		ev := &schemas.Event{Timestamp: t0.Add(time.Duration(i) * time.Second)}
		ev.ECS.Version = schemas.ECSVersion
		ev.Event.Kind, ev.Event.Dataset, ev.Event.Category = "event", schemas.DatasetFlow, []string{"network"}
		ev.Network.Transport = "tcp"
		ev.Source.IP, ev.Source.Port, ev.Destination.IP, ev.Destination.Port = "10.0.0.1", 40000+i, "192.0.2.1", 443
		ev.Observer.Name = name
		rec, err := schemas.NewRecord(ev)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	if _, err := st.Insert(ctx, recs); err != nil {
		t.Fatal(err)
	}
	st.Close()

	var stdout, stderr bytes.Buffer
	if rc := run([]string{"export", "--store", db, "--dataset", "flow", "--format", "ndjson", "--sensor", "edge-b"}, &stdout, &stderr); rc != 0 {
		t.Fatalf("export rc=%d: %s", rc, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 || strings.Contains(stdout.String(), "edge-a") || !strings.Contains(lines[0], `"name":"edge-b"`) {
		t.Errorf("export --sensor edge-b: %d lines\n%s", len(lines), stdout.String())
	}
	stdout.Reset()
	stderr.Reset()
	if rc := run([]string{"hunt", "--store", db, "--sensor", "edge-a"}, &stdout, &stderr); rc != 0 || !strings.Contains(stderr.String(), "hunt: 1 events evaluated") {
		t.Errorf("hunt --sensor edge-a: rc=%d %s", rc, stderr.String())
	}
	for _, args := range [][]string{{"export", "--from", db, "--sensor", "edge-a"}, {"hunt", "--from", db, "--sensor", "edge-a"}} {
		stderr.Reset()
		if rc := run(args, &stdout, &stderr); rc != 2 || !strings.Contains(stderr.String(), "--sensor") {
			t.Errorf("%v: rc=%d %s", args, rc, stderr.String())
		}
	}
}
