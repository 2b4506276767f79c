package flow

import (
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// reportList is the intrusive list of flows waiting for an interim report,
// in the order they are due: every flow goes to the back with a due time of
// (its start, or the time of its last report) plus Config.Interim, and both
// only grow, so the front is always the first due.
type reportList struct{ head, tail *Flow }

func (l *reportList) pushBack(f *Flow) {
	f.rprev, f.rnext = l.tail, nil
	if l.tail != nil {
		l.tail.rnext = f
	} else {
		l.head = f
	}
	l.tail = f
}

func (l *reportList) remove(f *Flow) {
	if f.rprev != nil {
		f.rprev.rnext = f.rnext
	} else if l.head == f {
		l.head = f.rnext
	} else {
		return // not in the list
	}
	if f.rnext != nil {
		f.rnext.rprev = f.rprev
	} else {
		l.tail = f.rprev
	}
	f.rprev, f.rnext = nil, nil
}

// OnInterim sets the function called for each interim report of a flow
// still open (Config.Interim). The Flow stays the table's.
func (t *Table) OnInterim(fn func(*Flow)) { t.onInterim = fn }

func (t *Table) scheduleReport(f *Flow, from int64) {
	if t.cfg.Interim <= 0 {
		return
	}
	f.reportAt = from + int64(t.cfg.Interim)
	t.reports.pushBack(f)
}

func (t *Table) unscheduleReport(f *Flow) {
	if t.cfg.Interim > 0 {
		t.reports.remove(f)
	}
}

// interims reports every flow due at now that saw packets since its last
// report, and schedules its next report.
func (t *Table) interims(now int64) {
	for f := t.reports.head; f != nil && now >= f.reportAt; f = t.reports.head {
		t.reports.remove(f)
		prev := f.reported
		if prev == 0 {
			prev = f.first
		}
		if f.last > prev {
			f.reported = f.last
			t.stats.Interim++
			if t.onInterim != nil {
				t.onInterim(f)
			}
		}
		t.scheduleReport(f, now)
	}
}

var typeConnection = []string{"connection"}

// FillInterimEvent writes an interim connection event of a flow still
// open: event.type [connection] (no end), the counters and state so far,
// event.end and the end reason unset.
func (f *Flow) FillInterimEvent(ev *schemas.Event, obs *schemas.Observer) {
	f.FillEvent(ev, obs)
	ev.Event.Type = typeConnection
	ev.Event.End = time.Time{}
	ev.Sensor.Flow.EndReason = ""
}
