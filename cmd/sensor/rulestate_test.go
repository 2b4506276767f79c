package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/rules"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// A SYN scan of many ports from many sources fills the shipped scan rules'
// state, drawn from each worker's account; after a rule reload every
// worker's next event gives the old state's memory back (it would stay
// reserved for the life of the process).
func TestRuleStateDrawsOnBudgetAndReloadGivesItBack(t *testing.T) {
	set, errs := rules.LoadFiles(rules.Options{Defaults: true})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	probe := func(i int) *schemas.Event {
		var e schemas.Event
		e.Timestamp = at.Add(time.Duration(i) * time.Millisecond)
		e.Event.Kind, e.Event.Dataset = "event", schemas.DatasetFlow
		e.Network.Transport = "tcp"
		e.Source.IP, e.Source.Port = fmt.Sprintf("198.51.%d.%d", i/64%256, i%64), 40000
		e.Destination.IP, e.Destination.Port = "192.0.2.1", 1+i%1000
		e.Sensor.Flow.State = "REJ"
		return &e
	}
	for _, workers := range []int{1, 2} {
		b := budget.New(0)
		sw := newRuleSwitch(set, &Config{}, workers)
		dets := make([]*switchedDetector, workers)
		for w := range dets {
			dets[w] = sw.newDetector().(*switchedDetector)
			dets[w].UseBudget(b.NewAccount())
		}
		for i := range 20000 {
			dets[i%workers].Eval(probe(i), func(*schemas.Event) {})
		}
		for _, d := range dets {
			d.Publish()
		}
		held := b.Stats().Pools[budget.Rules].Used
		if st := sw.Stats().State; held < 100<<10 || st.Bytes != held {
			t.Fatalf("workers %d: the scan's state holds %d bytes of the budget, its stats say %d", workers, held, st.Bytes)
		}
		sw.install(set) // what Reload does with the files reloaded
		for w, d := range dets {
			d.Eval(probe(w), func(*schemas.Event) {})
		}
		if after := b.Stats().Pools[budget.Rules].Used; after > 16<<10 {
			t.Errorf("workers %d: %d bytes held after the reload (%d before)", workers, after, held)
		}
	}
}

// A running sensor's rules do not keep their test cases (their events are
// tens of MB for the shipped set): the load checked them, and only
// `sensor rules test` runs them.
func TestRuleSwitchDropsTestCases(t *testing.T) {
	set, errs := rules.LoadFiles(rules.Options{Defaults: true})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	cases := 0
	for _, r := range set.Rules() {
		cases += len(r.Tests)
	}
	if cases == 0 {
		t.Fatal("the shipped rules have no test cases: nothing to drop")
	}
	newRuleSwitch(set, &Config{}, 1)
	for _, r := range set.Rules() {
		if len(r.Tests) > 0 {
			t.Fatalf("rule %s keeps %d test case(s) in a running sensor", r.ID, len(r.Tests))
		}
	}
}
