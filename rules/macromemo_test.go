package rules

import (
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/expr-lang/expr/ast"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// probeCalls counts the calls of probe, a helper the tests below bind
// (as the expander binds every helper) to see how often a macro's body runs.
var probeCalls atomic.Int64

func probe(s string) bool {
	probeCalls.Add(1)
	return s != ""
}

func init() { helperFuncs["probe"] = probe }

// A macro tested by several rules of one event runs once for the event,
// and again for the next event, even when that is the same Event reused.
func TestMacroRunsOncePerEvent(t *testing.T) {
	set, errs := Load(fstest.MapFS{"r.yaml": {Data: []byte(`macros:
  - {name: probed, condition: 'probe(source.ip)'}
  - {name: probed_tcp, condition: 'network.transport == "tcp" and probed'}
rules:
  - {id: M-1, name: m, severity: low, condition: 'probed_tcp and destination.port == 1'}
  - {id: M-2, name: m, severity: low, condition: 'probed and destination.port == 2'}
  - {id: M-3, name: m, severity: low, condition: 'event.dataset == "packetsleuth.flow" and probed_tcp'}
  - {id: M-4, name: m, severity: low, condition: 'not probed'}
`)}}, "r.yaml")
	if errs != nil {
		t.Fatal(errs)
	}
	for _, r := range set.Rules() {
		if r.native == nil {
			t.Fatalf("%s runs on the VM: the test is about conditions compiled to Go", r.ID)
		}
	}
	e := NewEvaluator(set, EvalOptions{})
	var ev schemas.Event
	ev.Event.Dataset, ev.Network.Transport, ev.Destination.Port = schemas.DatasetFlow, "tcp", 2
	for i, tc := range []struct {
		src  string
		want []string
	}{
		{"10.0.0.1", []string{"M-2", "M-3"}},
		{"", []string{"M-4"}},
		{"10.0.0.2", []string{"M-2", "M-3"}},
	} {
		ev.Source.IP = tc.src
		var fired []string
		before := probeCalls.Load()
		e.Eval(&ev, func(a *schemas.Event) { fired = append(fired, a.Rule.ID) })
		if n := probeCalls.Load() - before; n != 1 {
			t.Errorf("event %d: the macro's body ran %d times, want 1", i, n)
		}
		if !slices.Equal(fired, tc.want) {
			t.Errorf("event %d (source.ip %q): fired %v, want %v", i, tc.src, fired, tc.want)
		}
	}
}

// With the memo, every shipped rule's condition still gives the VM's
// answer: the conditions of each event run in the Evaluator's order on one
// natEnv (its memo filled by the first that tests a macro), on one Event
// changed in place from event to event.
func TestMacroMemoAgreesWithVM(t *testing.T) {
	set, corpus := shippedTestEvents(t)
	lits := &literalCollector{}
	var names []string
	var native []*Rule
	for _, r := range set.Rules() {
		if r.native == nil {
			continue
		}
		native = append(native, r)
		n := r.program.Node()
		ast.Walk(&n, lits)
		for _, f := range fieldsRead(n) {
			if !slices.Contains(names, f) {
				names = append(names, f)
			}
		}
	}
	memoized := 0
	for _, m := range set.Macros() {
		if m.memo > 0 {
			memoized++
		}
	}
	if memoized != len(set.Macros()) {
		t.Fatalf("%d of %d shipped macros have a memo slot", memoized, len(set.Macros()))
	}
	env := natEnv{memo: make([]macroMemo, len(set.macros)+1)}
	rng := rand.New(rand.NewPCG(5, 6))
	var ev schemas.Event
	env.ev = &ev
	var agreed agreement
	for i := range 20 * len(corpus) {
		ev = corpus[i%len(corpus)]
		if i >= len(corpus) {
			mutate(rng, &ev, names, lits)
		}
		env.newEvent()
		for _, r := range native {
			if len(r.Datasets) == 1 && r.Datasets[0] != ev.Event.Dataset {
				continue // compiled pinned: Eval runs it on its dataset's events only
			}
			agreed.check(t, r.ID, r.program, r.native, &env)
		}
	}
	agreed.report(t)
}

// A macro whose root a patcher replaces (`s in list` made a call, a
// `matches` made a matcher's call) is kept per event as any other.
func TestPatchedMacroKeptPerEvent(t *testing.T) {
	set := mustLoad(t, `macros:
  - {name: final, condition: '"end" in event.type'}
  - {name: web, condition: 'network.transport in ["tcp", "udp"]'}
  - {name: named, condition: 'dns.question.name matches "^www[.]"'}
rules:
  - {id: M-1, name: m, severity: low, condition: 'final and web and named and destination.port == 1'}
  - {id: M-2, name: m, severity: low, condition: 'final and web and named and destination.port == 2'}
`)
	e := NewEvaluator(set, EvalOptions{})
	ev := flowEvent("10.0.0.1", "10.0.0.2", 2)
	ev.Event.Type = []string{"connection", "end"}
	ev.DNS.Question.Name = "www.example.com"
	var fired []string
	e.Eval(&ev, func(a *schemas.Event) { fired = append(fired, a.Rule.ID) })
	if !slices.Equal(fired, []string{"M-2"}) {
		t.Errorf("fired %v, want [M-2]", fired)
	}
	for _, name := range []string{"final", "web", "named"} {
		if m := set.macros[name]; e.nat.memo[m.memo].gen != e.nat.gen {
			t.Errorf("macro %s: not kept for the event", name)
		}
	}
}
