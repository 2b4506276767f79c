package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/rules"
)

func TestRulesFields(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"rules", "fields", "--dataset", "packetsleuth.tls"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	has := func(prefix string) bool {
		for _, l := range lines {
			if strings.HasPrefix(l, prefix) {
				return true
			}
		}
		return false
	}
	for _, want := range []string{"FIELD ", "packetsleuth.tls.ja4 ", "tls.client.server_name ", "source.ip ", "related.ip "} {
		if !has(want) {
			t.Errorf("no line %q in\n%s", want, out.String())
		}
	}
	for _, not := range []string{"tls.client.ja4 ", "http.request.method ", "packetsleuth.stats."} {
		if has(not) {
			t.Errorf("line %q listed for TLS events", not)
		}
	}
	if !regexp.MustCompile(`(?m)^packetsleuth\.tls\.ja4\s+keyword\s+custom\s+JA4 fingerprint`).MatchString(out.String()) {
		t.Errorf("JA4 line is not name, type, custom, description:\n%s", out.String())
	}

	out.Reset()
	if code := run([]string{"rules", "fields"}, &out, &errb); code != 0 {
		t.Fatal(errb.String())
	}
	all := strings.Count(out.String(), "\n")
	if all <= len(lines) {
		t.Errorf("all fields: %d lines, TLS alone %d", all, len(lines))
	}

	errb.Reset()
	if code := run([]string{"rules", "fields", "--dataset", "packetsleuth.nope"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "packetsleuth.dns") {
		t.Errorf("unknown dataset: exit %d, %s", code, errb.String())
	}
}

// A SIGHUP reload logs the warnings of the rules it loads.
func TestReloadLogsRuleWarnings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "local.yaml")
	if err := os.WriteFile(path, []byte("rules: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	set, errs := rules.LoadFiles(rules.Options{Defaults: true}, path)
	if errs != nil {
		t.Fatal(errs)
	}
	var logb bytes.Buffer
	w := &wiring{rules: newRuleSwitch(set, &Config{Rules: RulesConfig{Paths: []string{path}}}, 1), log: slog.New(slog.NewTextHandler(&logb, nil))}
	if err := os.WriteFile(path, []byte(warnedRule), 0o644); err != nil {
		t.Fatal(err)
	}
	w.reload()
	if !strings.Contains(logb.String(), "rule LOCAL-1: condition reads tls.client.server_name") ||
		!strings.Contains(logb.String(), "msg=\"rules reloaded\"") || !strings.Contains(logb.String(), "warnings=1") {
		t.Errorf("log:\n%s", logb.String())
	}
}

const warnedRule = `rules:
  - id: LOCAL-1
    name: TLS server name on DNS events
    severity: low
    condition: event.dataset == "packetsleuth.dns" and tls.client.server_name == "x"
`

// `sensor rules validate` loads a rule that reads a field its dataset
// never carries, and says so on stderr.
func TestRulesValidateWarns(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "local.yaml")
	if err := os.WriteFile(path, []byte(warnedRule), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"rules", "validate", path}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "1 warning(s)") ||
		!strings.Contains(errb.String(), "warning: "+path+":2: rule LOCAL-1: condition reads tls.client.server_name, which packetsleuth.dns events never carry") {
		t.Errorf("stdout %q\nstderr %q", out.String(), errb.String())
	}
}

func TestRulesHelp(t *testing.T) {
	for _, args := range [][]string{{"rules", "--help"}, {"rules", "-h"}, {"rules", "validate", "-h"}, {"rules", "test", "--help"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 0 || !strings.Contains(out.String(), "sensor rules validate") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out.String(), errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"rules", "test", "-h"}, &out, &errb); !strings.Contains(out.String(), "-format") || !strings.Contains(out.String(), "-rule") {
		t.Errorf("test -h: exit %d: %s", code, out.String())
	}
	if code := run([]string{"rules", "validate", "--bogus"}, &out, &errb); code != 2 {
		t.Errorf("bad flag: exit %d", code)
	}
}

