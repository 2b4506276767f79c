package rules

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// wantErrors lists, per bad fixture, the errors expected (file:line:col:
// rule id: message prefix, matched as substrings) — every one must be
// reported, all at once.
var wantErrors = map[string][]string{
	"errors.bad.yaml": {
		`errors.bad.yaml:4:69: rule B-1: condition: unknown field "dns.question.nme" (did you mean "dns.question.name"?)`,
		`errors.bad.yaml:10:21: rule B-2: condition: invalid operation: == (mismatched types int and string)`,
		`errors.bad.yaml:15:15: rule B-3: unknown severity "urgent"`,
		`errors.bad.yaml:16:5: rule B-3: unknown key "colour"`,
		`errors.bad.yaml:21:40: rule B-4: threshold: unknown field "destination.prot" (did you mean "destination.port"?)`,
		`errors.bad.yaml:21:89: rule B-4: threshold: bad window`,
		`errors.bad.yaml:24:24: rule B-5: condition: unknown list "nope"`,
		`errors.bad.yaml:26:9: rule B-1: duplicate rule id`,
	},
	"lists.bad.yaml": {
		`lists.bad.yaml:4:13: list "nets": bad IP or CIDR "10.0.0.0/33"`,
		`lists.bad.yaml:5:11: list name "source" is reserved`,
		`lists.bad.yaml:9:16: macro loop_a: condition: macro "loop_b": macro cycle: loop_a -> loop_b -> loop_a`,
		`lists.bad.yaml:11:16: macro loop_b: condition: macro "loop_a": macro cycle: loop_b -> loop_a -> loop_b`,
		`lists.bad.yaml:15:16: rule L-1: condition: macro "loop_a" is invalid`,
		`lists.bad.yaml:19:16: rule L-2: condition: expected bool, but got int`,
		`lists.bad.yaml:24:14: rule L-2: test "t" event 1: unknown field "source.nope" (did you mean "source.ip"?)`,
		`lists.bad.yaml:27:9: rule L-404: override of unknown rule`,
	},
	"names.bad.yaml": {
		`names.bad.yaml:2:11: list name "bad-name" must be an identifier (letters, digits, _)`,
		`names.bad.yaml:6:11: list "twice" defined twice in this file`,
		`names.bad.yaml:11:11: macro "shared" has the name of a list`,
	},
	"syntax.bad.yaml": {
		`syntax.bad.yaml:4:16: yaml: could not find end character of double-quoted text`,
		`syntax.bad.yaml:5:13: yaml: sequence end token ']' not found`,
	},
}

func TestBadFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.bad.yaml")
	if len(files) != len(wantErrors) {
		t.Fatalf("%d bad fixtures, %d expectations", len(files), len(wantErrors))
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			set, errs := Load(os.DirFS("testdata"), name)
			if set != nil {
				t.Fatal("bad fixture loaded")
			}
			var got []string
			for _, err := range errs {
				var e *Error
				if !errors.As(err, &e) {
					t.Errorf("not an *Error: %T %v", err, err)
				}
				got = append(got, err.Error())
			}
			for _, want := range wantErrors[name] {
				found := false
				for _, g := range got {
					if strings.Contains(g, want) {
						found = true
					}
				}
				if !found {
					t.Errorf("missing error %q\ngot:\n%s", want, strings.Join(got, "\n"))
				}
			}
			if len(got) != len(wantErrors[name]) {
				t.Errorf("got %d errors, want %d:\n%s", len(got), len(wantErrors[name]), strings.Join(got, "\n"))
			}
		})
	}
}

func TestErrorFields(t *testing.T) {
	_, errs := Load(os.DirFS("testdata"), "errors.bad.yaml")
	var e *Error
	for _, err := range errs {
		if x, ok := err.(*Error); ok && x.RuleID == "B-1" && x.Field != "" {
			e = x
		}
	}
	if e == nil {
		t.Fatal("no *Error for B-1")
	}
	if e.File != "errors.bad.yaml" || e.Line != 4 || e.Column != 69 || e.RuleID != "B-1" || e.Field != "dns.question.nme" {
		t.Errorf("%+v", e)
	}
}

func TestGoodFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.good.yaml")
	if len(files) == 0 {
		t.Fatal("no good fixtures")
	}
	for _, f := range files {
		set, errs := Load(os.DirFS("testdata"), filepath.Base(f))
		for _, err := range errs {
			t.Error(err)
		}
		if set == nil {
			continue
		}
		var sb strings.Builder
		if sum, err := RunTests(set, nil, &sb, TestOptions{}); err != nil || sum.Failed != 0 || sum.Passed == 0 {
			t.Errorf("%s: tests: %s", f, sb.String())
		}
	}
}

