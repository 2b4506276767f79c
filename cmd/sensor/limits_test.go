package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

// limits.memory is read from the config, --memory-limit overrides it, and
// a budget too small to be useful is an error with its line.
func TestMemoryLimitFromConfigAndFlag(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sensor.yaml")
	os.WriteFile(path, []byte("limits:\n  memory: 512MiB\n"), 0o644)
	cfg, err := loadConfig(path)
	if err != nil || cfg.Limits.Memory != 512<<20 || cfg.Limits.limit() != 512<<20 {
		t.Fatalf("limits %+v, err %v", cfg.Limits, err)
	}
	var c commonFlags
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.register(fs, "", "")
	if err := fs.Parse([]string{"--memory-limit", "64MiB"}); err != nil {
		t.Fatal(err)
	}
	c.apply(&cfg, visited(fs))
	if cfg.Limits.Memory != 64<<20 {
		t.Errorf("--memory-limit 64MiB gave %d", cfg.Limits.Memory)
	}
	if err := fs.Parse([]string{"--memory-limit", "lots"}); err == nil {
		t.Error("--memory-limit lots accepted")
	}

	os.WriteFile(path, []byte("workers: 1\nlimits:\n  memory: 1MiB\n"), 0o644)
	if _, err := loadConfig(path); err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "limits.memory") {
		t.Errorf("a 1 MiB budget: %v", err)
	}
	if got := runtimeLimit(4 << 30); got != 6<<30 {
		t.Errorf("runtime limit for 4 GiB: %d", got)
	}
	if got := runtimeLimit(64 << 20); got != 320<<20 {
		t.Errorf("runtime limit for 64 MiB: %d", got)
	}
}

// The budget sets the runtime's memory limit and GC target unless the
// environment sets them.
func TestBudgetSetsGCPacing(t *testing.T) {
	gc, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(gc); debug.SetMemoryLimit(limit) })
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	_, stop := newBudget(LimitsConfig{Memory: 64 << 20})
	got := debug.SetGCPercent(-1) // read it, and put it back
	debug.SetGCPercent(got)
	stop()
	if got < gcPace.Min || got > gcPace.Max {
		t.Errorf("GC percent %d while pacing, want %d..%d", got, gcPace.Min, gcPace.Max)
	}
	if got := debug.SetGCPercent(123); got != 100 {
		t.Errorf("GC percent %d after pacing, want 100 as before", got)
	}
	if got := debug.SetMemoryLimit(-1); got != runtimeLimit(64<<20) {
		t.Errorf("memory limit %d, want %d", got, runtimeLimit(64<<20))
	}
	t.Setenv("GOGC", "100")
	t.Setenv("GOMEMLIMIT", "1GiB")
	debug.SetMemoryLimit(1 << 30)
	_, stop = newBudget(LimitsConfig{Memory: 64 << 20})
	stop()
	if got := debug.SetGCPercent(100); got != 123 {
		t.Errorf("with GOGC set, GC percent changed to %d", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 1<<30 {
		t.Errorf("with GOMEMLIMIT set, memory limit changed to %d", got)
	}
}
