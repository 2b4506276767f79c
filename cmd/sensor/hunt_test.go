package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A retro-hunt over recorded events raises the alerts a replay with the
// rules raised, from an NDJSON file and from the store; keeping them in the
// store twice stores them once.
func TestHuntFindsWhatReplayFound(t *testing.T) {
	const capture = "../../../shared/pcaps/portscan-masscan-tcp.pcap"
	if _, err := os.Stat(capture); err != nil {
		t.Skip("../shared/pcaps is not beside the repository")
	}
	dir := t.TempDir()
	withRules, noRules, db := filepath.Join(dir, "rules.ndjson"), filepath.Join(dir, "events.ndjson"), filepath.Join(dir, "h.db")
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"replay", "--quiet", "--out", withRules, capture}, &stdout, &stderr); rc != 0 {
		t.Fatalf("replay: %d %s", rc, stderr.String())
	}
	if rc := run([]string{"replay", "--quiet", "--no-rules", "--workers", "2", "--out", noRules, "--store", db, capture}, &stdout, &stderr); rc != 0 {
		t.Fatalf("replay --no-rules: %d %s", rc, stderr.String())
	}
	want := alertIDs(t, withRules)
	if len(want) == 0 {
		t.Fatal("the replay raised no alert")
	}
	if got := alertIDs(t, noRules); len(got) != 0 {
		t.Fatalf("--no-rules raised %v", got)
	}

	hunted := filepath.Join(dir, "hunted.ndjson")
	stderr.Reset()
	if rc := run([]string{"hunt", "--from", noRules, "--out", hunted}, &stdout, &stderr); rc != 0 {
		t.Fatalf("hunt --from: %d %s", rc, stderr.String())
	}
	if got := alertIDs(t, hunted); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("hunt --from: %v, want %v", got, want)
	}
	if fi, err := os.Stat(hunted); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("hunt --out mode: %v %v", fi.Mode(), err)
	}

	for i, wantStored := range []string{"stored 2 alerts, 0 already", "stored 0 alerts, 2 already"} {
		stdout.Reset()
		stderr.Reset()
		if rc := run([]string{"hunt", "--store", db, "--to-store"}, &stdout, &stderr); rc != 0 {
			t.Fatalf("hunt --store #%d: %d %s", i, rc, stderr.String())
		}
		got := alertIDsOf(t, stdout.Bytes())
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("hunt --store #%d: %v, want %v", i, got, want)
		}
		if !strings.Contains(stderr.String(), wantStored) || !strings.Contains(stderr.String(), "PS-NET-002 1") {
			t.Errorf("hunt --store #%d summary:\n%s", i, stderr.String())
		}
	}

	stderr.Reset()
	if rc := run([]string{"hunt", "--from", noRules, "--since", "1h"}, &stdout, &stderr); rc != 2 || !strings.Contains(stderr.String(), "--from cannot be used with") {
		t.Errorf("--from with --since: rc=%d %s", rc, stderr.String())
	}
}

func alertIDs(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return alertIDsOf(t, b)
}

// alertIDsOf lists the rule ids of the alerts of an NDJSON document, in
// order of rule id.
func alertIDsOf(t *testing.T, b []byte) []string {
	t.Helper()
	var ids []string
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var ev struct {
			Event struct{ Kind string }
			Rule  struct{ ID string }
		}
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Event.Kind == "alert" {
			ids = append(ids, ev.Rule.ID)
		}
	}
	slices.Sort(ids)
	return ids
}
