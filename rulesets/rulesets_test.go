package rulesets_test

import (
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/rules"
	"github.com/packetsleuth/packetsleuth/schemas"
)

func loadDefault(t testing.TB) *rules.Set {
	t.Helper()
	set, errs := rules.LoadDefault()
	for _, err := range errs {
		t.Error(err)
	}
	if set == nil {
		t.Fatal("shipped rulesets do not load")
	}
	return set
}

// TestShippedRules runs every test case of every shipped rule, the same
// cases `sensor rules test` runs.
func TestShippedRules(t *testing.T) {
	set := loadDefault(t)
	for _, r := range set.Rules() {
		for i := range r.Tests {
			tc := &r.Tests[i]
			t.Run(r.ID+"/"+tc.Name, func(t *testing.T) {
				if strings.Contains(tc.Pcap, "shared/") {
					// users run these cases with `sensor rules test`, where
					// ../shared does not exist: use testdata/pcaps or events
					t.Fatalf("%s:%d: a shipped rule's pcap case uses the shared captures: %s", tc.File, tc.Line, tc.Pcap)
				}
				res := rules.RunCase(set, r, tc, nil)
				if res.Skipped {
					t.Skip(strings.Join(res.Msgs, "; "))
				}
				if res.Failed {
					t.Errorf("%s:%d: %s", tc.File, tc.Line, strings.Join(res.Msgs, "; "))
				}
			})
		}
	}
}

// TestEveryRuleHasPositiveAndNegativeCases checks the ruleset policy: a
// positive and a negative test, a false-positive note, a description and
// ATT&CK or tag metadata on every rule.
func TestEveryRuleHasPositiveAndNegativeCases(t *testing.T) {
	set := loadDefault(t)
	if len(set.Rules()) < 15 {
		t.Errorf("only %d shipped rules", len(set.Rules()))
	}
	for _, r := range set.Rules() {
		var pos, neg bool
		for _, tc := range r.Tests {
			if tc.ExpectNone {
				neg = true
			}
			own := false
			for _, x := range tc.Expect {
				if x.Rule == r.ID && x.Count > 0 {
					pos, own = true, true
				}
			}
			if !tc.ExpectNone && !own {
				neg = true
			}
		}
		if !pos || !neg {
			t.Errorf("%s: positive case %v, negative case %v", r.ID, pos, neg)
		}
		if r.FalsePositives == "" || r.Description == "" || len(r.Tags) == 0 {
			t.Errorf("%s: missing false_positives, description or tags", r.ID)
		}
		if r.Ruleset == "experimental" && r.Enabled {
			t.Errorf("%s: experimental rules ship disabled", r.ID)
		}
	}
}

// TestBenignTrafficRaisesNothing feeds plain everyday events through every
// enabled shipped rule.
func TestBenignTrafficRaisesNothing(t *testing.T) {
	set := loadDefault(t)
	ev := rules.NewEvaluator(set, rules.EvalOptions{})
	var alerts []*schemas.Event
	for _, e := range benignEvents() {
		ev.Eval(&e, func(a *schemas.Event) { alerts = append(alerts, a) })
	}
	for _, a := range alerts {
		t.Errorf("benign traffic raised %s (%s)", a.Rule.ID, a.Rule.Name)
	}
	if st := ev.Stats(); st.Evaluations == 0 || st.Errors != 0 {
		t.Errorf("stats %+v", st)
	}
}
