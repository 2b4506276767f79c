package rules

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/expr-lang/expr/vm"
	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// EvalOptions tune an Evaluator. The zero value is ready to use.
type EvalOptions struct {
	// MaxGroups bounds the live threshold groups of one rule (default
	// 10000). When full, the least recently updated group is evicted and
	// counted in StateStats.EvictedGroups.
	MaxGroups int
	// MaxSuppressKeys bounds the suppression keys of one rule (default
	// 10000), evicted the same way.
	MaxSuppressKeys int
	// MaxStateBytes bounds the memory of one rule's threshold and
	// suppression state (default 64 MiB); beyond it, or when the memory
	// budget (Evaluator.UseBudget) is spent, new groups, keys and distinct
	// values are not tracked and are counted in StateStats.Refused.
	MaxStateBytes int64
	// Shared, when set, holds threshold and suppression state for several
	// workers (see SharedState). Nil: state is private to the Evaluator.
	Shared *SharedState
	// IncludeDisabled evaluates disabled rules too (rule tests do).
	IncludeDisabled bool
	// ProfileRules measures each rule's evaluation time (RuleStats.EvalTime)
	// at the cost of two clock reads per rule and event.
	ProfileRules bool
}

func (o *EvalOptions) defaults() {
	if o.MaxGroups <= 0 {
		o.MaxGroups = 10000
	}
	if o.MaxSuppressKeys <= 0 {
		o.MaxSuppressKeys = 10000
	}
	if o.MaxStateBytes <= 0 {
		o.MaxStateBytes = 64 << 20
	}
}

// Evaluator runs a Set over events. Use ONE per worker: it is not safe for
// concurrent use (it reuses one expr VM, buffers and, without
// EvalOptions.Shared, its own threshold state).
type Evaluator struct {
	set       *Set
	opts      EvalOptions
	vm        vm.VM
	box       any            // a heap schemas.Event boxed once; see NewEvaluator
	env       *schemas.Event // points into box
	boxed     *schemas.Event // the event copied into box in this Eval, if any
	nat       natEnv         // what native conditions read: the event, its addresses parsed
	inNative  bool           // a rule's native condition runs (runRules)
	byDataset map[string]dsRules
	unpinned  dsRules
	local     *stateShard
	acct      *budget.Account
	key, val  []byte
	seqKeys   [][]byte
	timed     []*Rule // absence and lt/lte rules: judged as event time passes
	clock     int64   // newest event time seen (Unix ns)
	checked   int64   // event time of the last look for silences
	events    uint64
	skipped   uint64
	rstats    []RuleStats
	later     func(use any) // set by Defer
	// acts are the rules of the event whose conditions held, acted on in
	// order once every condition is judged (runRules); keys holds the
	// threshold group keys made early (prepare), one after the other.
	acts []act
	keys []byte
	// keyOf[r.index] is the first rule of the set whose threshold groups
	// by the same fields as r's (or r), and keyMemo[keyOf[r.index]] the
	// group key that rule made of the event numbered gen (prepare): the
	// rules grouping alike share it, and its hash (one seed: newShard).
	keyOf   []int32
	keyMemo []keyMemo
}

// keyMemo is a group key made of an event (prepare): e.keys[k0:k1], its
// hash h.
type keyMemo struct {
	gen    uint64
	k0, k1 int32
	h      uint64
}

// act is a rule of the event to act on after its conditions are judged:
// a sequence (judged by its steps), an absence or a match to fire.
type act struct {
	r     *Rule
	steps uint8 // a sequence's steps that may hold (stepsOf)
	// hashed: keys[k0:k1] is r's threshold group key, h its hash in r's
	// group LRU (local state), whose index slot was prefetched.
	hashed bool
	k0, k1 int32
	h      uint64
}

// RuleStats are the counters of one rule in one Evaluator.
type RuleStats struct {
	ID          string
	Evaluations uint64 // condition runs
	Matches     uint64 // condition true
	Excepted    uint64 // matches silenced by an exception
	Alerts      uint64 // alerts emitted
	Suppressed  uint64 // alerts dropped by suppress
	Errors      uint64 // runtime errors of the condition
	EvalTime    time.Duration
}

