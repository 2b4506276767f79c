package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

const absenceRule = `
rules:
  - id: ABS-1
    name: heartbeat host went silent
    condition: event.dataset == "packetsleuth.flow" and destination.port == 514
    absence: {group_by: [source.ip], after: 10m}
    output: "%source.ip silent since %packetsleuth.alert.window"
    severity: medium
`

func TestAbsence(t *testing.T) {
	set := mustLoad(t, absenceRule)
	var events []schemas.Event
	for m := 0; m <= 30; m++ {
		if m <= 5 {
			events = append(events, flowAt(time.Duration(m)*time.Minute, "10.0.0.7", "10.0.0.1"))
		}
		events = append(events, flowAt(time.Duration(m)*time.Minute+time.Second, "10.0.0.8", "10.0.0.1"))
	}
	for i := range events {
		events[i].Destination.Port = 514
	}
	for _, opts := range []EvalOptions{{}, {Shared: NewSharedState(set, EvalOptions{})}} {
		alerts := collect(NewEvaluator(set, opts), events...)
		if len(alerts) != 1 {
			t.Fatalf("%d alerts, want 1", len(alerts))
		}
		a := alerts[0]
		if a.Source.IP != "10.0.0.7" || !a.Event.Start.Equal(t0.Add(5*time.Minute)) || !a.Timestamp.Equal(t0.Add(15*time.Minute)) ||
			a.Message != "10.0.0.7 silent since 10m0s" || a.Rule.ID != "ABS-1" || a.Sensor.Alert.Group[0] != "source.ip=10.0.0.7" {
			t.Errorf("alert %+v %q", a.Event, a.Message)
		}
	}
	// a silence still open at the end of the input raises nothing
	if n := len(collect(NewEvaluator(set, EvalOptions{}), events[:5]...)); n != 0 {
		t.Errorf("%d alerts for a silence that had not lasted", n)
	}
}

func TestAbsenceErrors(t *testing.T) {
	for body, want := range map[string]string{
		"condition: flow_event\n    absence: {group_by: [source.ip]}":                                                              "absence: after is required",
		"condition: flow_event\n    absence: {after: 1m}":                                                                          "group_by is required",
		"condition: flow_event\n    absence: {group_by: [source.ip], after: 1m}\n    threshold: {type: count, window: 1m, gte: 2}": "absence takes no threshold",
	} {
		src := "macros:\n  - {name: flow_event, condition: 'event.dataset == \"packetsleuth.flow\"'}\nrules:\n  - id: A\n    name: a\n    severity: low\n    " + body + "\n"
		errs := loadErrors(src)
		if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), want) {
			t.Errorf("%s:\n%q, want %s", body, errs, want)
		}
	}
}
