package rules

import (
	"slices"
	"sync"
	"time"
	"unsafe"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// A use is a match's use of the threshold and suppression state shared by
// several workers' Evaluators (EvalOptions.Shared), deferred by Defer.
//
// Why: the workers see their events in no common order, and state keyed
// by one host (or by anything not inside one host pair) took them in the
// order the workers ran: which alert of a suppression key went out, which
// events a threshold counted before it reset, depended on scheduling.
// Deferred, the uses are made in the order the caller (the pipeline's
// sequencer: packet order) runs them, as one worker would make them.
type use struct {
	set   *Set
	run   func(e *Evaluator, emit func(*schemas.Event))
	bytes int64 // what it holds (Bytes)
}

// Bytes is what u holds while it waits, for the caller's memory budget:
// the use, its closure, the keys it copied, and the alert built for it.
func (u use) Bytes() int64 { return u.bytes }

// useBytes is what every use holds: the use (boxed), its closure (a dozen
// words and the Observer), and the captured alert's variable, rounded up.
const useBytes = int64(2*unsafe.Sizeof(use{}) + unsafe.Sizeof(schemas.Observer{}) + 24*8)

// alertBytes is what an alert built before its use holds: the event, and
// the lists it copies for the rule (tags, threat, related).
const alertBytes = int64(unsafe.Sizeof(schemas.Event{})) + 1<<10

// Defer makes e hand each use of its shared threshold and suppression
// state to later instead of making it; the caller makes the uses, in the
// order it chooses, through Apply (pipeline.Deferrer). Call it before the
// first Eval.
func (e *Evaluator) Defer(later func(use any)) { e.later = later }

// Apply makes a use Defer handed over with e's state and counters and
// emits its alert, if any. A use of another rule set (reloaded since) is
// dropped: that set's state is gone.
func (e *Evaluator) Apply(u any, emit func(*schemas.Event)) {
	if u, ok := u.(use); ok && u.set == e.set {
		u.run(e, emit)
	}
}

// drafts recycles the alerts deferFire builds before the use knows
// whether the suppression lets them out: a flood of matches of a rule
// suppressed by its key would otherwise allocate, and the GC scan, a whole
// event (about 8 KB) per match, where one Evaluator on its own decides
// first and builds only the alerts that go out.
var drafts = sync.Pool{New: func() any { return new(schemas.Event) }}

// deferFire hands the threshold and suppression of a match of ev to
// later, with copies of what they need: the keys, and the alert's source
// (the group of a threshold, else the alert itself, but its notes).
func (e *Evaluator) deferFire(r *Rule, ev *schemas.Event, dress func(*schemas.Event)) {
	t, loc := eventNanos(ev.Timestamp), ev.Timestamp.Location()
	var thrKey, dv []byte
	v := 1.0
	var from *schemas.Event // the alert made now; of a threshold, made from its key once it fires
	obs := ev.Observer
	if th := r.Threshold; th != nil {
		thrKey = slices.Clone(e.groupKey(r.thrGroup, ev))
		switch th.Type {
		case "distinct":
			dv = r.thrField.appendValue(nil, ev)
		case "sum", "avg":
			v = r.thrField.number(ev)
		}
	} else {
		from = buildAlert(drafts.Get().(*schemas.Event), r, ev, nil, 0)
	}
	var supKey []byte
	if r.Suppress != nil {
		supKey = slices.Clone(e.groupKey(r.supBy, ev))
	}
	var matched []string
	if len(r.branches) > 0 {
		matched = e.matchedBranches(r, e.envOf(ev))
	}
	held := useBytes + int64(cap(thrKey)+cap(dv)+cap(supKey)+16*cap(matched))
	if from != nil {
		held += alertBytes
	}
	e.later(use{set: e.set, bytes: held, run: func(x *Evaluator, emit func(*schemas.Event)) {
		rs := &x.rstats[r.index]
		at := t
		var thr *thrResult
		if r.Threshold != nil {
			if thr = x.countUse(r, thrKey, t, dv, v); thr == nil {
				return
			}
			at = thr.newest
			from = groupEventOf(r, thrKey, obs)
			thr.group = groupStrings(r.thrGroup, from)
			if thr.newest != 0 {
				from.Timestamp = time.Unix(0, thr.newest).In(loc)
			}
		}
		before, sup := x.suppressUse(r, rs, supKey, at)
		if sup {
			if thr == nil {
				drafts.Put(from) // never seen by anyone else
			}
			return
		}
		rs.Alerts++
		a := from
		if thr != nil {
			a = newAlert(r, from, thr, before)
		} else if before > 0 {
			a.Sensor.Notes = suppressedNote(before)
		}
		a.Sensor.Alert.Matched = matched
		finishAlert(r, a, dress, emit)
	}})
}