// Stats are an Evaluator's counters. Totals are sums over Rules.
type Stats struct {
	Events      uint64 // Eval calls
	Skipped     uint64 // events no rule applied to (alerts, datasets without rules)
	Evaluations uint64
	Matches     uint64
	Excepted    uint64
	Alerts      uint64
	Suppressed  uint64
	Errors      uint64
	// State is this Evaluator's threshold and suppression state; zero with
	// EvalOptions.Shared, whose state is every Evaluator's at once
	// (SharedState.Stats): summing its shards at each worker's publish
	// cost a 2-worker replay more than 1 % of its CPU.
	State StateStats
	Rules []RuleStats
}

// NewEvaluator prepares an Evaluator for set.
func NewEvaluator(set *Set, opts EvalOptions) *Evaluator {
	opts.defaults()
	e := &Evaluator{set: set, opts: opts, byDataset: map[string]dsRules{}}
	keep := func(rs []*Rule) []*Rule {
		var out []*Rule
		for _, r := range rs {
			if r.Enabled || opts.IncludeDisabled {
				out = append(out, r)
			}
		}
		return out
	}
	e.unpinned = newDSRules(keep(set.unpinned), "")
	for _, r := range keep(set.rules) {
		if r.Absence != nil || r.Threshold != nil && r.Threshold.below() {
			e.timed = append(e.timed, r)
		}
	}
	for ds, rs := range set.byDataset {
		e.byDataset[ds] = newDSRules(keep(rs), ds)
	}
	if opts.Shared == nil {
		e.local = newShard(len(set.rules), opts.MaxGroups, opts.MaxSuppressKeys, opts.MaxStateBytes)
	}
	e.keyOf, e.keyMemo = make([]int32, len(set.rules)), make([]keyMemo, len(set.rules))
	for i, r := range set.rules {
		e.keyOf[i] = int32(i)
		for j, r2 := range set.rules[:i] {
			if r.Threshold != nil && r2.Threshold != nil && sameFields(r.thrGroup, r2.thrGroup) {
				e.keyOf[i] = int32(j)
				break
			}
		}
	}
	e.rstats = make([]RuleStats, len(set.rules))
	for i, r := range set.rules {
		e.rstats[i].ID = r.ID
	}
	e.box, e.env = newBox()
	e.nat.memo = make([]macroMemo, len(set.macros)+1) // slots from 1 (Macro.memo)
	return e
}

// dsRules are the rules Eval runs on the events of one dataset, and for
// each its sequence steps that may hold on them (stepsOf; the unpinned
// rules run on events of any dataset, all of their steps).
type dsRules struct {
	rules []*Rule
	steps []uint8
}

func newDSRules(rules []*Rule, ds string) dsRules {
	d := dsRules{rules: rules, steps: make([]uint8, len(rules))}
	for i, r := range rules {
		d.steps[i] = stepsOf(r, ds)
	}
	return d
}

// UseBudget makes the rule state draw on acct, the calling worker's share
// of the memory budget (pool rules); call it before the first Eval.
// pipeline.BudgetUser.
func (e *Evaluator) UseBudget(acct *budget.Account) {
	e.acct = acct
	if e.local != nil {
		e.local.use(acct)
	}
}

// Close gives the memory of the Evaluator's state back to the budget (of
// shared state, all of it, for every Evaluator). Call it from the worker's
// goroutine when the Evaluator is replaced.
func (e *Evaluator) Close() {
	if e.local != nil {
		e.local.close(e.acct)
	} else {
		e.opts.Shared.Close(e.acct)
	}
}

// newBox returns an Event boxed in an interface once, and a pointer to the
// boxed copy. expr reads fields through reflect; from a boxed (not
// addressable) struct it returns them without copying, while from a pointer
// every field read allocates. Eval copies the event into the box instead of
// boxing it anew each time, so a non-matching evaluation allocates nothing.
// If the runtime ever stored the value differently, the self-check fails
// and env is nil: Eval then boxes each event (one allocation).
func newBox() (any, *schemas.Event) {
	v := reflect.New(reflect.TypeOf(schemas.Event{})).Elem()
	v.FieldByName("Event").FieldByName("Dataset").SetString("packetsleuth.box-check")
	box := v.Interface()
	p := (*schemas.Event)((*[2]unsafe.Pointer)(unsafe.Pointer(&box))[1])
	if p == nil || p.Event.Dataset != "packetsleuth.box-check" {
		return nil, nil
	}
	p.Event.Dataset = "packetsleuth.box-check2"
	if box.(schemas.Event).Event.Dataset != "packetsleuth.box-check2" {
		return nil, nil
	}
	*p = schemas.Event{}
	return box, p
}

