package rules

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// Uses of shared state deferred by several Evaluators (Defer) and made in
// event order by another (Apply) give the alerts one Evaluator gives on
// its own: thresholds (counted, distinct, a group value holding 0x1f),
// suppression with its count of the suppressed, a sequence's alert
// suppressed by one host.
func TestDeferredUsesGiveOneEvaluatorsAlerts(t *testing.T) {
	// The shipped-like sequence (seqRule), suppressed by one host, and more.
	set := mustLoad(t, seqRule+`    suppress: {by: [source.ip], for: 1m}
  - id: T-1
    name: busy source
    condition: event.dataset == "packetsleuth.flow"
    threshold: {type: count, group_by: [source.ip], window: 60s, gte: 3}
    suppress: {by: [source.ip], for: 20s}
    output: "%source.ip made %packetsleuth.alert.count flows"
    severity: low
  - id: T-2
    name: ports
    condition: event.dataset == "packetsleuth.flow"
    threshold: {type: distinct, field: destination.port, group_by: [destination.ip, network.transport], window: 60s, gte: 4}
    severity: low
  - id: S-1
    name: to a watched host
    condition: event.dataset == "packetsleuth.flow" and destination.ip startsWith "192.0.2."
    suppress: {by: [destination.ip], for: 15s}
    severity: medium
`)
	var events []schemas.Event
	for i := range 60 {
		at := time.Duration(i) * 1500 * time.Millisecond
		if i%7 == 0 {
			events = append(events, dnsAnswer(at, "10.0.0."+string(rune('1'+i%3)), "x.bad.example", "192.0.2."+string(rune('1'+i%4))))
			continue
		}
		e := flowAt(at, "10.0.0."+string(rune('1'+i%3)), "192.0.2."+string(rune('1'+i%4)))
		e.Destination.Port = 100 + i%9
		e.Network.Transport = "tcp\x1fx"[:3+i%2*2] // a value holding 0x1f, now and then
		events = append(events, e)
	}
	want := encodeSorted(t, collect(NewEvaluator(set, EvalOptions{}), events...))

	shared := NewSharedState(set, EvalOptions{})
	type later struct {
		i   int
		use any
	}
	var uses []later
	var got []*schemas.Event
	workers := []*Evaluator{NewEvaluator(set, EvalOptions{Shared: shared}), NewEvaluator(set, EvalOptions{Shared: shared})}
	at := 0
	for _, w := range workers {
		w.Defer(func(u any) { uses = append(uses, later{at, u}) })
	}
	// Each worker's events, one after the other: their uses come out of
	// event order, as several workers hand them over.
	for k, w := range workers {
		for i := range events {
			if i%2 == k {
				at = i
				w.Eval(&events[i], func(a *schemas.Event) { got = append(got, a) })
			}
		}
	}
	slices.SortStableFunc(uses, func(a, b later) int { return cmp.Compare(a.i, b.i) })
	maker := NewEvaluator(set, EvalOptions{Shared: shared})
	for _, u := range uses {
		maker.Apply(u.use, func(a *schemas.Event) { got = append(got, a) })
	}
	if g := encodeSorted(t, got); !slices.Equal(g, want) {
		t.Fatalf("deferred uses give\n%s\nwant\n%s", g, want)
	}
	if len(want) < 6 {
		t.Fatalf("only %d alerts: the case checks too little", len(want))
	}
	if st := maker.Stats(); st.Alerts == 0 || st.Suppressed == 0 {
		t.Fatalf("the maker counted %d alerts, %d suppressed", st.Alerts, st.Suppressed)
	}
}

func encodeSorted(t *testing.T, alerts []*schemas.Event) []string {
	var out []string
	for _, a := range alerts {
		b, err := schemas.Encode(nil, a)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	slices.Sort(out)
	return out
}
