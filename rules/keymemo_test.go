package rules

import (
	"fmt"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// Threshold rules grouping by the same fields share an event's group key
// and its hash (prepare); each still counts its own groups.
func TestGroupKeySharedByRules(t *testing.T) {
	set := mustLoad(t, `
rules:
  - id: PAIR-COUNT
    name: pair count
    severity: low
    condition: event.dataset == "packetsleuth.flow"
    threshold: {type: count, group_by: [source.ip, destination.ip], window: 1m, gte: 3}
  - id: SRC-PORTS
    name: source ports
    severity: low
    condition: event.dataset == "packetsleuth.flow"
    threshold: {type: distinct, field: destination.port, group_by: [source.ip], window: 1m, gte: 3}
  - id: PAIR-PORTS
    name: pair ports
    severity: low
    condition: event.dataset == "packetsleuth.flow" and destination.port != 22
    threshold: {type: distinct, field: destination.port, group_by: [source.ip, destination.ip], window: 1m, gte: 2}
  - id: DST-SRC
    name: reversed pair
    severity: low
    condition: event.dataset == "packetsleuth.flow"
    threshold: {type: count, group_by: [destination.ip, source.ip], window: 1m, gte: 4}
`)
	e := NewEvaluator(set, EvalOptions{})
	if got := fmt.Sprint(e.keyOf); got != "[0 1 0 3]" {
		t.Errorf("key of each rule: %s, want [0 1 0 3]", got)
	}
	if st := e.local.rules; st[0].groups.seed != st[2].dgroups.seed {
		t.Error("the rules' groups hash with different seeds")
	}
	var evs []schemas.Event
	for i, port := range []int{22, 80, 81, 82} {
		ev := flowEvent("10.0.0.1", "10.0.0.2", port)
		ev.Timestamp = t0.Add(time.Duration(i) * time.Second)
		evs = append(evs, ev)
	}
	evs = append(evs, flowEvent("10.0.0.1", "10.0.0.3", 80)) // another pair: new groups
	var got []string
	for _, a := range collect(e, evs...) {
		got = append(got, a.Rule.ID+"@"+fmt.Sprint(a.Sensor.Alert.Count))
	}
	want := "[PAIR-COUNT@3 SRC-PORTS@3 PAIR-PORTS@2 DST-SRC@4]"
	if fmt.Sprint(got) != want {
		t.Errorf("alerts %v, want %s", got, want)
	}
}