// Eval runs the rules that apply to ev (by event.dataset) and calls emit
// for each alert, in rule load order. Events of kind "alert" are skipped.
//
// Ownership: Eval does not keep ev, and ev may be reused after Eval
// returns. Each alert passed to emit is a new Event (slices copied) that
// emit owns and may keep, modify or pass on.
func (e *Evaluator) Eval(ev *schemas.Event, emit func(*schemas.Event)) {
	e.events++
	e.nat.newEvent()
	if ev.Event.Kind == "alert" {
		e.skipped++
		return
	}
	if len(e.timed) > 0 {
		if t := eventNanos(ev.Timestamp); t > e.clock {
			e.clock = t
		}
		if e.clock-e.checked >= timedCheckEvery {
			e.checked = e.clock
			e.checkTimed(e.clock, emit)
		}
	}
	ds, ok := e.byDataset[ev.Event.Dataset]
	if !ok {
		ds = e.unpinned
	}
	if len(ds.rules) == 0 {
		e.skipped++
		return
	}
	e.boxed = nil
	e.acts, e.keys = e.acts[:0], e.keys[:0]
	for i := 0; i < len(ds.rules); i++ {
		i = e.runRules(&ds, i, ev)
	}
	for i := range e.acts {
		a := &e.acts[i]
		r := a.r
		rs := &e.rstats[r.index]
		switch {
		case r.Sequence != nil:
			e.sequenceEval(r, rs, ev, a.steps, emit)
		case r.Absence != nil:
			e.absenceSeen(r, ev, eventNanos(ev.Timestamp))
		case a.hashed:
			e.fireKeyed(r, rs, ev, nil, emit, e.keys[a.k0:a.k1], a.h, true)
		default:
			e.fire(r, rs, ev, nil, emit)
		}
	}
	if cap(e.keys) > maxEventKeys { // a rare long key (a group by a URL) is not held for every later event
		e.keys = nil
	}
}

// maxEventKeys bounds the buffer of an event's early group keys kept for
// the next event (prepare).
const maxEventKeys = 4 << 10

// runRules judges the conditions of rules[i:] on ev, noting in e.acts
// the rules to act on, and returns len(rules), or the index of a rule
// whose native condition panicked: that is an evaluation error of the
// rule, as the VM makes it, and Eval goes on after it. One deferred
// recover serves all the rules of the event: one a rule cost a flow event
// of the shipped rules about 870 instructions. A panic out of anything
// else than a condition is not recovered.
//
// The matches are acted on (thresholds, suppression, alerts, in rule
// order) only after every condition of the event is judged: a condition
// reads the event, the lists and pure helpers, never the rules' state, so
// the order changes no answer, and the group keys of the threshold rules
// that matched are hashed here, their index slots prefetched (prepare).
// Under a flood of new groups (a SYN flood: three rules keyed by source)
// each new key's slot was a cache miss that the LRU's probe waited for.
func (e *Evaluator) runRules(ds *dsRules, i int, ev *schemas.Event) (at int) {
	rules := ds.rules
	var t0 time.Time
	defer func() {
		if !e.inNative {
			return
		}
		e.inNative = false
		recover()
		rs := &e.rstats[rules[at].index]
		rs.Errors++
		if e.opts.ProfileRules {
			rs.EvalTime += time.Since(t0)
		}
	}()
	for at = i; at < len(rules); at++ {
		r := rules[at]
		rs := &e.rstats[r.index]
		rs.Evaluations++
		if r.Sequence != nil {
			e.acts = append(e.acts, act{r: r, steps: ds.steps[at]})
			continue
		}
		if e.opts.ProfileRules {
			t0 = time.Now()
		}
		ok := e.judge(r, ev, rs)
		if e.opts.ProfileRules {
			rs.EvalTime += time.Since(t0)
		}
		if !ok {
			continue
		}
		if e.excepted(r, ev) {
			rs.Excepted++
			continue
		}
		e.prepare(r, ev)
	}
	return at
}

