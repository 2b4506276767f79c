package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/packetsleuth/packetsleuth/rulesets"
	"github.com/packetsleuth/packetsleuth/schemas"
	"go.yaml.in/yaml/v3"
)

// A sensor's load leaves the shipped rules' test cases out (their events
// undecoded), and still loads and checks the local files' ones.
func TestSkipShippedTests(t *testing.T) {
	dir := t.TempDir()
	local := filepath.Join(dir, "local.yaml")
	os.WriteFile(local, []byte(`rules:
  - id: LOCAL-1
    name: ssh
    severity: low
    condition: destination.port == 22
    tests:
      - name: hit
        events: [{destination.port: 22, _repeat: 3}]
        expect: [{count: 3}]
      - name: shipped
        events: [{event.dataset: packetsleuth.dns}]
        expect_none: true
`), 0o644)
	full, errs := LoadFiles(Options{Defaults: true}, dir)
	if errs != nil {
		t.Fatal(errs)
	}
	set, errs := LoadFiles(Options{Defaults: true, SkipShippedTests: true}, dir)
	if errs != nil {
		t.Fatal(errs)
	}
	if len(set.Rules()) != len(full.Rules()) {
		t.Fatalf("%d rules, %d without the option", len(set.Rules()), len(full.Rules()))
	}
	shippedCases := 0
	for _, r := range full.Rules() {
		if r.ID != "LOCAL-1" {
			shippedCases += len(r.Tests)
		}
	}
	if shippedCases == 0 {
		t.Fatal("the shipped rules have no test cases: nothing skipped")
	}
	for _, r := range set.Rules() {
		if r.ID != "LOCAL-1" && r.Tests != nil {
			t.Errorf("%s keeps %d test cases", r.ID, len(r.Tests))
		}
	}
	lr := set.Rule("LOCAL-1")
	if len(lr.Tests) != 2 || len(lr.Tests[0].Events()) != 3 || len(lr.Tests[1].Events()) != 1 {
		t.Fatalf("local tests %+v", lr.Tests)
	}
	if res := RunCase(set, lr, &lr.Tests[0], nil); res.Failed || res.Skipped {
		t.Errorf("local case: %+v", res)
	}
}

// A local rule's test event that does not decode is reported with file,
// line and field as without the option.
func TestSkipShippedTestsStillChecksLocal(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "local.yaml"), []byte(`rules:
  - id: LOCAL-1
    name: ssh
    severity: low
    condition: destination.port == 22
    tests:
      - name: bad
        events: [{destination.prot: 22}]
        expect_none: true
`), 0o644)
	for _, skip := range []bool{false, true} {
		_, errs := LoadFiles(Options{Defaults: true, SkipShippedTests: skip}, dir)
		if len(errs) != 1 {
			t.Fatalf("skip %v: %v", skip, errs)
		}
		e := errs[0].(*Error)
		if e.File != filepath.Join(dir, "local.yaml") || e.Line != 8 || e.Field != "destination.prot" || e.RuleID != "LOCAL-1" {
			t.Errorf("skip %v: %+v", skip, e)
		}
	}
}

// shippedLoad loads the shipped files as LoadFiles does, their tests
// checked at build time or not, and returns the loader.
func shippedLoad(t *testing.T, checked bool) (*loader, []error) {
	t.Helper()
	l := newLoader(nil)
	files := l.fsFiles(rulesets.FS, rulesets.Dirs, "rulesets/")
	for _, f := range files {
		f.testsChecked = checked
	}
	_, errs := l.load(files)
	return l, errs
}

