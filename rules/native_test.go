package rules

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// vmHolds is the VM's answer for a condition (an error is false, as
// Evaluator.holds takes it).
func vmHolds(t *testing.T, p *vm.Program, ev *schemas.Event) bool {
	t.Helper()
	out, err := vm.Run(p, *ev)
	if err != nil {
		return false
	}
	b, _ := out.(bool)
	return b
}

// literalsOf collects the string and number literals of a condition: the
// values that put its comparisons on their edges.
type literalCollector struct {
	strs []string
	nums []int64
}

func (c *literalCollector) Visit(n *ast.Node) {
	switch n := (*n).(type) {
	case *ast.StringNode:
		c.strs = append(c.strs, n.Value)
	case *ast.IntegerNode:
		c.nums = append(c.nums, int64(n.Value))
	case *ast.FloatNode:
		c.nums = append(c.nums, int64(n.Value))
	case *ast.ConstantNode:
		switch v := n.Value.(type) {
		case map[string]struct{}:
			for k := range v {
				c.strs = append(c.strs, k)
			}
		case map[int]struct{}:
			for k := range v {
				c.nums = append(c.nums, int64(k))
			}
		}
	}
}

// mutate sets each field a condition reads to a value near its literals:
// the literal itself, another case, a prefix or suffix, ±1, zero, empty.
func mutate(rng *rand.Rand, ev *schemas.Event, names []string, lits *literalCollector) {
	strs := append([]string{"", "10.0.0.1", "203.0.113.9", "end", "x"}, lits.strs...)
	nums := append([]int64{0, 1, -1, math.MaxInt32}, lits.nums...)
	for _, name := range names {
		f, ok := ecsFields()[name]
		if !ok || rng.IntN(4) == 0 {
			continue
		}
		v := reflect.ValueOf(ev).Elem().FieldByIndex(f.index)
		switch v.Kind() {
		case reflect.String:
			s := strs[rng.IntN(len(strs))]
			switch rng.IntN(5) {
			case 0:
				s = strings.ToUpper(s)
			case 1:
				s = "a." + s
			case 2:
				s += "."
			}
			v.SetString(s)
		case reflect.Bool:
			v.SetBool(rng.IntN(2) == 0)
		case reflect.Int, reflect.Int64, reflect.Int32:
			v.SetInt(nums[rng.IntN(len(nums))] + int64(rng.IntN(3)-1))
		case reflect.Uint8, reflect.Uint16, reflect.Uint32:
			n := nums[rng.IntN(len(nums))] + int64(rng.IntN(3)-1)
			if n >= 0 && !v.OverflowUint(uint64(n)) {
				v.SetUint(uint64(n))
			}
		case reflect.Float64:
			v.SetFloat(float64(nums[rng.IntN(len(nums))]) + rng.Float64()*2 - 1)
		case reflect.Slice:
			if v.Type().Elem().Kind() == reflect.String {
				v.Set(reflect.ValueOf(strs[:rng.IntN(len(strs))]))
			}
		case reflect.Struct:
			if v.Type() == timeType && rng.IntN(2) == 0 {
				v.Set(reflect.ValueOf(time.Time{}))
			}
		}
	}
}

