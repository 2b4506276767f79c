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

// A bad --output flag is reported with the flag and the key at fault,
// whatever layer finds it (the flag's parser, the runner's keys, the
// sink's options or the sink itself), never with a YAML line the flag
// does not have nor a sensor.yaml path.
func TestOutputFlagErrorsNameTheFlag(t *testing.T) {
	f := filepath.Join(t.TempDir(), "x.ndjson")
	for flag, key := range map[string]string{
		"file:path=" + f + ",colour=red":            `unknown key "colour"`,
		"file:path=" + f + ",queue_size=many":       "queue_size: cannot unmarshal",
		"file:path=" + f + ",mode=rw":               "mode: cannot unmarshal",
		"kafka:brokers=127.0.0.1:1,queue_bytes=abc": "queue_bytes: \"abc\" is not a size",
		"kafka:batch_size=abc":                      "batch_size: cannot unmarshal",
		"kafka:brokers=127.0.0.1:1,timeout=zz":      "timeout: cannot unmarshal",
		"file:path=/dev/null,datasets=[":            "datasets: cannot unmarshal",
		"file:path=":                                "path: must not be empty",
		"file:path=-,gzip=true":                     "gzip",
		"syslog:address=":                           "address:",
		"bogus:x=1":                                 "unknown output type \"bogus\"",
		"webhook:url=http://127.0.0.1:1,tls=1":      "unknown key \"tls\"",
		"kafka:brokers=127.0.0.1:1,on_full=wat":     "on_full: \"wat\"",
		"kafka:brokers":                             "\"brokers\" is not key=value",
	} {
		var stderr bytes.Buffer
		if rc := run([]string{"replay", "--quiet", "--output", flag, "../../testdata/pcaps/icmp.pcap"}, &bytes.Buffer{}, &stderr); rc != 2 {
			t.Errorf("--output %s: rc %d, want 2: %s", flag, rc, stderr.String())
			continue
		}
		msg := stderr.String()
		for _, line := range strings.Split(strings.TrimSpace(msg), "\n") {
			if !strings.HasPrefix(line, " ") && !strings.Contains(line, "--output "+flag) {
				t.Errorf("--output %s: a line does not name the flag: %q", flag, line)
			}
		}
		if !strings.Contains(msg, key) || strings.Contains(msg, "line 0") || strings.Contains(msg, "outputs."+strings.Split(flag, ":")[0]+":") {
			t.Errorf("--output %s: %q, want %q, no line 0, no outputs.TYPE", flag, msg, key)
		}
	}
}