// The shipped cases' events count towards the bound on test events as
// many as decoding them counts, and the rules they expect must still be in
// the set: local files can break a shipped rule.
func TestSkippedTestsCountAndExpect(t *testing.T) {
	decoded, errs := shippedLoad(t, false)
	if errs != nil {
		t.Fatal(errs)
	}
	counted, errs := shippedLoad(t, true)
	if errs != nil {
		t.Fatal(errs)
	}
	if decoded.testEvs == 0 || counted.testEvs != decoded.testEvs {
		t.Errorf("counted %d test events, decoding counts %d", counted.testEvs, decoded.testEvs)
	}
	// The rules a case expects alerts of depend on the local files too
	// (they can break a shipped rule, which then is not in the set): a
	// case of a checked file that expects one is reported as before.
	var want []string
	for _, checked := range []bool{false, true} {
		shipped := &srcFile{name: "shipped.yaml", dir: ".", testsChecked: checked, data: []byte(`rules:
  - id: S-1
    name: s
    severity: low
    condition: destination.port == 22
    tests:
      - name: both
        events: [{destination.port: 22}]
        expect: [{count: 1}, {rule: S-2, count: 1}]
  - id: S-2
    name: s2
    severity: low
    condition: destination.port == 22 and ssh_ok
`)}
		local := &srcFile{name: "local.yaml", dir: ".", data: []byte("macros:\n  - {name: ssh_ok, condition: '1'}\n")}
		if checked && loadUntested(newLoader(nil), []*srcFile{shipped, local}, nil) != nil {
			t.Error("loaded without the cases that change its outcome")
		}
		_, errs := newLoader(nil).load([]*srcFile{shipped, local})
		var got []string
		for _, e := range errs {
			got = append(got, e.Error())
		}
		if !checked {
			want = got
			continue
		}
		expectLines(t, got, want)
	}
	if !slices.ContainsFunc(want, func(e string) bool {
		return strings.Contains(e, `rule S-1: test "both" expects alerts of unknown rule "S-2"`)
	}) {
		t.Fatalf("the case is not reported: %q", want)
	}
}

// A document that decodes as a whole pairs its entries with their nodes
// as decoding them one by one does.
func TestTakeSectionsAsDecoded(t *testing.T) {
	l := newLoader(nil)
	docs := 0
	for _, f := range l.fsFiles(rulesets.FS, rulesets.Dirs, "rulesets/") {
		var root yaml.Node
		if err := yaml.Unmarshal(f.data, &root); err != nil {
			t.Fatal(err)
		}
		doc := root.Content[0]
		var taken, decoded parsed
		if err := doc.Decode(&taken.doc); err != nil {
			t.Fatal(err)
		}
		taken.takeSections(doc)
		decoded.decodeSections(doc)
		if !reflect.DeepEqual(taken, decoded) {
			t.Errorf("%s: taken and decoded entries differ", f.name)
		}
		docs++
	}
	if docs == 0 {
		t.Fatal("no shipped files")
	}
}

// A rule's OR branches are compiled at its first alert, not at the load,
// and name the same alternatives when several evaluators alert at once.
func TestBranchesCompiledAtFirstAlert(t *testing.T) {
	set := mustLoad(t, `
rules:
  - id: X-DNS
    name: odd name
    condition: event.dataset == "packetsleuth.dns" and (dns.question.name endsWith ".onion" or dns.question.name matches "ev[i]l" or dns.question.type == "NULL")
    severity: high
  - id: X-QUIET
    name: never alerts
    condition: dns.question.name == "a" or dns.question.name == "b"
    severity: low
`)
	for _, r := range set.Rules() {
		if r.branches == nil || r.branches.list != nil || r.branches.lists == nil {
			t.Fatalf("%s: branches compiled at the load", r.ID)
		}
	}
	dns := flowEvent("10.0.0.1", "192.0.2.53", 53)
	dns.Event.Dataset = schemas.DatasetDNS
	dns.DNS.Question.Name = "evil.example"
	dns.DNS.Question.Type = "NULL"
	got := make([][]string, 4)
	var wg sync.WaitGroup
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, a := range collect(NewEvaluator(set, EvalOptions{}), dns) {
				got[i] = a.Sensor.Alert.Matched
			}
		}()
	}
	wg.Wait()
	for i, m := range got {
		if len(m) != 2 || !strings.Contains(m[0], `matches "ev[i]l"`) || !strings.Contains(m[1], `"NULL"`) {
			t.Errorf("evaluator %d: matched %q", i, m)
		}
	}
	if q := set.Rule("X-QUIET").branches; q.list != nil || q.lists == nil {
		t.Error("a rule that did not alert compiled its branches")
	}
}

