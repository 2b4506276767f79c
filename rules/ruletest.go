package rules

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// ReplayFunc turns the capture of a pcap case into events, enriched with
// the case's Intel and HomeNet (the sensor's replay, injected so that
// rules does not import the sensor).
type ReplayFunc func(tc *TestCase) ([]schemas.Event, error)

// CaseResult is the outcome of one rule test case.
type CaseResult struct {
	Rule    string
	Case    string
	File    string
	Line    int
	Skipped bool
	Failed  bool
	Msgs    []string
	// Alerts describes the alerts the case raised (of a failed case only,
	// at most maxShownAlerts), so a failure shows what fired instead.
	Alerts []string
}

// maxShownAlerts bounds the alerts a failed case lists.
const maxShownAlerts = 10

// RunCase runs one test case of rule r on a fresh Evaluator (all rules of
// the set, disabled ones included, one worker) and checks the alerts: each
// expected rule must raise exactly its count; the rule under test must
// raise none unless it is expected. expect_none checks the rule under test
// only.
func RunCase(set *Set, r *Rule, tc *TestCase, replay ReplayFunc) CaseResult {
	res := CaseResult{Rule: r.ID, Case: tc.Name, File: tc.File, Line: tc.Line}
	events := tc.Events()
	if tc.Pcap != "" {
		if replay == nil {
			res.Skipped = true
			res.Msgs = append(res.Msgs, "pcap case and no replay function")
			return res
		}
		evs, err := replay(tc)
		if err != nil {
			res.Failed = true
			res.Msgs = append(res.Msgs, fmt.Sprintf("replay %s: %v", tc.Pcap, err))
			return res
		}
		events = evs
	}
	ev := NewEvaluator(set, EvalOptions{IncludeDisabled: true})
	got := map[string]int{}
	var alerts []string
	for i := range events {
		ev.Eval(&events[i], func(a *schemas.Event) {
			got[a.Rule.ID]++
			if len(alerts) <= maxShownAlerts {
				alerts = append(alerts, describeAlert(a))
			}
		})
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
	if res.Failed {
		res.Alerts = alerts
		if len(alerts) > maxShownAlerts {
			total := 0
			for _, n := range got {
				total += n
			}
			res.Alerts = append(alerts[:maxShownAlerts], fmt.Sprintf("... %d more", total-maxShownAlerts))
		}
	}
	return res
}

// describeAlert is one line about an alert: rule, event time, the
// addresses and the name (query, host, SNI) it was about.
func describeAlert(a *schemas.Event) string {
	s := a.Rule.ID + " at " + a.Timestamp.UTC().Format(time.RFC3339Nano)
	if a.Source.IP != "" || a.Destination.IP != "" {
		s += fmt.Sprintf(" %s:%d -> %s:%d", a.Source.IP, a.Source.Port, a.Destination.IP, a.Destination.Port)
	}
	for _, name := range []string{a.DNS.Question.Name, a.URL.Domain, a.TLS.Client.ServerName} {
		if name != "" {
			s += " " + strconv.Quote(name)
			break
		}
	}
	return s
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
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
