package rules

import (
	"reflect"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// Absence makes a rule alert on silence: a group (the values of GroupBy)
// whose events matched the condition before, and then none for After of
// event time (a heartbeat host that stops talking, a log forwarder that
// goes quiet). Event time is the newest time the Evaluator has seen, so a
// replay's silences are those of the capture; silences still open when the
// input ends raise nothing (the sensor cannot know what came next).
type Absence struct {
	GroupBy []string
	After   time.Duration

	groupBy []field
}

type absenceDoc struct {
	GroupBy []string `yaml:"group_by"`
	After   string   `yaml:"after"`
}

// absEntry is one group being watched: the key holds its values, the
// entry's last time when it last spoke.
type absEntry struct{}

// timedCheckEvery is how much event time passes between two looks for
// silent groups and closed lt/lte windows.
const timedCheckEvery = int64(time.Second)

func (l *loader) absence(f *srcFile, n *yaml.Node, r *Rule, d *absenceDoc) {
	a := &Absence{GroupBy: d.GroupBy}
	w, err := time.ParseDuration(d.After)
	switch {
	case d.After == "":
		l.errf(f, n, r.ID, "", "absence: after is required")
	case err != nil:
		l.errf(f, pathNode(n, "after"), r.ID, "", "absence: bad after: %v", err)
	case w <= 0 || w > 24*time.Hour:
		l.errf(f, pathNode(n, "after"), r.ID, "", "absence: after must be within (0, 24h]")
	}
	a.After = w
	if len(d.GroupBy) == 0 {
		l.errf(f, n, r.ID, "", "absence: group_by is required (whose silence?)")
	}
	a.groupBy, _ = l.fields(f, pathNode(n, "group_by"), r.ID, "absence: group_by", d.GroupBy)
	r.Absence = a
}

// absenceSeen records that r's group of ev spoke at t.
func (e *Evaluator) absenceSeen(r *Rule, ev *schemas.Event, t int64) {
	key := e.groupKey(r.Absence.groupBy, ev)
	st, mu := e.stateFor(r.index, key)
	ent, h := st.absent.get(key)
	if ent == nil {
		ent = st.absent.add(key, h)
	}
	if ent != nil && t > ent.last {
		ent.last = t
	}
	if mu != nil {
		mu.Unlock()
	}
}

// checkTimed judges, at event time now, what only the passing of time
// decides: the groups of absence rules silent for longer than their After
// (oldest first), and the windows of lt/lte thresholds that closed without
// a later match of their group.
func (e *Evaluator) checkTimed(now int64, emit func(*schemas.Event)) {
	for _, r := range e.timed {
		judge := func(st *ruleState) {
			if r.Absence != nil {
				e.silent(r, st, now-int64(r.Absence.After), emit)
			} else {
				e.closeLows(r, st, now-int64(r.Threshold.Window), emit)
			}
		}
		if e.opts.Shared == nil {
			judge(&e.local.rules[r.index])
			continue
		}
		for _, sh := range e.opts.Shared.shards {
			sh.mu.Lock()
			sh.rules[r.index].mem.acct = e.acct
			judge(&sh.rules[r.index])
			sh.mu.Unlock()
		}
	}
}

func (e *Evaluator) silent(r *Rule, st *ruleState, cutoff int64, emit func(*schemas.Event)) {
	for ent := st.absent.tail; ent != nil && ent.last < cutoff; ent = st.absent.tail {
		key, last := string(ent.key), ent.last
		st.absent.remove(ent)
		e.rstats[r.index].Alerts++
		emit(e.absenceAlert(r, key, last))
	}
}

// absenceAlert is the alert of a silent group: its values, the time it
// was last heard of and when the silence reached After.
func (e *Evaluator) absenceAlert(r *Rule, key string, last int64) *schemas.Event {
	at := time.Unix(0, last).UTC()
	a := groupAlert(r, r.Absence.groupBy, key, at.Add(r.Absence.After))
	a.Event.Start = at
	a.Sensor.Alert.Window = r.Absence.After.String()
	if r.output != nil {
		a.Message = r.output.render(a)
	}
	return a
}

// groupAlert is an alert of r about a group rather than an event: an
// event at ts holding the group's values (key is their groupKey).
func groupAlert(r *Rule, fields []field, key string, ts time.Time) *schemas.Event {
	var ev schemas.Event
	ev.Timestamp = ts
	setGroup(&ev, fields, key)
	a := newAlert(r, &ev, nil, 0)
	a.Event.End = ts
	a.Sensor.Alert.Group = groupStrings(fields, &ev)
	return a
}

// setGroup sets fields of ev from their group key (appendGroupKey's).
func setGroup(ev *schemas.Event, fields []field, key string) {
	vals := splitGroupKey(key, len(fields))
	for i, f := range fields {
		if i < len(vals) {
			setScalar(f.value(ev), vals[i])
		}
	}
}

// setScalar sets v from its text form (appendScalar's).
func setScalar(v reflect.Value, s string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, _ := strconv.ParseBool(s)
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, _ := strconv.ParseInt(s, 10, 64)
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, _ := strconv.ParseUint(s, 10, 64)
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		x, _ := strconv.ParseFloat(s, 64)
		v.SetFloat(x)
	}
}