// cutTests leaves each shipped file's document as it was less its rules'
// tests: (same nodes, lines and columns), and the shipped cases' events
// are fewer than half the bound on test events, so that local files below
// the other half cannot reach it with them: what loadUntested takes for
// granted.
func TestShippedTestsCut(t *testing.T) {
	l := newLoader(nil)
	for _, f := range l.fsFiles(rulesets.FS, rulesets.Dirs, "rulesets/") {
		fullDec, cutDec := yaml.NewDecoder(bytes.NewReader(f.data)), yaml.NewDecoder(bytes.NewReader(cutTests(f.data)))
		for doc := 0; ; doc++ { // every document: the loader reads them all
			var full, cut yaml.Node
			errFull, errCut := fullDec.Decode(&full), cutDec.Decode(&cut)
			if errors.Is(errFull, io.EOF) && errors.Is(errCut, io.EOF) {
				break
			}
			if errFull != nil || errCut != nil {
				t.Fatalf("%s, document %d: %v, cut: %v", f.name, doc+1, errFull, errCut)
			}
			if rules := valueNode(full.Content[0], "rules"); rules != nil {
				for _, r := range rules.Content {
					for i := 0; i+1 < len(r.Content); i += 2 {
						if r.Content[i].Value == "tests" {
							r.Content = slices.Delete(r.Content, i, i+2)
							break
						}
					}
				}
			}
			if d := nodeDiff(&full, &cut); d != "" {
				t.Errorf("%s, document %d: %s", f.name, doc+1, d)
			}
		}
		if bytes.Count(f.data, []byte("\n")) != bytes.Count(cutTests(f.data), []byte("\n")) {
			t.Errorf("%s: lines differ", f.name)
		}
	}
	decoded, errs := shippedLoad(t, false)
	if errs != nil {
		t.Fatal(errs)
	}
	if decoded.testEvs > maxLoadTestEvent/2 {
		t.Errorf("the shipped cases have %d events, more than half of %d", decoded.testEvs, maxLoadTestEvent)
	}
}

// nodeDiff describes the first difference of two node trees, comments
// aside ("" if none).
func nodeDiff(a, b *yaml.Node) string {
	if a.Kind != b.Kind || a.Style != b.Style || a.Tag != b.Tag || a.Value != b.Value || a.Anchor != b.Anchor ||
		a.Line != b.Line || a.Column != b.Column || len(a.Content) != len(b.Content) {
		return fmt.Sprintf("line %d:%d %q differs from line %d:%d %q", a.Line, a.Column, a.Value, b.Line, b.Column, b.Value)
	}
	for i := range a.Content {
		if d := nodeDiff(a.Content[i], b.Content[i]); d != "" {
			return d
		}
	}
	return ""
}

// Where the shipped cases could change a load's outcome, it is the one
// of a load that reads them: the same errors, in the same order.
func TestSkipShippedTestsSameErrors(t *testing.T) {
	decoded, errs := shippedLoad(t, false)
	if errs != nil {
		t.Fatal(errs)
	}
	// Local test events that reach the bound only with the shipped ones.
	var bound strings.Builder
	bound.WriteString("rules:\n  - id: LOCAL-B\n    name: b\n    severity: low\n    condition: destination.port == 22\n    tests:\n")
	for left, i := maxLoadTestEvent-decoded.testEvs+1, 0; left > 0; i++ {
		n := min(left, maxCaseEvents)
		fmt.Fprintf(&bound, "      - {name: c%d, expect_none: true, events: [{destination.port: 1, _repeat: %d}]}\n", i, n)
		left -= n
	}
	for name, src := range map[string]string{
		"breaks shipped rules": "lists:\n  - {name: large_transfer_allowed_destinations, type: port, items: [1]}\n",
		"bad local test":       "rules:\n  - {id: L-1, name: l, severity: low, condition: 'destination.port == 22', tests: [{name: t, expect_none: true, events: [{destination.prot: 1}]}]}\n",
		"bound":                bound.String(),
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "local.yaml"), []byte(src), 0o644)
		_, want := LoadFiles(Options{Defaults: true}, dir)
		_, got := LoadFiles(Options{Defaults: true, SkipShippedTests: true}, dir)
		if len(want) == 0 {
			t.Fatalf("%s: no error", name)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s:\n got %v\nwant %v", name, got, want)
		}
	}
}
