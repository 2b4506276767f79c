package rules

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// A threshold's alert is the same whichever of the group's events crosses
// the threshold: its group's fields, count and members, at the newest
// time counted. With several workers, the order in which a group's events
// reach the shared state is theirs to choose.
func TestThresholdAlertIgnoresEventOrder(t *testing.T) {
	set := mustLoad(t, `
rules:
  - id: SCAN-1
    name: ports
    condition: event.dataset == "packetsleuth.flow"
    threshold: {type: distinct, field: destination.port, group_by: [source.ip, destination.ip], window: 60s, gte: 10}
    output: "%source.ip probed %packetsleuth.alert.count ports of %destination.ip"
    severity: low
`)
	var events []schemas.Event
	for i := range 10 {
		e := flowAt(time.Duration(i)*time.Second, "10.0.0.7", "192.0.2.1")
		e.Destination.Port = 100 + i
		e.Source.Port = 40000 + i
		e.Network.Bytes = int64(60 * i)
		events = append(events, e)
	}
	var want []byte
	rng := rand.New(rand.NewPCG(1, 2))
	for run := range 20 {
		order := slices.Clone(events)
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		alerts := collect(NewEvaluator(set, EvalOptions{Shared: NewSharedState(set, EvalOptions{})}), order...)
		if len(alerts) != 1 {
			t.Fatalf("run %d: %d alerts", run, len(alerts))
		}
		a := alerts[0]
		if a.Source.Port != 0 || a.Destination.Port != 0 || a.Network.Bytes != 0 || a.Source.IP != "10.0.0.7" || a.Destination.IP != "192.0.2.1" {
			t.Fatalf("run %d: alert carries %+v %+v %+v", run, a.Source, a.Destination, a.Network)
		}
		if !a.Timestamp.Equal(t0.Add(9*time.Second)) || !slices.Equal(a.Related.IP, []string{"10.0.0.7", "192.0.2.1"}) {
			t.Fatalf("run %d: alert at %v, related %v", run, a.Timestamp.Sub(t0), a.Related.IP)
		}
		b, err := schemas.Encode(nil, a)
		if err != nil {
			t.Fatal(err)
		}
		if run == 0 {
			want = b
		} else if string(b) != string(want) {
			t.Fatalf("run %d: alert\n%s\nwant\n%s", run, b, want)
		}
	}
}