// prepare notes r, whose condition held on ev, to act on; a count, sum,
// avg or distinct threshold over local state gets its group key made and
// hashed, and the key's index slot prefetched, for fireKeyed.
func (e *Evaluator) prepare(r *Rule, ev *schemas.Event) {
	a := act{r: r}
	if th := r.Threshold; th != nil && !th.below() && r.Absence == nil && e.local != nil && e.later == nil {
		st := &e.local.rules[r.index]
		m := &e.keyMemo[e.keyOf[r.index]]
		if m.gen == e.events { // made by a rule grouping alike
			a.k0, a.k1, a.h = m.k0, m.k1, m.h
			if th.Type == "distinct" {
				st.dgroups.warmHash(a.h)
			} else {
				st.groups.warmHash(a.h)
			}
		} else {
			a.k0 = int32(len(e.keys))
			e.keys = appendGroupKey(e.keys, r.thrGroup, ev)
			a.k1 = int32(len(e.keys))
			k := e.keys[a.k0:a.k1]
			if th.Type == "distinct" {
				a.h = st.dgroups.hashWarm(k)
			} else {
				a.h = st.groups.hashWarm(k)
			}
			*m = keyMemo{gen: e.events, k0: a.k0, k1: a.k1, h: a.h}
		}
		a.hashed = true
	}
	e.acts = append(e.acts, a)
}

// sameFields reports whether a and b are the same fields in the same
// order: they make the same group key of an event.
func sameFields(a, b []field) bool {
	return slices.EqualFunc(a, b, func(x, y field) bool { return x.name == y.name })
}

func eventNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// stateFor returns the state of rule i for key, and the mutex to release.
func (e *Evaluator) stateFor(i int, key []byte) (*ruleState, *sync.Mutex) {
	if e.opts.Shared == nil {
		return &e.local.rules[i], nil
	}
	sh := e.opts.Shared.shard(i, key)
	sh.mu.Lock()
	sh.rules[i].mem.acct = e.acct
	return &sh.rules[i], &sh.mu
}

func (e *Evaluator) groupKey(fields []field, ev *schemas.Event) []byte {
	e.key = appendGroupKey(e.key[:0], fields, ev)
	return e.key
}

// fire applies r's threshold and suppression to a match of ev (env is
// what the condition saw) and emits the alert; dress, if set, completes
// the alert once rendered (a sequence's window and steps).
func (e *Evaluator) fire(r *Rule, rs *RuleStats, ev *schemas.Event, dress func(*schemas.Event), emit func(*schemas.Event)) {
	e.fireKeyed(r, rs, ev, dress, emit, nil, 0, false)
}

// fireKeyed is fire with r's threshold group key of ev made and hashed
// already (prepare) when hashed.
func (e *Evaluator) fireKeyed(r *Rule, rs *RuleStats, ev *schemas.Event, dress func(*schemas.Event), emit func(*schemas.Event), key []byte, h uint64, hashed bool) {
	if e.later != nil && (r.Threshold != nil && !r.Threshold.below() || r.Suppress != nil) {
		e.deferFire(r, ev, dress)
		return
	}
	t := eventNanos(ev.Timestamp)
	var thr *thrResult
	if th := r.Threshold; th != nil {
		if !hashed {
			key = e.groupKey(r.thrGroup, ev)
		}
		var dv []byte
		v := 1.0
		switch th.Type {
		case "distinct":
			e.val = r.thrField.appendValue(e.val[:0], ev)
			dv = e.val
		case "sum", "avg":
			v = r.thrField.number(ev)
		}
		if th.below() {
			e.belowAdd(r, key, t, v, emit)
			return
		}
		if thr = e.countUseHashed(r, key, h, hashed, t, dv, v); thr == nil {
			return
		}
		thr.group = groupStrings(r.thrGroup, ev)
		t = thr.newest
	}
	before, sup := e.suppressUse(r, rs, e.groupKey(r.supBy, ev), t)
	if sup {
		return
	}
	rs.Alerts++
	from := ev
	if thr != nil {
		from = groupEvent(r, ev, thr.newest)
	}
	a := newAlert(r, from, thr, before)
	if len(r.branches.get()) > 0 {
		a.Sensor.Alert.Matched = e.matchedBranches(r, e.envOf(ev))
	}
	finishAlert(r, a, dress, emit)
}

