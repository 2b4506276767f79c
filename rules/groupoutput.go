package rules

import (
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// A group's alert (a threshold's, an absence's) is made of the group, not
// of one event (groupEvent, groupAlert): a placeholder for any other field
// of the events would print "-" on every alert. The loader refuses such an
// output, rather than let the rule's author find out from the alerts.

// groupOutput reports the first placeholder of r's output that r's
// alerts cannot fill although an alert of one event would. n is the
// output's node.
func (l *loader) groupOutput(f *srcFile, n *yaml.Node, r *Rule) {
	if r.output == nil {
		return
	}
	group, build := alertOfGroup(r)
	if build == nil {
		return
	}
	for _, p := range r.output.parts {
		if p.isVar && lostOnGroupAlert(r, p.field, build) {
			names := make([]string, len(group))
			for i, g := range group {
				names[i] = g.name
			}
			e := &Error{File: f.name, RuleID: r.ID, Field: p.field.name,
				Msg: "output: %" + p.field.name + " is not on this rule's alerts: an alert of a group carries its group_by fields (" +
					strings.Join(names, ", ") + ") and packetsleuth.alert.*, not the fields of one of its events"}
			e.Line, e.Column = scalarPos(f, n, p.at)
			l.add(e)
			return
		}
	}
}

// alertOfGroup returns r's group fields and how r's alerts are built from
// an event of the group; build is nil for rules that alert on one event.
func alertOfGroup(r *Rule) ([]field, func(ev *schemas.Event) *schemas.Event) {
	var group []field
	switch {
	case r.Absence != nil:
		group = r.Absence.groupBy
	case r.Threshold != nil && r.Threshold.below():
		group = r.thrGroup
	case r.Threshold != nil:
		return r.thrGroup, func(ev *schemas.Event) *schemas.Event {
			return newAlert(r, groupEvent(r, ev, 1), &thrResult{}, 0)
		}
	default:
		return nil, nil
	}
	return group, func(ev *schemas.Event) *schemas.Event {
		return groupAlert(r, group, string(appendGroupKey(nil, group, ev)), time.Unix(0, 1))
	}
}

// lostOnGroupAlert reports whether a value of fld in an event reaches an
// alert of that one event but not r's group alert.
func lostOnGroupAlert(r *Rule, fld field, build func(ev *schemas.Event) *schemas.Event) bool {
	var ev schemas.Event
	v := fld.value(&ev)
	setScalar(v, "1")
	if v.IsZero() {
		return false // not a scalar the probe can set
	}
	want := string(fld.appendValue(nil, &ev))
	if string(fld.appendValue(nil, newAlert(r, &ev, nil, 0))) != want {
		return false // not carried from the event by any alert: the rule's own
	}
	return string(fld.appendValue(nil, build(&ev))) != want
}