// writeRuleFile writes a rule file of two rules with one test each; the
// second test of L-2 fails.
func writeRuleFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "local.yaml")
	rule := `rules:
  - id: L-1
    name: port 4444
    severity: low
    condition: event.dataset == "packetsleuth.flow" and destination.port == 4444
    tests:
      - name: hit
        events: [{event.dataset: packetsleuth.flow, destination.port: 4444}]
        expect: [{rule: L-1}]
  - id: L-2
    name: port 22
    severity: low
    condition: event.dataset == "packetsleuth.flow" and destination.port == 22
    tests:
      - name: wrong
        events: [{event.dataset: packetsleuth.flow, source.ip: 10.0.0.1, destination.ip: 10.0.0.2, destination.port: 22}]
        expect_none: true
`
	if err := os.WriteFile(path, []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRulesTestRuleAndFormats(t *testing.T) {
	path := writeRuleFile(t)
	var out, errb bytes.Buffer
	// Flags after the path, one rule: its case passes alone.
	if code := run([]string{"rules", "test", path, "--rule", "L-1"}, &out, &errb); code != 0 ||
		out.String() != "--- PASS: L-1/hit\n1 passed, 0 failed, 0 skipped\n" {
		t.Errorf("--rule L-1: exit %d\n%s%s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := run([]string{"rules", "test", "--rule", "L-2", path}, &out, &errb); code != 1 ||
		!strings.Contains(out.String(), "--- FAIL: L-2/wrong ("+path+":15)\n    expected 0 alerts of L-2, got 1\n    alert L-2 at 2026-01-01T00:00:00Z 10.0.0.1:0 -> 10.0.0.2:22\n") {
		t.Errorf("failing case does not show its alert: exit %d\n%s", code, out.String())
	}
	errb.Reset()
	if code := run([]string{"rules", "test", "--rule", "L-3", path}, &out, &errb); code != 2 || !strings.Contains(errb.String(), `unknown rule "L-3" (did you mean`) {
		t.Errorf("unknown rule: exit %d %s", code, errb.String())
	}

	out.Reset()
	if code := run([]string{"rules", "test", "--rule", "L-2", "--format", "json", path}, &out, &errb); code != 1 {
		t.Errorf("json: exit %d", code)
	}
	var js struct {
		Passed, Failed int
		Cases          []struct {
			Rule, Case, Status string
			Alerts             []string
		}
	}
	if err := json.Unmarshal(out.Bytes(), &js); err != nil || js.Failed != 1 || len(js.Cases) != 1 || js.Cases[0].Status != "fail" || len(js.Cases[0].Alerts) != 1 {
		t.Errorf("json %v: %s", err, out.String())
	}

	out.Reset()
	if code := run([]string{"rules", "test", "--format", "junit", path}, &out, &errb); code != 1 {
		t.Errorf("junit: exit %d", code)
	}
	var ju struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(out.Bytes(), &ju); err != nil {
		t.Fatalf("junit: %v\n%s", err, out.String())
	}
	var failed []string
	for _, s := range ju.Suites {
		for _, c := range s.Cases {
			if c.Failure != nil {
				failed = append(failed, s.Name+"/"+c.Name+": "+c.Failure.Message)
			}
		}
	}
	if ju.Failures != 1 || ju.Tests < 2 || len(failed) != 1 || failed[0] != "L-2/wrong: expected 0 alerts of L-2, got 1" {
		t.Errorf("junit: %d tests, %d failures %v", ju.Tests, ju.Failures, failed)
	}
	if code := run([]string{"rules", "test", "--format", "tap", path}, &out, &errb); code != 2 {
		t.Errorf("unknown format: exit %d", code)
	}
}

// A pcap case with an absolute path (not joined onto the rule file's
// folder), enriched by intel: and home_net: as replay's --intel and
// --home-net do.
func TestRulesTestPcapIntelHomeNet(t *testing.T) {
	pcap, err := filepath.Abs("../../testdata/pcaps/http-ethernet.pcap")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.txt"), []byte("192.0.2.80\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rule := `rules:
  - id: P-1
    name: outbound HTTP to a listed server
    severity: high
    condition: event.dataset == "packetsleuth.http" and network.direction == "outbound" and intel_match()
    tests:
      - name: enriched
        pcap: ` + pcap + `
        intel: [bad.txt]
        home_net: [10.1.0.0/16]
        expect: [{rule: P-1}]
      - name: plain
        pcap: ` + pcap + `
        expect_none: true
      - name: bad-home-net
        pcap: ` + pcap + `
        home_net: [10.1.0.0/33]
        expect_none: true
`
	path := filepath.Join(dir, "local.yaml")
	if err := os.WriteFile(path, []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"rules", "test", "--rule", "P-1", path}, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), path+`:17:20: rule P-1: test "bad-home-net": home_net: bad IP or CIDR "10.1.0.0/33"`) {
		t.Errorf("bad home_net: exit %d\n%s%s", code, out.String(), errb.String())
	}
	rule = strings.Replace(rule, "10.1.0.0/33", "10.1.0.0/16", 1)
	if err := os.WriteFile(path, []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"rules", "test", "--rule", "P-1", path}, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), "--- PASS: P-1/enriched\n--- PASS: P-1/plain\n--- PASS: P-1/bad-home-net\n3 passed") {
		t.Errorf("exit %d\n%s%s", code, out.String(), errb.String())
	}
}
