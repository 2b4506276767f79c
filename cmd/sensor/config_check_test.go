package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// The shipped example is a valid config, and it sets what it documents.
func TestExampleConfigIsValid(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"config", "check", "--config", "../../sensor.yaml.example"}, &stdout, &stderr); rc != 0 {
		t.Fatalf("rc=%d: %s", rc, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "ok: ") {
		t.Errorf("stdout %q", stdout.String())
	}
	cfg, err := loadConfig("../../sensor.yaml.example")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Workers != 0 || len(cfg.Interfaces) != 1 || cfg.Interfaces[0].Name != "lo" || cfg.Flow.Interim != time.Minute ||
		cfg.Stats.Interval != time.Minute || cfg.Capture.BufferSize != 64<<20 || len(cfg.Outputs) != 1 ||
		cfg.Defrag.decode() != decode.DefaultDefragConfig || cfg.Rules.MaxStateBytes != 64<<20 ||
		cfg.Limits.Memory != 2<<30 {
		t.Errorf("example config decoded as %+v", cfg)
	}
	lc := cfg.liveConfig(0)
	if !lc.Promisc || lc.Snaplen != 262144 || lc.ReadTimeout != 100*time.Millisecond || lc.Engine != "auto" {
		t.Errorf("live config of lo: %+v", lc)
	}
}

// Every error is reported, each with the file and line.
func TestConfigCheckReportsEveryErrorWithLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sensor.yaml")
	os.WriteFile(path, []byte(`workers: 2
bpf: "tcp port"
interfaces:
  - eth9
  - name: eth8
    snaplen: 10
    engine: netmap
  - eth9
stats:
  interval: 10ms
flow:
  interim: 500ms
`), 0o644)
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"config", "check", "--config", path}, &stdout, &stderr); rc != 1 {
		t.Fatalf("rc=%d", rc)
	}
	out := stderr.String()
	for _, want := range []string{
		"line 2: bpf:", "line 5: interfaces[1]: snaplen 10", "line 5: interfaces[1]: engine \"netmap\"",
		"line 8: interfaces[2]: interface \"eth9\" is listed twice", "line 10: stats.interval", "line 12: flow.interim", "6 error(s)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// Unknown keys, at any depth, are errors with their line too.
	os.WriteFile(path, []byte("workers: 1\ncapture:\n  snaplenn: 100\ninterfaces:\n  - name: eth0\n    promiscuous: true\n"), 0o644)
	stderr.Reset()
	if rc := run([]string{"config", "check", path}, &stdout, &stderr); rc != 1 ||
		!strings.Contains(stderr.String(), "line 3: field snaplenn not found") || !strings.Contains(stderr.String(), `line 6: unknown interface key "promiscuous"`) {
		t.Errorf("rc=%d:\n%s", rc, stderr.String())
	}

	// Syntax errors: every one, with line and column.
	os.WriteFile(path, []byte("workers: 1\ninterfaces:\n  - name: [eth0\n  - eth1\nbpf: \"tcp\nstats:\n  interval: 10s\n"), 0o644)
	stderr.Reset()
	if rc := run([]string{"config", "check", path}, &stdout, &stderr); rc != 1 ||
		!strings.Contains(stderr.String(), path+":3:11: yaml: sequence end token ']' not found") ||
		!strings.Contains(stderr.String(), path+":5:6: yaml: could not find end character of double-quoted text") {
		t.Errorf("rc=%d:\n%s", rc, stderr.String())
	}

	// hosts: a bad server names its key.
	os.WriteFile(path, []byte("hosts:\n  servers: [10.0.0.2, dhcp-1]\n"), 0o644)
	stderr.Reset()
	if rc := run([]string{"config", "check", path}, &stdout, &stderr); rc != 1 ||
		!strings.Contains(stderr.String(), `line 2: hosts.servers: "dhcp-1" is neither an address nor a CIDR`) {
		t.Errorf("rc=%d:\n%s", rc, stderr.String())
	}
	os.WriteFile(path, []byte("hosts:\n  max_entries: 10\n  max_learn_rate: -5\n"), 0o644)
	stderr.Reset()
	if rc := run([]string{"config", "check", path}, &stdout, &stderr); rc != 1 ||
		!strings.Contains(stderr.String(), `line 3: hosts.max_learn_rate: -5 is negative`) {
		t.Errorf("rc=%d:\n%s", rc, stderr.String())
	}
}

