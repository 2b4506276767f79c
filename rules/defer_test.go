package rules

import (
	"cmp"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"
	"unsafe"

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

// A deferred match that its suppression holds back costs a fraction of an
// event, not a whole alert: a flood of matches of a suppressed rule (a
// rogue DHCP server's every OFFER) with several workers would otherwise
// allocate about 8 KB a match. The one alert that goes out is whole.
func TestDeferredSuppressedMatchesRecycleTheirAlerts(t *testing.T) {
	set := mustLoad(t, `rules:
  - id: S-1
    name: to a watched host
    condition: event.dataset == "packetsleuth.flow" and destination.ip startsWith "192.0.2."
    suppress: {by: [source.ip], for: 1h}
    output: "%source.ip reached %destination.ip"
    severity: medium
`)
	shared := NewSharedState(set, EvalOptions{})
	worker, maker := NewEvaluator(set, EvalOptions{Shared: shared}), NewEvaluator(set, EvalOptions{Shared: shared})
	var alerts []*schemas.Event
	worker.Defer(func(u any) { maker.Apply(u, func(a *schemas.Event) { alerts = append(alerts, a) }) })
	const n = 2000
	events := make([]schemas.Event, n)
	for i := range events {
		events[i] = flowAt(time.Duration(i)*time.Millisecond, "10.0.0.1", "192.0.2.7")
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range events {
		worker.Eval(&events[i], func(a *schemas.Event) { alerts = append(alerts, a) })
	}
	runtime.ReadMemStats(&after)
	if len(alerts) != 1 || alerts[0].Message != "10.0.0.1 reached 192.0.2.7" || alerts[0].Source.IP != "10.0.0.1" {
		t.Fatalf("%d alerts, want 1 whole one: %+v", len(alerts), alerts)
	}
	perMatch := (after.TotalAlloc - before.TotalAlloc) / n
	t.Logf("%d bytes allocated a suppressed match", perMatch)
	// Half an event: the race detector makes sync.Pool drop a quarter of
	// what it is given.
	if limit := uint64(unsafe.Sizeof(schemas.Event{})) / 2; perMatch > limit {
		t.Errorf("%d bytes allocated a suppressed match, want at most %d (half an event)", perMatch, limit)
	}
}

// A use made by Apply is recycled with its key buffer: a flood of matches
// of threshold rules on several workers (a SYN flood: four uses a flow)
// allocated a use and a copy of its keys a match. Measured on matches
// that count without firing, each use made as soon as it is handed over.
func TestAppliedUsesAreRecycled(t *testing.T) {
	set := mustLoad(t, `rules:
  - id: T-1
    name: ports
    condition: event.dataset == "packetsleuth.flow"
    threshold: {type: distinct, field: destination.port, group_by: [source.ip, destination.ip], window: 60s, gte: 50000}
    severity: low
`)
	shared := NewSharedState(set, EvalOptions{})
	worker, maker := NewEvaluator(set, EvalOptions{Shared: shared}), NewEvaluator(set, EvalOptions{Shared: shared})
	made := 0
	worker.Defer(func(u any) {
		made++
		maker.Apply(u, func(a *schemas.Event) { t.Errorf("alert %s", a.Rule.ID) })
	})
	ev := flowAt(0, "10.0.0.1", "192.0.2.7")
	ev.Destination.Port = 80 // one distinct value: the group holds it inline
	emit := func(*schemas.Event) {}
	allocs := testing.AllocsPerRun(2000, func() { worker.Eval(&ev, emit) })
	if made < 2000 {
		t.Fatalf("%d uses made", made)
	}
	// 2 without the recycling; the race detector makes sync.Pool drop a
	// quarter of what it is given (0.5).
	if allocs >= 1 {
		t.Errorf("%.2f allocations a deferred match, want below 1", allocs)
	}
}

// What a deferred use says it holds (Bytes: the pipeline charges it to
// the memory budget while the use waits) is at least what it holds, and
// not far more: the heap many uses keep, measured after a collection, of
// a threshold rule (keys only) and of a suppressed one (an alert each).
func TestDeferredUseBytes(t *testing.T) {
	for _, tc := range []struct{ name, rule string }{
		{"threshold", `    threshold: {type: distinct, field: destination.port, group_by: [source.ip, destination.ip], window: 60s, gte: 25}
    suppress: {by: [source.ip, destination.ip], for: 10m}
`},
		{"alert", `    suppress: {by: [source.ip], for: 10m}
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := mustLoad(t, `rules:
  - id: T-1
    name: flows
    condition: event.dataset == "packetsleuth.flow"
    severity: low
`+tc.rule)
			const n = 20000
			events := make([]schemas.Event, n)
			for i := range events {
				events[i] = flowAt(time.Duration(i)*time.Millisecond, "10.0."+strconv.Itoa(i>>8&255)+"."+strconv.Itoa(i&255), "192.0.2.1")
				events[i].Destination.Port = 1 + i%1000
			}
			e := NewEvaluator(set, EvalOptions{Shared: NewSharedState(set, EvalOptions{})})
			uses := make([]any, 0, n)
			e.Defer(func(u any) { uses = append(uses, u) })
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for i := range events {
				e.Eval(&events[i], func(*schemas.Event) { t.Fatal("an alert made at once") })
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			runtime.KeepAlive(events)
			held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
			var said int64
			for _, u := range uses {
				said += u.(interface{ Bytes() int64 }).Bytes()
			}
			if len(uses) != n || said < held || said > 2*held {
				t.Errorf("%d uses say they hold %d bytes; they hold %d", len(uses), said, held)
			}
			t.Logf("%d bytes a use said, %d held", said/n, held/n)
		})
	}
}