func TestMacrosListsAndIndex(t *testing.T) {
	set, errs := Load(os.DirFS("testdata"), "good.good.yaml")
	if errs != nil {
		t.Fatal(errs)
	}
	if got := set.Rule("T-1").Datasets; len(got) != 1 || got[0] != "packetsleuth.flow" {
		t.Errorf("T-1 pinned to %v", got)
	}
	if got := set.Rule("T-2").Datasets; len(got) != 1 || got[0] != "packetsleuth.dns" {
		t.Errorf("T-2 pinned to %v", got)
	}
	if set.Rule("T-2").RiskScore != 10 || set.Rule("T-2").SeverityNumber != SeverityLow {
		t.Errorf("risk/severity %+v", set.Rule("T-2"))
	}
	if set.Rule("T-1").RiskScore != SeverityHigh {
		t.Errorf("default risk score %v", set.Rule("T-1").RiskScore)
	}
	if set.Rule("T-1").Ruleset != "test" {
		t.Errorf("ruleset %q", set.Rule("T-1").Ruleset)
	}
}

// TestLocalOverrides loads shipped-style rules and a local file that
// replaces a list, appends to another, disables a rule and adds an
// exception.
func TestLocalOverrides(t *testing.T) {
	fsys := fstest.MapFS{
		"a/base.yaml": {Data: []byte(`
lists:
  - {name: allowed, type: ip, items: []}
  - {name: ports, type: port, items: [1]}
rules:
  - id: R-1
    name: r1
    condition: event.dataset == "packetsleuth.flow" and not in_list("allowed", source.ip) and destination.port in ports
    severity: low
  - id: R-2
    name: r2
    condition: event.dataset == "packetsleuth.flow"
    severity: low
`)},
		"b/local.yaml": {Data: []byte(`
lists:
  - {name: allowed, type: ip, items: [10.0.0.0/24]}
  - {name: ports, append: true, items: [2]}
overrides:
  - {id: R-2, enabled: false}
  - id: R-1
    exceptions: [{field: destination.ip, values: [192.0.2.1]}]
`)},
	}
	set, errs := Load(fsys, "a", "b")
	if errs != nil {
		t.Fatal(errs)
	}
	if set.Rule("R-2").Enabled {
		t.Error("R-2 still enabled")
	}
	if got := set.Lists()["ports"].Items; len(got) != 2 {
		t.Errorf("ports %v", got)
	}
	ev := NewEvaluator(set, EvalOptions{})
	count := func(src, dst string, port int) int {
		e := flowEvent(src, dst, port)
		n := 0
		ev.Eval(&e, func(a *schemasEvent) { n++ })
		return n
	}
	if count("10.0.0.5", "192.0.2.9", 2) != 0 {
		t.Error("allowlisted source alerted")
	}
	if count("10.1.0.5", "192.0.2.9", 2) != 1 {
		t.Error("appended port did not alert")
	}
	if count("10.1.0.5", "192.0.2.1", 1) != 0 {
		t.Error("exception did not silence")
	}
	if st := ev.Stats(); st.Excepted != 1 || st.Alerts != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestLoadFilesWithDefaults(t *testing.T) {
	dir := t.TempDir()
	local := filepath.Join(dir, "local.yaml")
	os.WriteFile(local, []byte(`
overrides:
  - {id: PS-EXP-001, enabled: true}
rules:
  - id: LOCAL-1
    name: uses a shipped macro
    condition: dns_event and dns.question.name == "x.example"
    severity: low
`), 0o644)
	set, errs := LoadFiles(Options{Defaults: true}, dir)
	if errs != nil {
		t.Fatal(errs)
	}
	if !set.Rule("PS-EXP-001").Enabled || set.Rule("LOCAL-1") == nil || set.Rule("PS-NET-001") == nil {
		t.Error("defaults or overrides missing")
	}
	var sb strings.Builder
	List(set, &sb)
	if !strings.Contains(sb.String(), "LOCAL-1") || !strings.HasPrefix(sb.String(), "ID ") {
		t.Errorf("list:\n%s", sb.String())
	}
}

// A test event whose value does not fit its field is reported at the key,
// with the ECS field and what it expects, not encoding/json's Go words.
func TestTestEventErrors(t *testing.T) {
	errs := loadErrors(`rules:
  - id: E-1
    name: e
    severity: low
    condition: destination.port == 22
    tests:
      - name: port
        events:
          - destination:
              port: ssh
        expect_none: true
      - name: ips
        events: [{event.dataset: packetsleuth.dns, dns.resolved_ip: 10.0.0.1}]
        expect_none: true
      - name: time
        events: [{"@timestamp": yesterday}]
        expect_none: true
`)
	want := []string{
		`r.yaml:10:15: rule E-1: test "port" event 1: destination.port: expected an integer, got string`,
		`r.yaml:13:52: rule E-1: test "ips" event 1: dns.resolved_ip: expected a list of strings, got string`,
		`r.yaml:16:19: rule E-1: test "time" event 1: @timestamp: expected a time (RFC 3339), got "yesterday"`,
	}
	for i := range errs {
		errs[i] = errs[i][:min(len(errs[i]), len(want[i]))]
	}
	expectLines(t, errs, want)
}

func TestUnknownFunction(t *testing.T) {
	errs := loadErrors(`rules:
  - {id: F-1, name: f, severity: low, condition: 'entropi(dns.question.name) > 3'}
  - {id: F-2, name: f, severity: low, condition: 'in_lst("x", source.ip)'}
  - {id: F-3, name: f, severity: low, condition: 'lower(dns.question.name) == "x"'}
`)
	want := []string{
		`r.yaml:2:51: rule F-1: condition: unknown function "entropi" (did you mean "entropy"?)`,
		`r.yaml:3:51: rule F-2: condition: unknown function "in_lst" (did you mean "in_list"?)`,
	}
	expectLines(t, errs, want)
}

// Every YAML syntax error of a file is reported with its column, and the
// entries without one are still checked (B-2's unknown field).
func TestYAMLSyntaxErrorsAllWithColumns(t *testing.T) {
	errs := loadErrors(`rules:
  - id: S-1
    name: unclosed
    severity: low
    condition: "dns_event
  - id: S-2
    name: good yaml, bad field
    severity: low
    condition: dns.question.nme == "x"
  - id: S-3
    name: two: colons
    severity: low
    condition: dns_event
`)
	want := []string{
		`r.yaml:5:16: yaml: could not find end character of double-quoted text`,
		`r.yaml:11:11: yaml: mapping value is not allowed in this context`,
		`r.yaml:9:29: rule S-2: condition: unknown field "dns.question.nme" (did you mean "dns.question.name"?)`,
	}
	expectLines(t, errs, want)
}

func TestWarnsOnAlwaysTrueAndEmptyFolder(t *testing.T) {
	empty, dir := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "r.yaml")
	if err := os.WriteFile(path, []byte(`rules:
  - {id: T-1, name: every event, severity: low, condition: "true"}
  - {id: T-2, name: folded, severity: low, condition: "1 == 1 or source.ip == 'x'"}
  - {id: T-3, name: counted, severity: low, condition: "true", threshold: {type: count, window: 1m, gte: 1000}}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	set, errs := LoadFiles(Options{}, empty, path)
	if errs != nil {
		t.Fatal(errs)
	}
	want := []string{
		empty + ": no rule files (*.yaml, *.yml) in this folder",
		path + ":2: rule T-1: condition is always true: the rule alerts on every event (add a threshold, or narrow it)",
		path + ":3: rule T-2: condition is always true: the rule alerts on every event (add a threshold, or narrow it)",
	}
	expectLines(t, warningLines(set), want)
}

// loadErrors loads one rule file and returns its errors as text.
func loadErrors(src string) []string {
	_, errs := Load(fstest.MapFS{"r.yaml": {Data: []byte(src)}}, "r.yaml")
	out := make([]string, len(errs))
	for i, err := range errs {
		out[i] = err.Error()
	}
	return out
}

func warningLines(set *Set) []string {
	var out []string
	for _, w := range set.Warnings() {
		out = append(out, w.Error())
	}
	return out
}

func expectLines(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// ATT&CK ids must have ATT&CK's shapes: TA0001, T1234, T1234.001.
func TestMITREIDShapes(t *testing.T) {
	errs := loadErrors(`rules:
  - id: M-1
    name: m
    severity: low
    condition: destination.port == 22
    threat:
      - {tactic: {id: TA0008}, technique: {id: T1021.004}}
      - {tactic: {id: TA08}, technique: {id: T1021.4}}
      - {tactic: {id: Lateral Movement}}
`)
	want := []string{
		`r.yaml:8:23: rule M-1: threat: bad ATT&CK tactic id "TA08" (TAnnnn)`,
		`r.yaml:8:46: rule M-1: threat: bad ATT&CK technique id "T1021.4" (Tnnnn or Tnnnn.nnn)`,
		`r.yaml:9:23: rule M-1: threat: bad ATT&CK tactic id "Lateral Movement" (TAnnnn)`,
	}
	expectLines(t, errs, want)
}

// The home network has one definition: the sensor's (Options.HomeNet,
// default the private ranges) is the list home_networks, and a rule file
// cannot define that list.
func TestHomeNetworksIsTheSensorsHomeNet(t *testing.T) {
	dir := t.TempDir()
	local := filepath.Join(dir, "local.yaml")
	os.WriteFile(local, []byte(`
rules:
  - id: LOCAL-HOME
    name: from home
    condition: flow_event and src_home
    severity: low
`), 0o644)
	fires := func(set *Set, src string) bool {
		ev := NewEvaluator(set, EvalOptions{})
		e := schemas.Event{}
		e.Event.Dataset = schemas.DatasetFlow
		e.Source.IP, e.Destination.IP = src, "198.51.100.1"
		n := 0
		ev.Eval(&e, func(a *schemas.Event) {
			if a.Rule.ID == "LOCAL-HOME" {
				n++
			}
		})
		return n > 0
	}
	def, errs := LoadFiles(Options{Defaults: true}, local)
	if errs != nil {
		t.Fatal(errs)
	}
	if !fires(def, "192.168.1.5") || fires(def, "203.0.113.5") {
		t.Error("default home net: want private ranges to be home")
	}
	custom, errs := LoadFiles(Options{Defaults: true, HomeNet: []string{"203.0.113.0/24, 2001:db8::/32"}}, local)
	if errs != nil {
		t.Fatal(errs)
	}
	if fires(custom, "192.168.1.5") || !fires(custom, "203.0.113.5") {
		t.Error("configured home net not seen by the rules")
	}
	if got := custom.Lists()[HomeNetworks].Items; len(got) != 2 {
		t.Errorf("home_networks items %v", got)
	}

	_, errs = LoadFiles(Options{HomeNet: []string{"10.0.0.0/33"}}, local)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), `bad CIDR "10.0.0.0/33"`) {
		t.Errorf("bad home net: %v", errs)
	}
	redefine := filepath.Join(dir, "redefine.yaml")
	os.WriteFile(redefine, []byte("lists:\n  - name: home_networks\n    type: ip\n    items: [10.0.0.0/8]\n"), 0o644)
	_, errs = LoadFiles(Options{}, redefine)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "redefine.yaml:2:") || !strings.Contains(errs[0].Error(), "set enrich.home_net") {
		t.Errorf("redefining home_networks: %v", errs)
	}
}

// The load parses files and compiles conditions on several goroutines,
// yet reports errors as one goroutine going through the files and rules
// in order would: each file's parse errors in the files' order, then the
// rules' in the rules' order. The first file is the largest, so it is
// parsed and compiled last of all if the goroutines finish in any order.
func TestErrorsInFilesAndRulesOrder(t *testing.T) {
	fsys := fstest.MapFS{}
	var want []string
	for i := range 10 {
		var src strings.Builder
		src.WriteString("colour: red\nrules:\n")
		pad := 1
		if i == 0 {
			pad = 200
		}
		for j := range pad {
			fmt.Fprintf(&src, "  - {id: ok-%d-%d, name: n, severity: low, condition: 'event.dataset == \"dns\" and (dns.question.name == \"%d\" or source.port in [1, 2, 3] or lower(http.request.method) contains \"x\")'}\n", i, j, j)
		}
		fmt.Fprintf(&src, "  - {id: bad-%d, name: n, severity: low, condition: 'source.prot == %d'}\n", i, i)
		name := fmt.Sprintf("f%d.yaml", i)
		fsys[name] = &fstest.MapFile{Data: []byte(src.String())}
		want = append(want, fmt.Sprintf("%s:1:1: unknown key \"colour\"", name))
	}
	for i := range 10 {
		line := 4
		if i == 0 {
			line = 203
		}
		want = append(want, fmt.Sprintf(`f%d.yaml:%d:60: rule bad-%d: condition: unknown field "source.prot"`, i, line, i))
	}
	_, errs := Load(fsys, "*.yaml")
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d: %v", len(errs), len(want), errs)
	}
	for i, err := range errs {
		if !strings.HasPrefix(err.Error(), want[i]) {
			t.Errorf("error %d: got %q, want it to start with %q", i, err, want[i])
		}
	}
}