// Every shipped rule compiled to Go gives the VM's answer on the events of
// every rule's test cases and on 300 mutations of each, aimed at the
// fields the rule reads and the edges of its literals.
func TestNativeAgreesWithVM(t *testing.T) {
	set, corpus := shippedTestEvents(t)
	if len(corpus) < 100 {
		t.Fatalf("only %d test events in the shipped rules", len(corpus))
	}
	type cond struct {
		id      string
		program *vm.Program
		native  func(*natEnv) bool
		pinned  string // the one dataset whose events alone the rule sees
	}
	var conds []cond
	native, total := 0, 0
	for _, r := range set.Rules() {
		if r.program != nil {
			total++
			if r.native != nil {
				native++
				c := cond{id: r.ID, program: r.program, native: r.native}
				if len(r.Datasets) == 1 {
					c.pinned = r.Datasets[0]
				}
				conds = append(conds, c)
			}
		}
		if r.Sequence != nil {
			for _, st := range r.Sequence.Steps {
				if st.native != nil {
					c := cond{id: r.ID + "/" + st.Name, program: st.program, native: st.native}
					if len(st.datasets) == 1 { // judged on events of its dataset only (stepsOf)
						c.pinned = st.datasets[0]
					}
					conds = append(conds, c)
				}
			}
		}
	}
	t.Logf("%d of %d shipped rule conditions run as Go", native, total)
	onVM := map[string]string{ // and why
		"PS-KRB-002":  "compares a list with a list literal",
		"PS-SMTP-003": "a predicate over email.attachments",
	}
	for _, r := range set.Rules() {
		if r.program != nil && (r.native == nil) != (onVM[r.ID] != "") {
			t.Errorf("%s: runs as Go: %v, expected %v (extend native.go, or list it here with the reason)", r.ID, r.native != nil, onVM[r.ID] == "")
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var agreed agreement
	for _, c := range conds {
		var env natEnv // kept across the events, as an Evaluator keeps it
		lits := &literalCollector{}
		n := c.program.Node()
		ast.Walk(&n, lits)
		names := fieldsRead(c.program.Node())
		for i := range 300 + len(corpus) {
			ev := corpus[i%len(corpus)]
			if i >= len(corpus) {
				mutate(rng, &ev, names, lits)
			}
			if c.pinned != "" {
				ev.Event.Dataset = c.pinned
			}
			env.ev = &ev
			agreed.check(t, c.id, c.program, c.native, &env)
		}
	}
	agreed.report(t)
}

// shippedTestEvents loads the shipped rules and returns them with the
// events of all their test cases.
func shippedTestEvents(t *testing.T) (*Set, []schemas.Event) {
	set, errs := LoadDefault()
	if errs != nil {
		t.Fatal(errs)
	}
	var evs []schemas.Event
	for _, r := range set.Rules() {
		for _, tc := range r.Tests {
			evs = append(evs, tc.Events()...)
		}
	}
	return set, evs
}

// agreement counts the comparisons of Go conditions with the VM.
type agreement struct{ checked, held int }

// check fails t unless native gives the VM's answer (p's) on env's event.
func (a *agreement) check(t *testing.T, id string, p *vm.Program, native func(*natEnv) bool, env *natEnv) {
	t.Helper()
	want := vmHolds(t, p, env.ev)
	if got := native(env); got != want {
		t.Fatalf("%s: Go says %v, the VM %v, on %+v", id, got, want, *env.ev)
	}
	a.checked++
	if want {
		a.held++
	}
}

func (a *agreement) report(t *testing.T) {
	t.Helper()
	t.Logf("%d evaluations compared, %d true", a.checked, a.held)
	if a.held == 0 {
		t.Error("no condition held on any event: the comparison proves little")
	}
}

// Each operator of the native subset, on both sides of its edge, and the
// forms it must leave to the VM.
func TestNativeOperators(t *testing.T) {
	const lists = `
lists:
  - {name: ports, type: port, items: [22, 3389]}
  - {name: nets, type: ip, items: ["10.0.0.0/8"]}
  - {name: words, items: [alpha, beta]}
rules:
`
	cases := []struct {
		cond   string
		native bool
	}{
		{`network.transport == "tcp" and destination.port in [22, 23]`, true},
		{`destination.port in ports or source.port not in [80]`, true},
		{`source.bytes >= 10 * destination.bytes and source.bytes - 1 > 0`, true},
		{`source.bytes / 3 > 2.5 or -source.bytes < -7`, true},
		{`"end" in event.type and not (network.transport != "udp")`, true},
		{`url.original contains "/admin" or url.original startsWith "/x" or url.original endsWith ".php"`, true},
		{`url.original matches "^a\\.[0-9.]+$" or url.original matches "(?i)^X"`, true},
		{`len(dns.question.name) > 3 and len(event.type) == 2 or lower(dns.question.name) == "x"`, true},
		{`in_list("nets", source.ip) and in_list("words", dns.question.name) or is_private(destination.ip)`, true},
		{`entropy(dns.question.name) > 2.5 or label_count(dns.question.name) >= 2`, true},
		{`event.dataset in ["packetsleuth.flow", "packetsleuth.dns"] and dns.question.name < "m"`, true},
		{`any(threat.enrichments, .indicator.type == "ipv4-addr")`, false},
		{`source.bytes % 2 == 0`, false},
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i, c := range cases {
		src := lists + "  - {id: R" + string(rune('A'+i)) + ", name: r, severity: low, condition: '" + strings.ReplaceAll(c.cond, "'", "''") + "'}\n"
		set, errs := Load(fstest.MapFS{"r.yaml": {Data: []byte(src)}}, "r.yaml")
		if errs != nil {
			t.Fatalf("%s: %v", c.cond, errs)
		}
		r := set.Rules()[0]
		if (r.native != nil) != c.native {
			t.Errorf("%s: native %v, want %v", c.cond, r.native != nil, c.native)
			continue
		}
		if r.native == nil {
			continue
		}
		lits := &literalCollector{}
		n := r.program.Node()
		ast.Walk(&n, lits)
		names := fieldsRead(r.program.Node())
		held := 0
		for range 3000 {
			var ev schemas.Event
			ev.Event.Dataset = schemas.DatasetFlow
			mutate(rng, &ev, names, lits)
			want := vmHolds(t, r.program, &ev)
			if got := r.native(&natEnv{ev: &ev}); got != want {
				t.Fatalf("%s: Go says %v, the VM %v, on %+v", c.cond, got, want, ev)
			}
			if want {
				held++
			}
		}
		if held == 0 {
			t.Errorf("%s: never held in 3000 events", c.cond)
		}
	}
}

// A rule pinned to one dataset runs on that dataset's events only, so
// its compiled condition leaves the `event.dataset ==` terms out; one
// pinned to several keeps them.
func TestPinnedConditionLeavesOutItsDataset(t *testing.T) {
	set, errs := Load(fstest.MapFS{"r.yaml": {Data: []byte(`rules:
  - {id: P-1, name: p, severity: low, condition: 'event.dataset == "packetsleuth.dns" and dns.question.name == "x.example"'}
  - {id: P-2, name: p, severity: low, condition: 'dns.question.name == "x.example" and "packetsleuth.dns" == event.dataset'}
  - {id: P-3, name: p, severity: low,
     condition: 'event.dataset in ["packetsleuth.dns", "packetsleuth.flow"] and dns.question.name == "x.example"'}
`)}}, "r.yaml")
	if errs != nil {
		t.Fatal(errs)
	}
	http := schemas.Event{Event: schemas.EventMeta{Dataset: "packetsleuth.http", Kind: "event"}}
	http.DNS.Question.Name = "x.example"
	for id, want := range map[string]bool{"P-1": true, "P-2": true, "P-3": false} {
		if got := set.Rule(id).native(&natEnv{ev: &http}); got != want {
			t.Errorf("%s on an http event: %v, want %v", id, got, want)
		}
	}
	flow := http
	flow.Event.Dataset = "packetsleuth.flow"
	dnsEv := flow
	dnsEv.Event.Dataset = "packetsleuth.dns"
	var fired []string
	e := NewEvaluator(set, EvalOptions{})
	for _, ev := range []schemas.Event{flow, dnsEv} {
		e.Eval(&ev, func(a *schemas.Event) { fired = append(fired, a.Rule.ID+" "+ev.Event.Dataset) })
	}
	slices.Sort(fired)
	expectLines(t, fired, []string{"P-1 packetsleuth.dns", "P-2 packetsleuth.dns", "P-3 packetsleuth.dns", "P-3 packetsleuth.flow"})
}

// An `and` chain compiles to one closure over its terms, left to right; a
// macro in it stays one term, kept per event (memoMacro).
func TestAndChainFlat(t *testing.T) {
	set := mustLoad(t, `macros:
  - {name: web, condition: 'network.transport == "tcp" and destination.port == 80'}
rules:
  - {id: A-1, name: a, severity: low, condition: 'event.dataset == "packetsleuth.flow" and source.port > 1 and web and destination.ip != "x" and source.ip != "y"'}
`)
	r := set.Rule("A-1")
	c := compileCondition(r.Condition, set.lists, set.macros, nil, "")
	v, ok := c.nat.natPinned(c.program.Node(), schemas.DatasetFlow)
	if !ok || len(v.terms) != 4 {
		t.Fatalf("pinned chain: %d terms, want 4 (the dataset left out, the macro one)", len(v.terms))
	}
	e := NewEvaluator(set, EvalOptions{})
	ev := flowEvent("10.0.0.1", "10.0.0.2", 80)
	if got := collect(e, ev); len(got) != 1 {
		t.Errorf("%d alerts, want 1", len(got))
	}
	if m := set.macros["web"]; e.nat.memo[m.memo].gen != e.nat.gen || !e.nat.memo[m.memo].val {
		t.Error("the macro in the chain was not kept for the event")
	}
	ev.Destination.Port = 81
	if got := collect(e, ev); len(got) != 0 {
		t.Errorf("%d alerts on port 81, want 0", len(got))
	}
}
