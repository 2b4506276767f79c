package rules

import (
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// "Fewer than" thresholds (lt, lte): a group's window begins with its
// first match and lasts Window; when it has closed, its total (count, sum
// or average) is judged once and the group is forgotten until its next
// match. A window is closed by the group's next match after it, or, when
// none comes, found by the Evaluator's look at groups quiet for a Window
// (checkTimed); the alert's time is the window's end either way.

// lowEntry is one group's open window.
type lowEntry struct {
	start  int64
	sum, n float64
}

// belowAdd counts v at t into key's window, judging the previous window
// first if t is past it.
func (e *Evaluator) belowAdd(r *Rule, key []byte, t int64, v float64, emit func(*schemas.Event)) {
	w := int64(r.Threshold.Window)
	st, mu := e.stateFor(r.index, key)
	ent, h := st.lows.get(key)
	var closed lowEntry
	var closedKey string
	if ent != nil && t >= ent.val.start+w {
		closed, closedKey = ent.val, string(ent.key) // the entry may take another key once unlocked
		ent.val = lowEntry{start: t}
	}
	if ent == nil {
		if ent = st.lows.add(key, h); ent != nil {
			ent.val = lowEntry{start: t}
		}
	}
	if ent != nil {
		ent.val.sum += v
		ent.val.n++
		ent.last = max(ent.last, t)
	}
	if mu != nil {
		mu.Unlock()
	}
	if closedKey != "" {
		e.judgeLow(r, closedKey, closed, emit)
	}
}

// closeLows judges the windows of groups quiet since before cutoff.
func (e *Evaluator) closeLows(r *Rule, st *ruleState, cutoff int64, emit func(*schemas.Event)) {
	for ent := st.lows.tail; ent != nil && ent.last < cutoff; ent = st.lows.tail {
		key, val := string(ent.key), ent.val
		st.lows.remove(ent)
		e.judgeLow(r, key, val, emit)
	}
}

// judgeLow alerts if a closed window's total is below the threshold.
func (e *Evaluator) judgeLow(r *Rule, key string, w lowEntry, emit func(*schemas.Event)) {
	th := r.Threshold
	total := w.sum
	if th.Type == "avg" && w.n > 0 {
		total = w.sum / w.n
	}
	if !th.reached(total) {
		return
	}
	start := time.Unix(0, w.start).UTC()
	a := groupAlert(r, r.thrGroup, key, start.Add(th.Window))
	a.Event.Start = start
	a.Sensor.Alert.Count = formatCount(total)
	a.Sensor.Alert.Window = th.Window.String()
	if r.output != nil {
		a.Message = r.output.render(a)
	}
	e.rstats[r.index].Alerts++
	emit(a)
}
