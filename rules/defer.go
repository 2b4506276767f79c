package rules

import (
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
	r     *Rule
	dress func(*schemas.Event)
	t     int64 // the match's time (Unix ns), in loc
	loc   *time.Location
	v     float64 // the threshold's value (sum, avg)
	// keys holds the threshold's group key, [thr:dv] its distinct value,
	// [dv:] the suppression's key, copied in one.
	keys    []byte
	thr, dv int
	from    *schemas.Event // the alert built now (no threshold)
	obs     schemas.Observer
	matched []string
	bytes   int64 // what it holds (Bytes)
}

// Bytes is what u holds while it waits, for the caller's memory budget:
// the use, the keys it copied, and the alert built for it.
func (u *use) Bytes() int64 { return u.bytes }

// useBytes is what a use's own allocation takes, rounded up as the
// allocator does (its size classes are up to 1/8 apart here).
const useBytes = int64(unsafe.Sizeof(use{})) * 9 / 8

// Defer makes e hand each use of its shared threshold and suppression
// state to later instead of making it; the caller makes the uses, in the
// order it chooses, through Apply (pipeline.Deferrer). Call it before the
// first Eval.
func (e *Evaluator) Defer(later func(use any)) { e.later = later }

// Apply makes a use Defer handed over with e's state and counters and
// emits its alert, if any. A use of another rule set (reloaded since) is
// dropped: that set's state is gone.
func (e *Evaluator) Apply(u any, emit func(*schemas.Event)) {
	if u, ok := u.(*use); ok {
		if u.set == e.set {
			e.makeUse(u, emit)
		}
		u.recycle()
	}
}

// uses recycles the uses Apply made, with their key buffers: a SYN flood
// on several workers hands over about four a flow (each scan and flood
// threshold), and each was a struct and a copy of its keys to allocate,
// and to collect. A use goes from the worker that made it to the
// sequencer that applies it; the pool gives it back to a worker.
var uses = sync.Pool{New: func() any { return new(use) }}

// maxPooledKeys bounds the key buffer a recycled use keeps: a rare long
// key (a group by a URL) is not held for every later use.
const maxPooledKeys = 256

// recycle puts u, made (or dropped) by Apply and seen by no one after, in
// uses. What the use gave away stays with its taker: the alert (from)
// and its matched branches; the state copied the keys it kept.
func (u *use) recycle() {
	keys := u.keys[:0]
	if cap(keys) > maxPooledKeys {
		keys = nil
	}
	*u = use{keys: keys}
	uses.Put(u)
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
	u := uses.Get().(*use)
	keys := u.keys
	*u = use{set: e.set, r: r, dress: dress, t: eventNanos(ev.Timestamp), loc: ev.Timestamp.Location(), v: 1, obs: ev.Observer}
	k := e.key[:0]
	if th := r.Threshold; th != nil {
		k = appendGroupKey(k, r.thrGroup, ev)
		u.thr = len(k)
		switch th.Type {
		case "distinct":
			k = r.thrField.appendValue(k, ev)
		case "sum", "avg":
			u.v = r.thrField.number(ev)
		}
	} else {
		u.from = buildAlert(drafts.Get().(*schemas.Event), r, ev, nil, 0)
	}
	u.dv = len(k)
	if r.Suppress != nil {
		k = appendGroupKey(k, r.supBy, ev)
	}
	e.key, u.keys = k, append(keys, k...)
	if len(r.branches.get()) > 0 {
		u.matched = e.matchedBranches(r, e.envOf(ev))
	}
	u.bytes = useBytes + int64(cap(u.keys)+16*cap(u.matched))
	if u.from != nil {
		u.bytes += schemas.HeldBytes // the alert built before its use
	}
	e.later(u)
}

// makeUse makes a use deferFire handed over with e's state.
func (e *Evaluator) makeUse(u *use, emit func(*schemas.Event)) {
	r := u.r
	rs := &e.rstats[r.index]
	at, from := u.t, u.from
	var thr *thrResult
	if r.Threshold != nil {
		thrKey := u.keys[:u.thr:u.thr]
		if thr = e.countUse(r, thrKey, u.t, u.keys[u.thr:u.dv:u.dv], u.v); thr == nil {
			return
		}
		at = thr.newest
		from = groupEventOf(r, thrKey, u.obs)
		thr.group = groupStrings(r.thrGroup, from)
		if thr.newest != 0 {
			from.Timestamp = time.Unix(0, thr.newest).In(u.loc)
		}
	}
	before, sup := e.suppressUse(r, rs, u.keys[u.dv:], at)
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
	a.Sensor.Alert.Matched = u.matched
	finishAlert(r, a, u.dress, emit)
}
