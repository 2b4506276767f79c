package rules

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

const seqRule = `
rules:
  - id: SEQ-1
    name: resolved then contacted
    sequence:
      window: 5m
      steps:
        - name: lookup
          condition: event.dataset == "packetsleuth.dns" and dns.question.name endsWith ".bad.example"
          by: [source.ip, dns.resolved_ip]
        - name: connect
          condition: event.dataset == "packetsleuth.flow"
          by: [source.ip, destination.ip]
    output: "%source.ip connected to %destination.ip after looking it up"
    severity: high
`

func dnsAnswer(at time.Duration, src, name string, ips ...string) schemas.Event {
	var e schemas.Event
	e.Timestamp = t0.Add(at)
	e.Event.Kind, e.Event.Dataset = "event", schemas.DatasetDNS
	e.Source.IP, e.Destination.IP = src, "10.0.0.53"
	e.DNS.Question.Name, e.DNS.ResolvedIP = name, ips
	return e
}

func flowAt(at time.Duration, src, dst string) schemas.Event {
	e := flowEvent(src, dst, 443)
	e.Timestamp = t0.Add(at)
	return e
}

func TestSequence(t *testing.T) {
	set := mustLoad(t, seqRule)
	for _, c := range []struct {
		name   string
		events []schemas.Event
		want   int
	}{
		{"lookup then connect to the second answer", []schemas.Event{
			dnsAnswer(0, "10.0.0.5", "c2.bad.example", "192.0.2.1", "192.0.2.2"),
			flowAt(time.Minute, "10.0.0.5", "192.0.2.2")}, 1},
		{"connect to another address", []schemas.Event{
			dnsAnswer(0, "10.0.0.5", "c2.bad.example", "192.0.2.1"),
			flowAt(time.Minute, "10.0.0.5", "198.51.100.1")}, 0},
		{"another host connects", []schemas.Event{
			dnsAnswer(0, "10.0.0.5", "c2.bad.example", "192.0.2.1"),
			flowAt(time.Minute, "10.0.0.6", "192.0.2.1")}, 0},
		{"too late", []schemas.Event{
			dnsAnswer(0, "10.0.0.5", "c2.bad.example", "192.0.2.1"),
			flowAt(6*time.Minute, "10.0.0.5", "192.0.2.1")}, 0},
		{"wrong order", []schemas.Event{
			flowAt(0, "10.0.0.5", "192.0.2.1"),
			dnsAnswer(time.Second, "10.0.0.5", "c2.bad.example", "192.0.2.1")}, 0},
		{"benign name", []schemas.Event{
			dnsAnswer(0, "10.0.0.5", "www.example.com", "192.0.2.1"),
			flowAt(time.Minute, "10.0.0.5", "192.0.2.1")}, 0},
		{"completed sequences do not fire twice", []schemas.Event{
			dnsAnswer(0, "10.0.0.5", "c2.bad.example", "192.0.2.1"),
			flowAt(time.Minute, "10.0.0.5", "192.0.2.1"),
			flowAt(2*time.Minute, "10.0.0.5", "192.0.2.1")}, 1},
	} {
		alerts := collect(NewEvaluator(set, EvalOptions{}), c.events...)
		if len(alerts) != c.want {
			t.Errorf("%s: %d alerts, want %d", c.name, len(alerts), c.want)
			continue
		}
		if c.want == 1 {
			a := alerts[0]
			if a.Message != "10.0.0.5 connected to "+a.Destination.IP+" after looking it up" || !a.Event.Start.Equal(t0) ||
				strings.Join(a.Sensor.Alert.Matched, ",") != "lookup,connect" {
				t.Errorf("%s: alert %q start %v matched %v", c.name, a.Message, a.Event.Start, a.Sensor.Alert.Matched)
			}
		}
	}
	// the rule is indexed under both datasets, and only them
	if r := set.Rule("SEQ-1"); strings.Join(slices.Sorted(slices.Values(r.Datasets)), ",") != "packetsleuth.dns,packetsleuth.flow" {
		t.Errorf("datasets %v", r.Datasets)
	}
	// with state shared by several workers, as the sensor runs it
	shared := EvalOptions{Shared: NewSharedState(set, EvalOptions{})}
	a, b := NewEvaluator(set, shared), NewEvaluator(set, shared)
	dns, flow := dnsAnswer(0, "10.0.0.5", "c2.bad.example", "192.0.2.1"), flowAt(time.Minute, "10.0.0.5", "192.0.2.1")
	if len(collect(a, dns)) != 0 || len(collect(b, flow)) != 1 {
		t.Error("a sequence split across workers did not fire")
	}
}