// countUse adds a match to r's threshold group key; it returns the
// group's count when that fired, else nil.
func (e *Evaluator) countUse(r *Rule, key []byte, t int64, dv []byte, v float64) *thrResult {
	return e.countUseHashed(r, key, 0, false, t, dv, v)
}

// countUseHashed is countUse with key's hash in r's group LRU, h, known
// when hashed.
func (e *Evaluator) countUseHashed(r *Rule, key []byte, h uint64, hashed bool, t int64, dv []byte, v float64) *thrResult {
	st, mu := e.stateFor(r.index, key)
	fired, count, members, newest := thresholdAdd(st, r, key, h, hashed, t, dv, v)
	if mu != nil {
		mu.Unlock()
	}
	if !fired {
		return nil
	}
	return &thrResult{count: count, members: members, newest: newest}
}

// suppressUse applies r's suppression (if any) to an alert of key at t:
// sup, the alert is suppressed; else before counts the ones suppressed
// since the last alert of key.
func (e *Evaluator) suppressUse(r *Rule, rs *RuleStats, key []byte, t int64) (before int64, sup bool) {
	if r.Suppress == nil {
		return 0, false
	}
	st, mu := e.stateFor(r.index, key)
	sup, before = suppressCheck(st, r, key, t)
	if mu != nil {
		mu.Unlock()
	}
	if sup {
		rs.Suppressed++
	}
	return before, sup
}

// finishAlert renders a's message, dresses it and emits it.
func finishAlert(r *Rule, a *schemas.Event, dress func(*schemas.Event), emit func(*schemas.Event)) {
	if r.output != nil {
		a.Message = r.output.render(a) // the alert: it has the event's fields, the rule's and the count
	}
	if dress != nil {
		dress(a)
	}
	emit(a)
}

func groupStrings(fields []field, ev *schemas.Event) []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.name + "=" + string(f.appendValue(nil, ev))
	}
	return out
}

// compiledException matches one exception at run time.
type compiledException struct {
	f    field
	vals map[string]struct{}
	ips  *prefixSet
}

func compileException(f field, values []string) (compiledException, error) {
	ce := compiledException{f: f, vals: map[string]struct{}{}}
	for _, v := range values {
		switch f.typ.Kind() {
		case reflect.String:
			if strings.Contains(v, "/") {
				if ce.ips == nil {
					ce.ips = &prefixSet{}
				}
				if err := ce.ips.add(v); err != nil {
					return ce, fmt.Errorf("bad CIDR %q", v)
				}
				continue
			}
			ce.vals[v] = struct{}{}
		case reflect.Bool:
			b, err := strconv.ParseBool(v)
			if err != nil {
				return ce, fmt.Errorf("%q is not a bool", v)
			}
			ce.vals[strconv.FormatBool(b)] = struct{}{}
		case reflect.Float32, reflect.Float64:
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return ce, fmt.Errorf("%q is not a number", v)
			}
			ce.vals[strconv.FormatFloat(x, 'g', -1, 64)] = struct{}{}
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			x, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return ce, fmt.Errorf("%q is not an unsigned integer", v)
			}
			ce.vals[strconv.FormatUint(x, 10)] = struct{}{}
		default:
			x, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return ce, fmt.Errorf("%q is not an integer", v)
			}
			ce.vals[strconv.FormatInt(x, 10)] = struct{}{}
		}
	}
	return ce, nil
}

// excepted reports whether an exception of r silences its match of ev:
// a check of r's exceptions inlined where they run (most rules have
// none), the look-up out of line.
func (e *Evaluator) excepted(r *Rule, ev *schemas.Event) bool {
	return len(r.exc) > 0 && e.exceptedBy(r, ev)
}

func (e *Evaluator) exceptedBy(r *Rule, ev *schemas.Event) bool {
	for i := range r.exc {
		x := &r.exc[i]
		e.val = x.f.appendValue(e.val[:0], ev)
		if _, ok := x.vals[string(e.val)]; ok {
			return true
		}
		if x.ips != nil && x.ips.match(string(e.val)) {
			return true
		}
	}
	return false
}

