package rules

import (
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// Sequence makes a rule match ordered events instead of one: step 1,
// then step 2 (and so on) within Window of event time, the steps tied by
// their `by` fields, position by position (a DNS answer's resolved
// address, then a connection to it: by [source.ip, dns.resolved_ip] and
// [source.ip, destination.ip]). A `by` field may be a list (each of its
// values starts or continues a sequence). The alert comes with the last
// step's event. An unordered sequence (Sigma's temporal correlation) fires
// when every step has matched within Window, in any order; an event that
// matches several steps counts for each.
type Sequence struct {
	Window    time.Duration
	Steps     []SequenceStep
	Unordered bool
}

// SequenceStep is one step of a Sequence.
type SequenceStep struct {
	Name      string
	Condition string
	By        []string

	program *vm.Program
	native  func(*natEnv) bool
	by      []field
	// datasets are the event.dataset values the condition pins
	// (datasetsOf), nil if none: on events of another dataset the step
	// cannot hold and is not judged (Evaluator.stepsOf).
	datasets []string
}

type sequenceDoc struct {
	Window  string    `yaml:"window"`
	Steps   []stepDoc `yaml:"steps"`
	Ordered *bool     `yaml:"ordered"` // default true
}

type stepDoc struct {
	Name      string   `yaml:"name"`
	Condition string   `yaml:"condition"`
	By        []string `yaml:"by"`
}

// Bounds of a sequence: steps, and keys one event may give (list fields
// multiply).
const (
	maxSteps   = 8
	maxSeqKeys = 16
)

// seqEntry is how far one key got.
type seqEntry struct {
	step  int             // ordered: steps done; unordered: bit i set = step i seen
	start int64           // ordered: event time of step 1
	seen  [maxSteps]int64 // unordered: event time of each step seen
}

func (l *loader) sequence(f *srcFile, n *yaml.Node, r *Rule, d *sequenceDoc, bad map[string]bool) {
	id := r.ID
	w, err := time.ParseDuration(d.Window)
	switch {
	case d.Window == "":
		l.errf(f, n, id, "", "sequence: window is required")
	case err != nil:
		l.errf(f, pathNode(n, "window"), id, "", "sequence: bad window: %v", err)
	case w <= 0 || w > 24*time.Hour:
		l.errf(f, pathNode(n, "window"), id, "", "sequence: window must be within (0, 24h]")
	}
	if len(d.Steps) < 2 || len(d.Steps) > maxSteps {
		l.errf(f, n, id, "", "sequence: 2 to %d steps are required, got %d", maxSteps, len(d.Steps))
		return
	}
	seq := &Sequence{Window: w, Unordered: d.Ordered != nil && !*d.Ordered}
	sn := valueNode(n, "steps")
	pinned := map[string]bool{}
	unpinned := false
	for i, sd := range d.Steps {
		at := n
		if sn != nil && sn.Kind == yaml.SequenceNode && i < len(sn.Content) {
			at = sn.Content[i]
		}
		st := SequenceStep{Name: sd.Name, Condition: sd.Condition, By: sd.By}
		if st.Name == "" {
			st.Name = fmt.Sprintf("step%d", i+1)
		}
		cn := pathNode(at, "condition")
		c := compileCondition(sd.Condition, l.lists, l.macros, bad, "")
		for _, p := range c.probs {
			l.exprErr(f, cn, id, fmt.Sprintf("sequence step %s: condition: ", st.Name), p)
		}
		if sd.Condition == "" {
			l.errf(f, at, id, "", "sequence step %s: condition is required", st.Name)
		}
		if c.program != nil {
			ds := c.pin() // judged on events of ds only (stepsOf), as a pinned rule
			st.datasets = ds
			if ds == nil {
				unpinned = true
			} else {
				for _, x := range ds {
					pinned[x] = true
				}
			}
		}
		st.program, st.native = c.program, c.native
		if len(sd.By) == 0 || len(sd.By) != len(d.Steps[0].By) {
			l.errf(f, pathNode(at, "by"), id, "", "sequence step %s: by must name as many fields as step 1's (%d), position by position", st.Name, len(d.Steps[0].By))
		}
		for _, name := range sd.By {
			fld, ok := ecsFields()[name]
			if !ok || !(isScalar(fld.typ) || fld.typ.Kind() == reflect.Slice && isScalar(fld.typ.Elem())) {
				_, msg := lookupField(name)
				if msg == "" {
					msg = "field " + name + " is neither a value nor a list of values"
				}
				l.errf(f, pathNode(at, "by"), id, name, "sequence step %s: by: %s", st.Name, msg)
				continue
			}
			st.by = append(st.by, fld)
		}
		seq.Steps = append(seq.Steps, st)
	}
	r.Sequence = seq
	if !unpinned {
		for ds := range pinned {
			r.Datasets = append(r.Datasets, ds)
		}
		slices.Sort(r.Datasets) // a map's order: warnings naming them would change from load to load
	}
}

// seqKeys appends to dst the keys of ev for a step: the cross product of
// its by fields' values (a list field gives each element), at most
// maxSeqKeys. An empty value gives no key: nothing to tie.
func seqKeys(dst [][]byte, by []field, ev *schemas.Event) [][]byte {
	dst = append(dst[:0], nil)
	for i, f := range by {
		v := f.value(ev)
		var vals []reflect.Value
		if v.Kind() == reflect.Slice {
			for j := 0; j < v.Len(); j++ {
				vals = append(vals, v.Index(j))
			}
		} else {
			vals = []reflect.Value{v}
		}
		var next [][]byte
		for _, k := range dst {
			for _, x := range vals {
				b := appendScalar(append([]byte(nil), k...), x)
				if len(b) == len(k) {
					continue
				}
				if i < len(by)-1 {
					b = prefixLength(b, len(k))
				}
				if len(next) < maxSeqKeys {
					next = append(next, b)
				}
			}
		}
		dst = next
	}
	return dst
}

// sequenceEval advances r's sequences with ev; a completed one fires.
// steps has bit i set when step i may hold on ev (stepsOf): the others
// are pinned to other datasets.
func (e *Evaluator) sequenceEval(r *Rule, rs *RuleStats, ev *schemas.Event, steps uint8, emit func(*schemas.Event)) {
	sq := r.Sequence
	t := eventNanos(ev.Timestamp)
	n := len(sq.Steps)
	for k := range n {
		i := k
		if !sq.Unordered {
			i = n - 1 - k // later steps first: one event must not make two steps of one sequence
		}
		st := &sq.Steps[i]
		if steps&(1<<i) == 0 || !e.holds(st.program, st.native, ev, rs) {
			continue
		}
		e.seqKeys = seqKeys(e.seqKeys, st.by, ev)
		for _, key := range e.seqKeys {
			s, mu := e.stateFor(r.index, key)
			var start int64
			var fired bool
			if sq.Unordered {
				start, fired = unorderedStep(s.seqs, key, i, n, t, int64(sq.Window))
			} else {
				start, fired = orderedStep(s.seqs, key, i, n, t, int64(sq.Window))
			}
			if mu != nil {
				mu.Unlock()
			}
			if fired && !e.excepted(r, ev) {
				e.fireSequence(r, rs, ev, start, emit)
			}
		}
	}
}

// stepsOf is the mask of the steps of r that may hold on events of
// dataset ds ("" for events of any dataset, all of them): those whose
// condition pins no dataset or pins ds.
func stepsOf(r *Rule, ds string) uint8 {
	var m uint8
	if r.Sequence == nil {
		return 0
	}
	for i, st := range r.Sequence.Steps {
		if ds == "" || st.datasets == nil || contains(st.datasets, ds) {
			m |= 1 << i
		}
	}
	return m
}

// orderedStep records step i of n for key at time t: step 1 starts (or
// restarts) the sequence, a later step advances it if it is the next one
// within window w of the start. fired: the last step completed it.
func orderedStep(seqs *lru[seqEntry], key []byte, i, n int, t, w int64) (start int64, fired bool) {
	ent, h := seqs.get(key)
	switch {
	case i == 0:
		if ent == nil || t-ent.val.start > w || t < ent.val.start {
			seqs.expire(t-w, 2)
			if ent == nil {
				ent = seqs.add(key, h)
			}
			if ent != nil {
				ent.val, ent.last = seqEntry{step: 1, start: t}, t
			}
		}
	case ent != nil && ent.val.step == i && t >= ent.val.start && t-ent.val.start <= w:
		if i < n-1 {
			ent.val.step, ent.last = i+1, t
		} else {
			start, fired = ent.val.start, true
			seqs.remove(ent)
		}
	}
	return start, fired
}

// unorderedStep records step i of n for key at time t; fired: every step
// has now been seen within window w of t (start: the earliest of them).
func unorderedStep(seqs *lru[seqEntry], key []byte, i, n int, t, w int64) (start int64, fired bool) {
	ent, h := seqs.get(key)
	if ent == nil {
		seqs.expire(t-w, 2)
		if ent = seqs.add(key, h); ent == nil {
			return 0, false
		}
	}
	ent.val.step |= 1 << i
	ent.val.seen[i], ent.last = t, t
	start = t
	for j := range n {
		if at := ent.val.seen[j]; ent.val.step&(1<<j) != 0 {
			if t-at > w || at-t > w { // seen too long before (or after) now: no longer counts
				ent.val.step &^= 1 << j
			} else {
				start = min(start, at)
			}
		}
	}
	if ent.val.step != 1<<n-1 {
		return 0, false
	}
	seqs.remove(ent)
	return start, true
}

// fireSequence emits the alert of a completed sequence (suppression
// applies as for any rule).
func (e *Evaluator) fireSequence(r *Rule, rs *RuleStats, ev *schemas.Event, start int64, emit func(*schemas.Event)) {
	end := ev.Timestamp
	e.fire(r, rs, ev, func(a *schemas.Event) {
		a.Event.Start = time.Unix(0, start).UTC()
		a.Event.End = end
		a.Sensor.Alert.Window = r.Sequence.Window.String()
		for _, st := range r.Sequence.Steps {
			a.Sensor.Alert.Matched = append(a.Sensor.Alert.Matched, st.Name)
		}
	}, emit)
}
