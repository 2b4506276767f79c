package rules

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

func TestThresholdFewerThan(t *testing.T) {
	set := mustLoad(t, `
rules:
  - id: LOW-1
    name: fewer than 3 heartbeats in 10 minutes
    condition: event.dataset == "packetsleuth.flow" and destination.port == 514
    threshold: {type: count, group_by: [source.ip], window: 10m, lt: 3}
    output: "%source.ip: %packetsleuth.alert.count heartbeats"
    severity: low
`)
	var events []schemas.Event
	add := func(at time.Duration, src string) {
		e := flowAt(at, src, "10.0.0.1")
		e.Destination.Port = 514
		events = append(events, e)
	}
	for m := 0; m < 40; m++ {
		add(time.Duration(m)*time.Minute, "10.0.0.7") // steady: 10 per window
	}
	add(30*time.Second, "10.0.0.8") // two in its first window...
	add(90*time.Second, "10.0.0.8")
	add(25*time.Minute, "10.0.0.8") // ...then one in a later window, closed by the clock
	sortByTime(events)
	for _, opts := range []EvalOptions{{}, {Shared: NewSharedState(set, EvalOptions{})}} {
		alerts := collect(NewEvaluator(set, opts), events...)
		var got []string
		for _, a := range alerts {
			got = append(got, a.Timestamp.Sub(t0).String()+" "+a.Message)
		}
		want := "10m30s 10.0.0.8: 2 heartbeats|35m0s 10.0.0.8: 1 heartbeats"
		if strings.Join(got, "|") != want {
			t.Errorf("alerts %q, want %q", got, want)
		}
	}
}

func TestThresholdAverage(t *testing.T) {
	set := mustLoad(t, `
rules:
  - id: AVG-1
    name: large flows on average
    condition: event.dataset == "packetsleuth.flow"
    threshold: {type: avg, field: network.bytes, group_by: [source.ip], window: 1m, gt: 1000}
    severity: low
`)
	var events []schemas.Event
	for i, b := range []int64{500, 1500, 1500} {
		e := flowAt(time.Duration(i)*time.Second, "10.0.0.9", "192.0.2.1")
		e.Network.Bytes = b
		events = append(events, e)
	}
	alerts := collect(NewEvaluator(set, EvalOptions{}), events...)
	if len(alerts) != 1 || alerts[0].Sensor.Alert.Count != 1166 || !alerts[0].Timestamp.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("alerts %+v", alerts)
	}
}

func TestThresholdFewerThanErrors(t *testing.T) {
	for body, want := range map[string]string{
		"threshold: {type: distinct, field: destination.port, window: 1m, lt: 3}":               "lt counts fewer than N in a window: use count, sum or avg",
		"threshold: {type: count, window: 1m, lt: 3}\n    suppress: {by: [source.ip], for: 1h}": "suppress does not apply to lt/lte",
		"threshold: {type: avg, field: source.ip, window: 1m, gte: 3}":                          "avg needs a numeric field",
		"threshold: {type: count, window: 1m, lt: 0}":                                           "lt 0 can never hold",
	} {
		errs := loadErrors("rules:\n  - id: L\n    name: l\n    severity: low\n    condition: event.dataset == \"packetsleuth.flow\"\n    " + body + "\n")
		if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), want) {
			t.Errorf("%s:\n%q, want %s", body, errs, want)
		}
	}
}

func sortByTime(evs []schemas.Event) {
	slices.SortStableFunc(evs, func(a, b schemas.Event) int { return a.Timestamp.Compare(b.Timestamp) })
}
