package rules

import (
	"fmt"
	"testing"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// `in` on strings gives expr's answers, through the rewritten calls, and
// costs no allocation per event.
func TestStringInRewritten(t *testing.T) {
	flowEnd := flowEvent("10.0.0.1", "192.0.2.1", 80)
	flowEnd.Event.Type = []string{"connection", "end"}
	noType := flowEvent("10.0.0.1", "192.0.2.1", 80)
	cases := []struct {
		cond string
		ev   schemas.Event
		want bool
	}{
		{`"end" in event.type`, flowEnd, true},
		{`"start" in event.type`, flowEnd, false},
		{`"end" not in event.type`, flowEnd, false},
		{`not ("end" in event.type)`, noType, true},
		{`"end" in event.type`, noType, false},
		{`network.transport in ["tcp", "udp"]`, flowEnd, true},
		{`network.transport in ["icmp", "ipv6-icmp"]`, flowEnd, false},
		{`network.transport not in ["icmp"]`, flowEnd, true},
		{`source.ip in related.ip`, func() schemas.Event { e := flowEnd; e.Related.IP = []string{"192.0.2.1", "10.0.0.1"}; return e }(), true},
		{`destination.ip in related.ip`, func() schemas.Event { e := flowEnd; e.Related.IP = []string{"10.0.0.1"}; return e }(), false},
		// The dataset pin stays expr's `in` (the rule index reads it).
		{`event.dataset in ["packetsleuth.flow", "packetsleuth.http"] and destination.port == 1`, flowEnd, false},
		{`event.dataset in ["packetsleuth.flow", "packetsleuth.http"]`, flowEnd, true},
		// Not strings on both sides: expr's own `in`.
		{`destination.port in [80, 443]`, flowEnd, true},
		{`destination.port in [22]`, flowEnd, false},
	}
	for i, c := range cases {
		t.Run(c.cond, func(t *testing.T) {
			set := mustLoad(t, fmt.Sprintf("rules:\n  - id: IN-%d\n    name: in\n    severity: low\n    condition: '%s'\n", i, c.cond))
			ev := NewEvaluator(set, EvalOptions{})
			if got := len(collect(ev, c.ev)) == 1; got != c.want {
				t.Errorf("%s: %v, want %v", c.cond, got, c.want)
			}
			e := c.ev
			if n := testing.AllocsPerRun(100, func() { ev.Eval(&e, func(*schemas.Event) {}) }); !c.want && n != 0 {
				t.Errorf("%s: %v allocations per event", c.cond, n)
			}
		})
	}
}

// memberOf answers as its set does, whether it scans the strings (a short
// list) or looks them up: members, strings of a member's length that are
// not one, the empty string.
func TestMemberOfAgreesWithSet(t *testing.T) {
	for n := 0; n <= maxScanned+3; n++ {
		set := map[string]struct{}{}
		for i := range n {
			set[fmt.Sprintf("s%d", i)] = struct{}{}
		}
		member := memberOf(set)
		for _, s := range []string{"", "s0", "s1", fmt.Sprintf("s%d", n-1), fmt.Sprintf("s%d", n), "S0", "s00", "t0"} {
			if _, want := set[s]; member(s) != want {
				t.Errorf("%d strings: member(%q) = %v, want %v", n, s, !want, want)
			}
		}
	}
}