// An unordered sequence (Sigma's temporal correlation) fires when every
// step has matched within the window, in any order.
func TestUnorderedSequence(t *testing.T) {
	set := mustLoad(t, strings.Replace(seqRule, "window: 5m", "window: 5m\n      ordered: false", 1))
	for _, c := range []struct {
		name   string
		events []schemas.Event
		want   int
		start  time.Duration
	}{
		{"lookup then connect", []schemas.Event{
			dnsAnswer(0, "10.0.0.5", "c2.bad.example", "192.0.2.1"),
			flowAt(time.Minute, "10.0.0.5", "192.0.2.1")}, 1, 0},
		{"connect then lookup", []schemas.Event{
			flowAt(0, "10.0.0.5", "192.0.2.1"),
			dnsAnswer(time.Second, "10.0.0.5", "c2.bad.example", "192.0.2.1")}, 1, 0},
		{"too far apart", []schemas.Event{
			flowAt(0, "10.0.0.5", "192.0.2.1"),
			dnsAnswer(6*time.Minute, "10.0.0.5", "c2.bad.example", "192.0.2.1")}, 0, 0},
		{"an old step no longer counts, a fresh one does", []schemas.Event{
			flowAt(0, "10.0.0.5", "192.0.2.1"),
			flowAt(4*time.Minute, "10.0.0.5", "192.0.2.1"),
			dnsAnswer(8*time.Minute, "10.0.0.5", "c2.bad.example", "192.0.2.1")}, 1, 4 * time.Minute},
		{"another host", []schemas.Event{
			flowAt(0, "10.0.0.6", "192.0.2.1"),
			dnsAnswer(time.Second, "10.0.0.5", "c2.bad.example", "192.0.2.1")}, 0, 0},
		{"one step twice is not both", []schemas.Event{
			flowAt(0, "10.0.0.5", "192.0.2.1"),
			flowAt(time.Second, "10.0.0.5", "192.0.2.1")}, 0, 0},
	} {
		alerts := collect(NewEvaluator(set, EvalOptions{}), c.events...)
		if len(alerts) != c.want {
			t.Errorf("%s: %d alerts, want %d", c.name, len(alerts), c.want)
			continue
		}
		if c.want == 1 && !alerts[0].Event.Start.Equal(t0.Add(c.start)) {
			t.Errorf("%s: start %v, want %v", c.name, alerts[0].Event.Start, t0.Add(c.start))
		}
	}
}

func TestSequenceErrors(t *testing.T) {
	for body, want := range map[string]string{
		"condition: x == 1\n    sequence: {window: 1m, steps: [{condition: 'true', by: [source.ip]}, {condition: 'true', by: [source.ip]}]}": "give condition or sequence, not both",
		"sequence: {window: 1m, steps: [{condition: 'true', by: [source.ip]}]}":                                                              "2 to 8 steps",
		"sequence: {window: 1m, steps: [{condition: 'true', by: [source.ip]}, {condition: 'true', by: [source.ip, destination.ip]}]}":        "as many fields as step 1's",
		"sequence: {window: 1m, steps: [{condition: 'true', by: [source.ipp]}, {condition: 'true', by: [source.ip]}]}":                       `unknown field "source.ipp"`,
		"sequence: {steps: [{condition: 'true', by: [source.ip]}, {condition: 'true', by: [source.ip]}]}":                                    "window is required",
		"sequence: {window: 1m, steps: [{condition: 'dns.question.nme == 1', by: [source.ip]}, {condition: 'true', by: [source.ip]}]}":       `sequence step step1: condition: unknown field "dns.question.nme"`,
	} {
		errs := loadErrors("rules:\n  - id: S\n    name: s\n    severity: low\n    " + body + "\n")
		if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), want) {
			t.Errorf("%s:\n%q, want %s", body, errs, want)
		}
	}
}

func TestSequenceDatasetsInOrder(t *testing.T) {
	set := mustLoad(t, `
rules:
  - id: SEQ-DS
    name: four datasets
    sequence:
      window: 1m
      steps:
        - condition: event.dataset == "packetsleuth.tls"
          by: [source.ip]
        - condition: event.dataset == "packetsleuth.dns"
          by: [source.ip]
        - condition: event.dataset == "packetsleuth.http"
          by: [source.ip]
        - condition: event.dataset == "packetsleuth.flow"
          by: [source.ip]
    severity: low
`)
	got := set.Rule("SEQ-DS").Datasets
	want := []string{"packetsleuth.dns", "packetsleuth.flow", "packetsleuth.http", "packetsleuth.tls"}
	if !slices.Equal(got, want) {
		t.Errorf("datasets %v, want %v (sorted, the same at every load)", got, want)
	}
}

// A sequence's steps pinned to other datasets than an event's are not
// judged on it: the rule of seqRule runs on DNS and flow events, its
// lookup step on DNS events only, its connect step on flow events only.
// A step pinned to one dataset is compiled without its dataset terms.
func TestSequenceStepsOfDataset(t *testing.T) {
	set := mustLoad(t, seqRule+`
  - id: SEQ-ANY
    name: any then flow
    sequence:
      window: 5m
      steps:
        - {condition: 'source.port > 0', by: [source.ip]}
        - {condition: 'event.dataset == "packetsleuth.flow" and destination.port == 80', by: [source.ip]}
    severity: low
`)
	e := NewEvaluator(set, EvalOptions{})
	steps := func(ds dsRules, id string) uint8 {
		for i, r := range ds.rules {
			if r.ID == id {
				return ds.steps[i]
			}
		}
		t.Fatalf("%s not in the list", id)
		return 0
	}
	for _, c := range []struct {
		ds   dsRules
		id   string
		want uint8
	}{
		{e.byDataset[schemas.DatasetDNS], "SEQ-1", 0b01},
		{e.byDataset[schemas.DatasetFlow], "SEQ-1", 0b10},
		{e.byDataset[schemas.DatasetFlow], "SEQ-ANY", 0b11},
		{e.byDataset[schemas.DatasetDNS], "SEQ-ANY", 0b01},
		{e.unpinned, "SEQ-ANY", 0b11},
	} {
		if got := steps(c.ds, c.id); got != c.want {
			t.Errorf("%s: steps %b, want %b", c.id, got, c.want)
		}
	}
	connect := set.Rule("SEQ-ANY").Sequence.Steps[1]
	ev := flowEvent("10.0.0.1", "10.0.0.2", 80)
	ev.Event.Dataset = "packetsleuth.dns" // pinned: the dataset is not read again
	if !connect.native(&natEnv{ev: &ev}) {
		t.Error("a step pinned to flow events reads event.dataset")
	}
}
