package rules

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// ReplayFunc turns a capture into events (the sensor's replay, injected so
// that rules does not import the sensor).
type ReplayFunc func(path string) ([]schemas.Event, error)

// CaseResult is the outcome of one rule test case.
type CaseResult struct {
	Rule    string
	Case    string
	File    string
	Line    int
	Skipped bool
	Failed  bool
	Msgs    []string
}

// RunCase runs one test case of rule r on a fresh Evaluator (all rules of
// the set, disabled ones included, one worker) and checks the alerts: each
// expected rule must raise exactly its count; the rule under test must
// raise none unless it is expected. expect_none checks the rule under test
// only.
func RunCase(set *Set, r *Rule, tc *TestCase, replay ReplayFunc) CaseResult {
	res := CaseResult{Rule: r.ID, Case: tc.Name, File: tc.File, Line: tc.Line}
	events := tc.Events
	if tc.Pcap != "" {
		if replay == nil {
			res.Skipped = true
			res.Msgs = append(res.Msgs, "pcap case and no replay function")
			return res
		}
		evs, err := replay(tc.Pcap)
		if err != nil {
			res.Failed = true
			res.Msgs = append(res.Msgs, fmt.Sprintf("replay %s: %v", tc.Pcap, err))
			return res
		}
		events = evs
	}
	ev := NewEvaluator(set, EvalOptions{IncludeDisabled: true})
	got := map[string]int{}
	for i := range events {
		ev.Eval(&events[i], func(a *schemas.Event) { got[a.Rule.ID]++ })
	}
	want := map[string]int{}
	for _, x := range tc.Expect {
		want[x.Rule] += x.Count
	}
	if _, ok := want[r.ID]; !ok {
		want[r.ID] = 0
	}
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if got[id] != want[id] {
			res.Failed = true
			res.Msgs = append(res.Msgs, fmt.Sprintf("expected %d %s of %s, got %d", want[id], plural(want[id], "alert"), id, got[id]))
		}
	}
	return res
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}

// RunTests runs every test case of every rule of set (disabled rules
// included) and prints the results the way `go test -v` does:
//
//	--- PASS: PS-NET-001/syn-flood
//	--- FAIL: PS-NET-001/below-threshold (stable/network.yaml:57)
//	    expected 0 alerts of PS-NET-001, got 1
//	--- SKIP: PS-X/capture (stable/x.yaml:12)
//	    pcap case and no replay function
//	41 passed, 1 failed, 1 skipped
//
// pcap cases use replay; with a nil replay they are skipped.
func RunTests(set *Set, replay ReplayFunc, w io.Writer) (passed, failed, skipped int) {
	for _, r := range set.Rules() {
		for i := range r.Tests {
			res := RunCase(set, r, &r.Tests[i], replay)
			switch {
			case res.Skipped:
				skipped++
				fmt.Fprintf(w, "--- SKIP: %s/%s (%s:%d)\n", res.Rule, res.Case, res.File, res.Line)
			case res.Failed:
				failed++
				fmt.Fprintf(w, "--- FAIL: %s/%s (%s:%d)\n", res.Rule, res.Case, res.File, res.Line)
			default:
				passed++
				fmt.Fprintf(w, "--- PASS: %s/%s\n", res.Rule, res.Case)
			}
			for _, m := range res.Msgs {
				fmt.Fprintf(w, "    %s\n", m)
			}
		}
	}
	fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	return passed, failed, skipped
}

// List prints the rules of set as an aligned table: id, severity, name,
// tags (disabled rules are marked).
func List(set *Set, w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tRULESET\tNAME\tTAGS")
	for _, r := range set.Rules() {
		name := r.Name
		if !r.Enabled {
			name += " (disabled)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Severity, r.Ruleset, name, strings.Join(r.Tags, ","))
	}
	tw.Flush()
}