// Flags override the config's keys; run refuses a bad config before it
// opens anything.
func TestRunFlagsAndConfigErrors(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"run", "--config", "../../sensor.yaml.example", "--stats-interval", "1ms"}, &stdout, &stderr); rc != 2 ||
		!strings.Contains(stderr.String(), "stats.interval") {
		t.Errorf("rc=%d: %s", rc, stderr.String())
	}
	stderr.Reset()
	if rc := run([]string{"run", "--no-rules"}, &stdout, &stderr); rc != 2 || !strings.Contains(stderr.String(), "no interface") {
		t.Errorf("rc=%d: %s", rc, stderr.String())
	}
	stderr.Reset()
	if rc := run([]string{"run", "-i", "ps-no-such-if0", "--no-rules", "--out", "-"}, &stdout, &stderr); rc != 1 || !strings.Contains(stderr.String(), "ps-no-such-if0") {
		t.Errorf("rc=%d: %s", rc, stderr.String())
	}
}

// No authentication only on loopback: config check and run --web apply
// the rule of sensor serve.
func TestWebNoAuthOnlyOnLoopback(t *testing.T) {
	t.Setenv("PS_WEB_TOKEN", "")
	dir := t.TempDir()
	path := filepath.Join(dir, "sensor.yaml")
	os.WriteFile(path, []byte("interfaces: [lo]\nweb:\n  enabled: true\n  listen: 0.0.0.0:8080\n  hostnames: [\"https://sensor.lan\"]\n  auth:\n    disabled: true\n"), 0o600)
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"config", "check", path}, &stdout, &stderr); rc != 1 ||
		!strings.Contains(stderr.String(), "line 7: web.auth.disabled: authentication may only be disabled on a loopback") ||
		!strings.Contains(stderr.String(), "line 5: web.hostnames:") {
		t.Errorf("config check rc=%d:\n%s", rc, stderr.String())
	}
	ok := filepath.Join(dir, "ok.yaml")
	os.WriteFile(ok, []byte("interfaces: [lo]\nweb:\n  enabled: true\n  listen: 127.0.0.1:8080\n  auth:\n    disabled: true\n"), 0o600)
	stderr.Reset()
	if rc := run([]string{"config", "check", ok}, &stdout, &stderr); rc != 0 {
		t.Errorf("no auth on loopback refused: %s", stderr.String())
	}
	// --web moves the loopback-only config to every interface: refused
	// before any capture starts.
	stderr.Reset()
	if rc := run([]string{"run", "--config", ok, "--web", "0.0.0.0:18098", "--no-rules", "--out", "-"}, &stdout, &stderr); rc != 2 ||
		!strings.Contains(stderr.String(), "loopback") {
		t.Errorf("run --web 0.0.0.0 without auth: rc=%d: %s", rc, stderr.String())
	}
	// Enabled without any credential is an error too.
	noCred := filepath.Join(dir, "nocred.yaml")
	os.WriteFile(noCred, []byte("interfaces: [lo]\nweb:\n  enabled: true\n"), 0o600)
	stderr.Reset()
	if rc := run([]string{"config", "check", noCred}, &stdout, &stderr); rc != 1 || !strings.Contains(stderr.String(), "web.auth: set a token") {
		t.Errorf("web without credentials: rc=%d: %s", rc, stderr.String())
	}
}

// With no workers: key and no --workers flag, the pipeline runs one worker
// per CPU; a configured count is kept.
func TestWorkersDefaultOnePerCPU(t *testing.T) {
	var w wiring
	for _, c := range []struct{ set, want int }{{0, runtime.NumCPU()}, {3, 3}} {
		cfg := Config{Workers: c.set}
		if got := w.pipelineConfig(&cfg).Workers; got != c.want {
			t.Errorf("workers: %d: the pipeline gets %d workers, want %d", c.set, got, c.want)
		}
	}
}
