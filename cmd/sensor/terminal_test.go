package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// hostileURL holds an 8-bit CSI (U+009B: "red" in a terminal that obeys
// C1 controls) and a right-to-left override, which JSON leaves raw.
const hostileURL = `/\u009b31mred\u202eevil`

// terminalOutput runs cmd with its stdout on a pseudo-terminal and returns
// what the terminal received.
func terminalOutput(t *testing.T, cmd func(stdout *os.File) int) string {
	t.Helper()
	tty, master := openPTY(t)
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(master) // ends (EIO) once the terminal side is closed
		got <- b
	}()
	if rc := cmd(tty); rc != 0 {
		t.Fatalf("rc %d", rc)
	}
	tty.Close()
	return string(<-got)
}

// checkEscaped says whether the terminal got the URL, with its controls
// written out rather than raw.
func checkEscaped(t *testing.T, out string) {
	t.Helper()
	if strings.Contains(out, "\u009b") || strings.Contains(out, "\u202e") {
		t.Errorf("a raw control reached the terminal:\n%q", out)
	}
	if !strings.Contains(out, `\x9b31mred\u202eevil`) {
		t.Errorf("the URL is not on the terminal, escaped:\n%q", out)
	}
}

// NDJSON for a terminal has the controls that JSON leaves raw escaped:
// the alerts of a hunt, and the events of a replay to --out -.
func TestNDJSONToTerminalEscaped(t *testing.T) {
	dir := t.TempDir()
	events, ruleFile := filepath.Join(dir, "events.ndjson"), filepath.Join(dir, "rules.yaml")
	ev := `{"@timestamp":"2026-01-01T00:00:00Z","event":{"kind":"event","dataset":"packetsleuth.http"},"source":{"ip":"10.0.0.1"},"url":{"original":"` + hostileURL + `"}}`
	if err := os.WriteFile(events, []byte(ev+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rule := "rules:\n  - id: T-1\n    name: any request\n    severity: low\n    condition: event.dataset == \"packetsleuth.http\"\n"
	if err := os.WriteFile(ruleFile, []byte(rule), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	checkEscaped(t, terminalOutput(t, func(stdout *os.File) int {
		return run([]string{"hunt", "--from", events, "--rules", ruleFile}, stdout, &stderr)
	}))
}

// The events of a replay to --out - (the file output's stdout) reach a
// terminal with the controls of the wire escaped.
func TestReplayToTerminalEscaped(t *testing.T) {
	capture := filepath.Join(t.TempDir(), "hostile.pcap")
	if err := pcapgen.Write(capture, pcapgen.HostileStringsCapture()); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	out := terminalOutput(t, func(tty *os.File) int {
		stdout := os.Stdout // the file output writes to the process's stdout
		os.Stdout = tty
		defer func() { os.Stdout = stdout }()
		return run([]string{"replay", "--quiet", "--no-rules", "--out", "-", capture}, io.Discard, &stderr)
	})
	if strings.Contains(out, "\u202e") || !strings.Contains(out, `PSX7\u202etxt.exe`) {
		t.Errorf("the replay's events on a terminal:\n%q", out)
	}
}
