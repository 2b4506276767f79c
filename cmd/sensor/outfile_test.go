package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A replay that writes no event still leaves the (empty) file its summary
// names; a second replay into the file appends and says so, with the size
// the file had.
func TestReplayOutFileCreatedAndAppended(t *testing.T) {
	out := filepath.Join(t.TempDir(), "events.ndjson")
	replay := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		// one worker: the same events in the same order each time
		if rc := run(append([]string{"replay", "--workers", "1", "--out", out}, args...), &stdout, &stderr); rc != 0 {
			t.Fatalf("replay %v: rc %d: %s", args, rc, stderr.String())
		}
		return stderr.String()
	}
	capture := "../../testdata/pcaps/icmp.pcap"
	summary := replay("--bpf", "port 1", capture) // filters out every frame
	if b, err := os.ReadFile(out); err != nil || len(b) != 0 {
		t.Fatalf("no events: file %q, %v; summary:\n%s", b, err, summary)
	}
	if !strings.Contains(summary, "events written to "+out) {
		t.Errorf("summary does not name the new file:\n%s", summary)
	}
	replay(capture)
	first, err := os.ReadFile(out)
	if err != nil || len(first) == 0 {
		t.Fatalf("after a replay: %d bytes, %v", len(first), err)
	}
	summary = replay(capture)
	if want := fmt.Sprintf("events appended to %s (existed, %d bytes)", out, len(first)); !strings.Contains(summary, want) {
		t.Errorf("summary lacks %q:\n%s", want, summary)
	}
	if both, _ := os.ReadFile(out); !bytes.Equal(both, append(first, first...)) {
		t.Errorf("the second replay did not append its events: %d bytes, want %d", len(both), 2*len(first))
	}
}

// Errors in --output flags name the flag, not a YAML position.
func TestOutputFlagErrorsNameTheFlag(t *testing.T) {
	f := filepath.Join(t.TempDir(), "x.ndjson")
	for _, tc := range []struct{ flag, want string }{
		{"file:path=" + f + ",colour=red", `unknown key "colour"`},
		{"file:path=" + f + ",queue_size=many", "cannot unmarshal"},
		{"file:path=" + f + ",mode=rw", "cannot unmarshal"},
	} {
		var stdout, stderr bytes.Buffer
		if rc := run([]string{"replay", "--output", tc.flag, "../../testdata/pcaps/icmp.pcap"}, &stdout, &stderr); rc != 2 {
			t.Errorf("%s: rc %d, want 2", tc.flag, rc)
		}
		msg := stderr.String()
		if !strings.Contains(msg, "--output "+tc.flag+": ") || !strings.Contains(msg, tc.want) || strings.Contains(msg, "line 0") {
			t.Errorf("%s: error %q: want it to name the flag and say %q, without a line", tc.flag, msg, tc.want)
		}
	}
}