// Stats returns a copy of the counters. Call it from the goroutine that
// calls Eval (the worker), e.g. between batches; it is not synchronised.
func (e *Evaluator) Stats() Stats {
	st := Stats{Events: e.events, Skipped: e.skipped, Rules: slices.Clone(e.rstats)}
	for _, r := range e.rstats {
		st.Evaluations += r.Evaluations
		st.Matches += r.Matches
		st.Excepted += r.Excepted
		st.Alerts += r.Alerts
		st.Suppressed += r.Suppressed
		st.Errors += r.Errors
	}
	if e.opts.Shared == nil {
		st.State.addShard(e.local)
	}
	return st
}

// newAlert builds the alert event of r for the triggering event ev.
func newAlert(r *Rule, ev *schemas.Event, thr *thrResult, suppressedBefore int64) *schemas.Event {
	return buildAlert(new(schemas.Event), r, ev, thr, suppressedBefore)
}

// buildAlert makes a (all of it) the alert event of r for ev.
func buildAlert(a *schemas.Event, r *Rule, ev *schemas.Event, thr *thrResult, suppressedBefore int64) *schemas.Event {
	*a = schemas.Event{
		Timestamp:   ev.Timestamp,
		ECS:         schemas.ECS{Version: schemas.ECSVersion},
		Network:     ev.Network,
		Source:      ev.Source,
		Destination: ev.Destination,
		Observer:    ev.Observer,
		DNS:         cloneDNS(ev.DNS),
		HTTP:        ev.HTTP,
		URL:         ev.URL,
		UserAgent:   ev.UserAgent,
		TLS:         cloneTLS(ev.TLS),
		Related: schemas.Related{
			IP: slices.Clone(ev.Related.IP), Hosts: slices.Clone(ev.Related.Hosts),
			Hash: slices.Clone(ev.Related.Hash), User: slices.Clone(ev.Related.User),
		},
		Tags: slices.Clone(r.Tags),
	}
	a.Event = schemas.EventMeta{
		Kind:      "alert",
		Category:  []string{"network", "intrusion_detection"},
		Type:      []string{"info"},
		Dataset:   schemas.DatasetAlert,
		Module:    "packetsleuth",
		Action:    r.ID,
		Reason:    r.Name,
		Severity:  r.SeverityNumber,
		RiskScore: r.RiskScore,
	}
	a.Rule = schemas.Rule{
		ID: r.ID, Name: r.Name, Description: r.Description, Category: r.Category,
		Ruleset: r.Ruleset, Version: r.Version, Author: slices.Clone(r.Author),
	}
	if len(r.References) > 0 {
		a.Rule.Reference = r.References[0]
	}
	if len(r.Threat) > 0 {
		a.Threat.Framework = "MITRE ATT&CK"
		for _, t := range r.Threat {
			if t.TacticID != "" && !slices.Contains(a.Threat.Tactic.ID, t.TacticID) {
				a.Threat.Tactic.ID = append(a.Threat.Tactic.ID, t.TacticID)
				a.Threat.Tactic.Name = append(a.Threat.Tactic.Name, t.TacticName)
				a.Threat.Tactic.Reference = append(a.Threat.Tactic.Reference, "https://attack.mitre.org/tactics/"+t.TacticID+"/")
			}
			if t.TechniqueID != "" && !slices.Contains(a.Threat.Technique.ID, t.TechniqueID) {
				a.Threat.Technique.ID = append(a.Threat.Technique.ID, t.TechniqueID)
				a.Threat.Technique.Name = append(a.Threat.Technique.Name, t.TechniqueName)
				a.Threat.Technique.Reference = append(a.Threat.Technique.Reference,
					"https://attack.mitre.org/techniques/"+strings.ReplaceAll(t.TechniqueID, ".", "/")+"/")
			}
		}
		if a.Rule.Category == "" {
			a.Rule.Category = r.Threat[0].TacticName
		}
	}
	a.Threat.Enrichments = slices.Clone(ev.Threat.Enrichments)
	a.Sensor.Flow = ev.Sensor.Flow
	a.Sensor.Tunnel = ev.Sensor.Tunnel
	a.Sensor.TLS = ev.Sensor.TLS
	a.Sensor.SSH = ev.Sensor.SSH
	a.Sensor.SMB = ev.Sensor.SMB
	a.Sensor.SMB.Access = slices.Clone(ev.Sensor.SMB.Access)
	a.Sensor.SMB.SMB1Dialects = slices.Clone(ev.Sensor.SMB.SMB1Dialects)
	a.Sensor.NTLM = ev.Sensor.NTLM
	a.Sensor.NTLM.Messages = slices.Clone(ev.Sensor.NTLM.Messages)
	a.Sensor.NTLM.Flags = slices.Clone(ev.Sensor.NTLM.Flags)
	a.User, a.File = ev.User, ev.File
	a.Sensor.File = ev.Sensor.File
	if thr != nil {
		a.Sensor.Alert = schemas.AlertInfo{
			Count:   formatCount(thr.count),
			Window:  r.Threshold.Window.String(),
			Group:   thr.group,
			Members: thr.members,
		}
		a.Event.End = ev.Timestamp
		a.Event.Start = ev.Timestamp.Add(-r.Threshold.Window)
	}
	if suppressedBefore > 0 {
		a.Sensor.Notes = suppressedNote(suppressedBefore)
	}
	return a
}

