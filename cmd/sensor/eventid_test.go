package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// replayIDs replays capture with the given worker count ("": the default)
// and returns the event ids in output order.
func replayIDs(t *testing.T, capture, workers string) []string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "events.ndjson")
	args := []string{"replay", "--out", out}
	if workers != "" {
		args = append(args, "--workers", workers)
	}
	args = append(args, capture)
	var stdout, stderr bytes.Buffer
	if rc := run(args, &stdout, &stderr); rc != 0 {
		t.Fatalf("replay: rc %d: %s", rc, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for line := range bytes.Lines(b) {
		var ev struct {
			Event struct{ ID string } `json:"event"`
		}
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatal(err)
		}
		if len(ev.Event.ID) != 32 {
			t.Fatalf("event without a proper event.id: %s", line)
		}
		ids = append(ids, ev.Event.ID)
	}
	return ids
}

// Every event has an event.id, unique in the replay, and a replay of the
// same capture gives the same ids whatever the worker count, so a store or
// SIEM can drop what an at-least-once output delivered twice. The ids
// cover every byte but the observer, so equal sets of ids are equal sets
// of events: the default worker count (one per CPU) changes nothing but
// the order.
func TestEventIDsUniqueAndDeterministic(t *testing.T) {
	capture := mixCapture(t, 2<<20)
	one := replayIDs(t, capture, "1")
	slices.Sort(one)
	for _, workers := range []string{"3", ""} {
		ids := replayIDs(t, capture, workers)
		slices.Sort(ids)
		if len(one) < 100 || !slices.Equal(one, ids) {
			t.Fatalf("%d ids with 1 worker, %d with %q: not the same set", len(one), len(ids), workers)
		}
	}
	if n := len(slices.Compact(slices.Clone(one))); n != len(one) {
		t.Errorf("%d of %d ids are duplicates", len(one)-n, len(one))
	}
	t.Logf("%d events, all ids unique and the same with 1, 3 and the default (one per CPU) workers", len(one))
}
