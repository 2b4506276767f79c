package rules

import (
	"fmt"
	"testing"
	"testing/fstest"
)

// A test's events are expanded when the case runs, not at load: _repeat
// copies, _every steps and _vary values as written, and the next event
// continues from the last copy's time.
func TestTestEventsExpanded(t *testing.T) {
	set, errs := Load(fstest.MapFS{"r.yaml": {Data: []byte(`rules:
  - id: X-1
    name: x
    severity: low
    condition: source.port == 1
    tests:
      - name: varied
        events:
          - {source.ip: 10.0.0.254, source.port: 40000, dns.question.name: "h{n}.example", destination.ip: "::ffff",
             _repeat: 3, _every: 1s, _vary: [source.ip, source.port, dns.question.name, destination.ip]}
          - {source.ip: 10.0.0.1, url.domain: d}
        expect_none: true
`)}}, "r.yaml")
	if errs != nil {
		t.Fatal(errs)
	}
	r := set.Rule("X-1")
	if len(r.Tests) != 1 {
		t.Fatalf("%d test cases", len(r.Tests))
	}
	var got []string
	for _, ev := range r.Tests[0].Events() {
		got = append(got, fmt.Sprintf("%s %s:%d %s %s %s %s", ev.Timestamp.Sub(TestEpoch), ev.Source.IP, ev.Source.Port,
			ev.DNS.Question.Name, ev.Destination.IP, ev.URL.Domain, ev.Event.Kind))
	}
	want := []string{
		"0s 10.0.0.254:40000 h0.example ::ffff  event",
		"1s 10.0.0.255:40001 h1.example ::1:0  event",
		"2s 10.0.1.0:40002 h2.example ::1:1  event",
		"2.01s 10.0.0.1:0   d event",
	}
	expectLines(t, got, want)
	// Each call expands afresh: a caller changing its events changes no other's.
	evs := r.Tests[0].Events()
	evs[0].Source.IP = "x"
	if again := r.Tests[0].Events(); again[0].Source.IP != "10.0.0.254" || len(again) != 4 {
		t.Errorf("second expansion: %d events, first from %s", len(again), again[0].Source.IP)
	}
}

// The load still meets every error expanding would: the first one in
// expansion order (copy by copy, field by field), though it keeps no copy.
func TestTestEventVaryErrors(t *testing.T) {
	errs := loadErrors(`rules:
  - {id: V-1, name: v, severity: low, condition: source.port == 1, tests: [
      {name: overflow, expect_none: true, events: [{source.ip: 255.255.255.250, _repeat: 7, _vary: [source.ip]}]},
      {name: fits, expect_none: true, events: [{source.ip: 255.255.255.250, _repeat: 6, _vary: [source.ip]}]},
      {name: second-first, expect_none: true, events: [
        {source.ip: 255.255.255.200, destination.ip: 255.255.255.254, _repeat: 60, _vary: [source.ip, destination.ip]}]},
      {name: kind, expect_none: true, events: [
        {source.ip: 255.255.255.254, network.protocol: x, _repeat: 5, _vary: [source.ip, url.port, tls.established]}]}]}
`)
	want := []string{
		`r.yaml:3:52: rule V-1: test "overflow" event 1: _vary: source.ip overflows`,
		`r.yaml:6:9: rule V-1: test "second-first" event 1: _vary: destination.ip overflows`,
		`r.yaml:8:9: rule V-1: test "kind" event 1: _vary: tls.established is not an integer or string`,
	}
	expectLines(t, errs, want)
}