func suppressedNote(n int64) []string {
	return []string{fmt.Sprintf("%d earlier alerts of this rule with the same suppress key were suppressed", n)}
}

func cloneDNS(d schemas.DNS) schemas.DNS {
	d.HeaderFlags = slices.Clone(d.HeaderFlags)
	d.Answers = slices.Clone(d.Answers)
	d.ResolvedIP = slices.Clone(d.ResolvedIP)
	return d
}

func cloneTLS(t schemas.TLS) schemas.TLS {
	t.Client.SupportedCiphers = slices.Clone(t.Client.SupportedCiphers)
	x := &t.Server.X509
	x.AlternativeNames = slices.Clone(x.AlternativeNames)
	for _, n := range []*schemas.X509Name{&x.Subject, &x.Issuer} {
		n.CommonName = slices.Clone(n.CommonName)
		n.Organization = slices.Clone(n.Organization)
		n.OrganizationalUnit = slices.Clone(n.OrganizationalUnit)
		n.Country = slices.Clone(n.Country)
	}
	return t
}

// judge runs rule r's condition on ev, counting matches in rs: a native
// one under runRules's recover, without one of its own.
func (e *Evaluator) judge(r *Rule, ev *schemas.Event, rs *RuleStats) bool {
	if r.native == nil {
		return e.holds(r.program, nil, ev, rs)
	}
	e.nat.ev = ev
	e.inNative = true
	ok := r.native(&e.nat)
	e.inNative = false
	if ok {
		rs.Matches++
	}
	return ok
}

// holds runs a sequence step's condition (or a rule's: judge) on env,
// counting errors and matches in rs.
func (e *Evaluator) holds(p *vm.Program, native func(*natEnv) bool, ev *schemas.Event, rs *RuleStats) bool {
	var ok bool
	if native != nil {
		ok = e.runNative(native, ev, rs)
	} else {
		out, err := e.vm.Run(p, e.envOf(ev))
		if err != nil {
			rs.Errors++
			return false
		}
		ok, _ = out.(bool)
	}
	if !ok {
		return false
	}
	rs.Matches++
	return true
}

// runNative runs a condition compiled to Go. A helper that panics is an
// evaluation error, as the VM makes it.
func (e *Evaluator) runNative(native func(*natEnv) bool, ev *schemas.Event, rs *RuleStats) (ok bool) {
	defer func() {
		if recover() != nil {
			rs.Errors++
			ok = false
		}
	}()
	e.nat.ev = ev
	return native(&e.nat)
}

// envOf returns ev as the VM's environment: copied once per Eval into the
// boxed event (see newBox), and only when a condition needs the VM.
func (e *Evaluator) envOf(ev *schemas.Event) any {
	if e.env == nil {
		return *ev
	}
	if e.boxed != ev {
		*e.env = *ev
		e.boxed = ev
	}
	return e.box
}
