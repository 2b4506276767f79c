package pipeline

import (
	"maps"
	"testing"

	"github.com/packetsleuth/packetsleuth/enrich"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/app"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
	"github.com/packetsleuth/packetsleuth/sensor/hosts"
)

// otherEnricher does not say which groups it writes.
type otherEnricher struct{}

func (otherEnricher) Enrich(ev *schemas.Event) { ev.Threat.Framework = "x" }

// A worker encodes its flow events told the groups of every writer it
// has: the sensor's enricher and host table say theirs; an enricher that
// does not say makes it look at them all. The writers' groups are added
// to those of the application layer's events that say theirs (a DNS
// event's), and to no event that is not the analyzer's.
func TestFlowGroupsOfTheWriters(t *testing.T) {
	shared, err := enrich.Open(enrich.Config{HomeNet: []string{"10.0.0.0/8"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer shared.Close()
	ew := shared.NewWorker().(*enrich.Worker)
	cases := []struct {
		name       string
		cfg        Config
		want, adds schemas.Groups
	}{
		{"flows only", Config{FlowsOnly: true}, flow.EventGroups | schemas.GroupAgent, schemas.GroupAgent},
		{"dpi", Config{}, flow.EventGroups | schemas.GroupAgent | app.FlowEndedGroups, schemas.GroupAgent},
		{"sensor", Config{Hosts: hosts.New(hosts.Config{}, nil), NewEnricher: func() Enricher { return shared.NewWorker() }},
			flow.EventGroups | schemas.GroupAgent | app.FlowEndedGroups | hosts.EnrichGroups | ew.Writes(),
			schemas.GroupAgent | hosts.EnrichGroups | ew.Writes()},
		{"other enricher", Config{NewEnricher: func() Enricher { return otherEnricher{} }}, 0, 0},
	}
	for _, c := range cases {
		w := newWorker(&c.cfg)
		if w.flowGroups != c.want {
			t.Errorf("%s: flow groups %#x, want %#x", c.name, w.flowGroups, c.want)
		}
		if w.adds != c.adds {
			t.Errorf("%s: groups the writers add %#x, want %#x", c.name, w.adds, c.adds)
		}
		if g := w.appGroups(&w.ev); g != 0 {
			t.Errorf("%s: the flow event taken for the analyzer's: groups %#x", c.name, g)
		}
	}
}

// Stats.Events counts each dataset's events as the output got them, on a
// mix whose datasets come in runs of one and of many (a worker counts a
// run before it adds it to the map), with 1 worker and 2.
func TestStatsCountEventsByDataset(t *testing.T) {
	plain, _ := writeMix(t, 8<<20, 5)
	for _, workers := range []int{1, 2} {
		out, st := replay(t, Config{Workers: workers}, plain)
		want := map[string]uint64{}
		runs, prev := 0, ""
		for _, ev := range out.events {
			ds := str(ev, "event.dataset")
			want[ds]++
			if ds != prev {
				runs++
			}
			prev = ds
		}
		if len(want) < 3 || runs < 2*len(want) {
			t.Fatalf("%d datasets in %d runs: not a mix", len(want), runs)
		}
		if !maps.Equal(st.Events, want) {
			t.Errorf("%d workers: Stats.Events %v, the output got %v", workers, st.Events, want)
		}
	}
}
