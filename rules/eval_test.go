package rules

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

type schemasEvent = schemas.Event

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func flowEvent(src, dst string, port int) schemas.Event {
	var e schemas.Event
	e.Timestamp = t0
	e.Event.Kind = "event"
	e.Event.Dataset = schemas.DatasetFlow
	e.Network.Transport = "tcp"
	e.Network.CommunityID = "1:abc"
	e.Source.IP, e.Source.Port = src, 40000
	e.Destination.IP, e.Destination.Port = dst, port
	return e
}

func mustLoad(t testing.TB, yaml string) *Set {
	t.Helper()
	set, errs := Load(fstest.MapFS{"r.yaml": {Data: []byte(yaml)}}, "r.yaml")
	for _, err := range errs {
		t.Fatal(err)
	}
	return set
}

func collect(ev *Evaluator, events ...schemas.Event) []*schemas.Event {
	var out []*schemas.Event
	for i := range events {
		ev.Eval(&events[i], func(a *schemas.Event) { out = append(out, a) })
	}
	return out
}

func TestStatelessAlertFields(t *testing.T) {
	set := mustLoad(t, `
rules:
  - id: S-1
    name: to port 4444
    description: desc
    condition: event.dataset == "packetsleuth.flow" and destination.port == 4444
    severity: critical
    tags: [a, b]
    references: [https://example.org/r]
    author: [me]
    threat:
      - tactic: {id: TA0011, name: Command and Control}
        technique: {id: T1571, name: Non-Standard Port}
`)
	in := flowEvent("10.0.0.1", "192.0.2.1", 4444)
	in.DNS.ResolvedIP = []string{"192.0.2.1"}
	alerts := collect(NewEvaluator(set, EvalOptions{}), in, flowEvent("10.0.0.1", "192.0.2.1", 443))
	if len(alerts) != 1 {
		t.Fatalf("%d alerts", len(alerts))
	}
	a := alerts[0]
	if a.Event.Kind != "alert" || a.Event.Dataset != schemas.DatasetAlert || strings.Join(a.Event.Category, ",") != "network,intrusion_detection" {
		t.Errorf("event %+v", a.Event)
	}
	if a.Event.Severity != SeverityCritical || a.Event.RiskScore != SeverityCritical {
		t.Errorf("severity %d risk %v", a.Event.Severity, a.Event.RiskScore)
	}
	if a.Rule.ID != "S-1" || a.Rule.Description != "desc" || a.Rule.Reference != "https://example.org/r" || a.Rule.Category != "Command and Control" || a.Rule.Version != "1" {
		t.Errorf("rule %+v", a.Rule)
	}
	if a.Threat.Framework != "MITRE ATT&CK" || a.Threat.Technique.ID[0] != "T1571" || a.Threat.Technique.Reference[0] != "https://attack.mitre.org/techniques/T1571/" {
		t.Errorf("threat %+v", a.Threat)
	}
	if !a.Timestamp.Equal(in.Timestamp) || a.Network.CommunityID != "1:abc" || a.Destination.Port != 4444 {
		t.Errorf("pivot fields %+v", a)
	}
	in.DNS.ResolvedIP[0] = "changed"
	if a.DNS.ResolvedIP[0] != "192.0.2.1" {
		t.Error("alert shares a slice with the triggering event")
	}
	if _, err := schemas.NewRecord(a); err != nil {
		t.Fatal(err)
	}
}

func thresholdSet(t testing.TB, th string) *Set {
	return mustLoad(t, `
rules:
  - id: TH
    name: threshold
    condition: event.dataset == "packetsleuth.flow"
    severity: low
    threshold: `+th+`
`)
}

func at(e schemas.Event, d time.Duration) schemas.Event {
	e.Timestamp = t0.Add(d)
	return e
}

// TestThresholdSlidesOnEventTime: events at 0, 8, 12, 16 s with gte 3 in a
// 10 s window fire at 16 s ((6, 16] holds three) — a tumbling window
// starting at 0 would never fire. Wall-clock time plays no part.
func TestThresholdSlidesOnEventTime(t *testing.T) {
	set := thresholdSet(t, `{type: count, group_by: [destination.ip], window: 10s, gte: 3}`)
	e := flowEvent("10.0.0.1", "192.0.2.1", 80)
	ev := NewEvaluator(set, EvalOptions{})
	var fired []time.Duration
	for _, s := range []int{0, 8, 12, 16} {
		x := at(e, time.Duration(s)*time.Second)
		ev.Eval(&x, func(a *schemas.Event) {
			fired = append(fired, a.Timestamp.Sub(t0))
			if a.Sensor.Alert.Count != 3 || a.Sensor.Alert.Window != "10s" || a.Sensor.Alert.Group[0] != "destination.ip=192.0.2.1" {
				t.Errorf("alert info %+v", a.Sensor.Alert)
			}
		})
	}
	if len(fired) != 1 || fired[0] != 16*time.Second {
		t.Errorf("fired at %v", fired)
	}
	// Spread out: never three within 10 s.
	ev = NewEvaluator(set, EvalOptions{})
	if n := len(collect(ev, at(e, 0), at(e, 11*time.Second), at(e, 22*time.Second), at(e, 33*time.Second))); n != 0 {
		t.Errorf("%d alerts for spread events", n)
	}
	// Groups are separate.
	ev = NewEvaluator(set, EvalOptions{})
	f2 := flowEvent("10.0.0.1", "192.0.2.2", 80)
	if n := len(collect(ev, at(e, 0), at(f2, time.Second), at(e, 2*time.Second), at(f2, 3*time.Second))); n != 0 {
		t.Errorf("groups mixed: %d alerts", n)
	}
}

func TestThresholdOutOfOrderAndLate(t *testing.T) {
	set := thresholdSet(t, `{type: count, group_by: [destination.ip], window: 10s, gte: 3}`)
	e := flowEvent("10.0.0.1", "192.0.2.1", 80)
	ev := NewEvaluator(set, EvalOptions{})
	// 5 s late but inside the window: counted.
	if n := len(collect(ev, at(e, 10*time.Second), at(e, 5*time.Second), at(e, 11*time.Second))); n != 1 {
		t.Errorf("in-window out-of-order: %d alerts", n)
	}
	ev = NewEvaluator(set, EvalOptions{})
	if n := len(collect(ev, at(e, 30*time.Second), at(e, 5*time.Second), at(e, 31*time.Second))); n != 0 {
		t.Errorf("late event counted: %d alerts", n)
	}
	if st := ev.Stats(); st.State.LateEvents != 1 {
		t.Errorf("late %d", st.State.LateEvents)
	}
}

func TestThresholdDistinctAndSum(t *testing.T) {
	set := thresholdSet(t, `{type: distinct, field: destination.port, group_by: [source.ip], window: 60s, gte: 5}`)
	ev := NewEvaluator(set, EvalOptions{})
	var evs []schemas.Event
	for i := 0; i < 10; i++ { // ports 1..4 twice each: 4 distinct
		evs = append(evs, at(flowEvent("10.0.0.1", "192.0.2.1", 1+i%4), time.Duration(i)*time.Second))
	}
	if n := len(collect(ev, evs...)); n != 0 {
		t.Errorf("4 distinct ports fired %d", n)
	}
	if a := collect(ev, at(flowEvent("10.0.0.1", "192.0.2.1", 9), 11*time.Second)); len(a) != 1 || a[0].Sensor.Alert.Count != 5 {
		t.Errorf("5th distinct port: %v", a)
	}
	// Distinct values older than the window do not count.
	ev = NewEvaluator(set, EvalOptions{})
	evs = evs[:0]
	for i := 0; i < 5; i++ {
		evs = append(evs, at(flowEvent("10.0.0.1", "192.0.2.1", 100+i), time.Duration(i)*20*time.Second))
	}
	if n := len(collect(ev, evs...)); n != 0 {
		t.Errorf("distinct across 80 s fired %d", n)
	}

	set = thresholdSet(t, `{type: sum, field: source.bytes, group_by: [source.ip], window: 1m, gte: 1000}`)
	ev = NewEvaluator(set, EvalOptions{})
	var got []int64
	for i := 0; i < 6; i++ {
		e := at(flowEvent("10.0.0.1", "192.0.2.1", 80), time.Duration(i)*time.Second)
		e.Source.Bytes = 300
		ev.Eval(&e, func(a *schemas.Event) { got = append(got, a.Sensor.Alert.Count) })
	}
	if len(got) != 1 || got[0] != 1200 {
		t.Errorf("sum alerts %v", got)
	}
}

func TestSuppression(t *testing.T) {
	set := mustLoad(t, `
rules:
  - id: SUP
    name: sup
    condition: event.dataset == "packetsleuth.flow"
    severity: low
    suppress: {by: [source.ip], for: 5m}
`)
	ev := NewEvaluator(set, EvalOptions{})
	a := flowEvent("10.0.0.1", "192.0.2.1", 80)
	b := flowEvent("10.0.0.2", "192.0.2.1", 80)
	alerts := collect(ev, at(a, 0), at(a, time.Minute), at(b, time.Minute), at(a, 2*time.Minute), at(a, 6*time.Minute))
	if len(alerts) != 3 {
		t.Fatalf("%d alerts", len(alerts))
	}
	if alerts[2].Source.IP != "10.0.0.1" || len(alerts[2].Sensor.Notes) != 1 || !strings.HasPrefix(alerts[2].Sensor.Notes[0], "2 earlier alerts") {
		t.Errorf("third alert %+v", alerts[2].Sensor)
	}
	if st := ev.Stats(); st.Suppressed != 2 || st.Alerts != 3 || st.Rules[0].Suppressed != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestBoundedGroups(t *testing.T) {
	set := thresholdSet(t, `{type: count, group_by: [source.ip], window: 1h, gte: 1000}`)
	ev := NewEvaluator(set, EvalOptions{MaxGroups: 100})
	for i := 0; i < 1000; i++ {
		e := at(flowEvent(fmt.Sprintf("10.0.%d.%d", i/256, i%256), "192.0.2.1", 80), time.Duration(i)*time.Millisecond)
		ev.Eval(&e, func(*schemas.Event) {})
	}
	st := ev.Stats()
	if st.State.Groups != 100 || st.State.EvictedGroups != 900 {
		t.Errorf("groups %d evicted %d", st.State.Groups, st.State.EvictedGroups)
	}
	// Groups whose window passed expire as event time moves on.
	set = thresholdSet(t, `{type: count, group_by: [source.ip], window: 1s, gte: 1000}`)
	ev = NewEvaluator(set, EvalOptions{})
	for i := 0; i < 1000; i++ {
		e := at(flowEvent(fmt.Sprintf("10.0.%d.%d", i/256, i%256), "192.0.2.1", 80), time.Duration(i)*10*time.Millisecond)
		ev.Eval(&e, func(*schemas.Event) {})
	}
	if st := ev.Stats(); st.State.Groups > 150 || st.State.ExpiredGroups == 0 {
		t.Errorf("groups %d expired %d", st.State.Groups, st.State.ExpiredGroups)
	}
}

// TestDeterministic: one worker, same input, same alerts in the same order.
func TestDeterministic(t *testing.T) {
	set, evs := shippedTestEvents(t)
	run := func() string {
		var sb strings.Builder
		ev := NewEvaluator(set, EvalOptions{IncludeDisabled: true})
		for i := range evs {
			ev.Eval(&evs[i], func(a *schemas.Event) { fmt.Fprintf(&sb, "%s %s %v\n", a.Rule.ID, a.Timestamp, a.Sensor.Alert) })
		}
		return sb.String()
	}
	a, b := run(), run()
	if a != b || a == "" {
		t.Errorf("runs differ or empty:\n%s\n---\n%s", a, b)
	}
}

// TestSharedState: the events of one group spread over four workers reach
// the threshold with a shared store, not with per-worker state.
func TestSharedState(t *testing.T) {
	set := thresholdSet(t, `{type: count, group_by: [destination.ip], window: 10s, gte: 100}`)
	run := func(shared *SharedState) int {
		var mu sync.Mutex
		n := 0
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ev := NewEvaluator(set, EvalOptions{Shared: shared})
				for i := 0; i < 30; i++ {
					e := at(flowEvent("10.0.0.1", "192.0.2.1", 80), time.Duration(i)*time.Millisecond)
					ev.Eval(&e, func(*schemas.Event) { mu.Lock(); n++; mu.Unlock() })
				}
			}()
		}
		wg.Wait()
		return n
	}
	if n := run(nil); n != 0 {
		t.Errorf("per-worker state fired %d (each worker sees 30)", n)
	}
	sh := NewSharedState(set, EvalOptions{})
	if n := run(sh); n != 1 {
		t.Errorf("shared state fired %d, want 1", n)
	}
	if st := sh.Stats(); st.Groups != 1 {
		t.Errorf("shared groups %d", st.Groups)
	}
}

func TestNonMatchingEvalDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	set, errs := LoadDefault()
	if errs != nil {
		t.Fatal(errs)
	}
	ev := NewEvaluator(set, EvalOptions{})
	for _, e := range mixEvents() {
		e := e
		ev.Eval(&e, func(*schemas.Event) { t.Fatalf("benign %s event alerted", e.Event.Dataset) })
		if n := testing.AllocsPerRun(200, func() { ev.Eval(&e, nil) }); n != 0 {
			t.Errorf("%s: %v allocs per Eval", e.Event.Dataset, n)
		}
	}
}

func TestHelpers(t *testing.T) {
	if !isPrivate("10.1.2.3") || !isPrivate("fd00::1") || isPrivate("8.8.8.8") || isPrivate("bogus") || !isPrivate("::ffff:192.168.1.1") {
		t.Error("isPrivate")
	}
	if entropy("") != 0 || entropy("aaaa") != 0 || entropy("ab") != 1 {
		t.Error("entropy")
	}
	if registeredDomain("www.example.co.uk.") != "example.co.uk" || registeredDomain("com") != "" {
		t.Error("registeredDomain")
	}
	if labelCount("a.b.c.") != 3 || labelCount("") != 0 || maxLabelLen("ab.abcd.a") != 4 {
		t.Error("labels")
	}
	if urlDecode("a%2Fb+c%zz") != "a/b c%zz" {
		t.Error(urlDecode("a%2Fb+c%zz"))
	}
	d := domainSet{"evil.example": {}}
	if !d.match("x.EVIL.example.") || d.match("notevil.example") || !d.match("evil.example") {
		t.Error("domainSet")
	}
	set := mustLoad(t, `
rules:
  - id: H
    name: helpers
    condition: >
      event.dataset == "packetsleuth.dns" and cidr_match(source.ip, "10.0.0.0/8") and label_count(dns.question.name) == 3
      and registered_domain(dns.question.name) == "example.com" and entropy(dns.question.name) > 2.0
      and dns.question.name matches "^a\\." and not is_private(destination.ip) and not intel_match("ipv4-addr")
    severity: low
`)
	var e schemas.Event
	e.Event.Dataset = schemas.DatasetDNS
	e.Source.IP, e.Destination.IP = "10.0.0.1", "8.8.8.8"
	e.DNS.Question.Name = "a.example.com"
	if n := len(collect(NewEvaluator(set, EvalOptions{}), e)); n != 1 {
		t.Errorf("helpers rule: %d alerts", n)
	}
}

// mixEvents are benign flow, DNS, HTTP and TLS events.
func mixEvents() []schemas.Event {
	f := flowEvent("10.0.0.10", "93.184.216.34", 443)
	f.Sensor.Flow.State = "SF"
	f.Source.Bytes, f.Destination.Bytes = 1200, 50000
	var d schemas.Event
	d.Timestamp, d.Event.Kind, d.Event.Dataset = t0, "event", schemas.DatasetDNS
	d.Source.IP, d.Destination.IP = "10.0.0.10", "10.0.0.2"
	d.DNS.Question.Name, d.DNS.Question.Type, d.DNS.ResponseCode = "www.example.com", "A", "NOERROR"
	var h schemas.Event
	h.Timestamp, h.Event.Kind, h.Event.Dataset = t0, "event", schemas.DatasetHTTP
	h.Source.IP, h.Destination.IP = "10.0.0.10", "93.184.216.34"
	h.URL.Original, h.URL.Scheme, h.URL.Domain = "/index.html?lang=en", "http", "www.example.com"
	h.UserAgent.Original = "Mozilla/5.0 (X11; Linux x86_64; rv:135.0) Gecko/20100101 Firefox/135.0"
	h.HTTP.Response.StatusCode = 200
	var s schemas.Event
	s.Timestamp, s.Event.Kind, s.Event.Dataset = t0, "event", schemas.DatasetTLS
	s.Source.IP, s.Destination.IP = "10.0.0.10", "93.184.216.34"
	s.TLS.Version, s.TLS.VersionProtocol = "1.3", "tls"
	s.TLS.Client.ServerName = "www.example.com"
	s.TLS.Server.NotAfter = t0.AddDate(0, 1, 0)
	return []schemas.Event{f, d, h, s}
}

// BenchmarkEval runs the whole shipped set (stable and experimental rules
// enabled) over a mix of flow, DNS, HTTP and TLS events.
func BenchmarkEval(b *testing.B) {
	set, errs := LoadDefault()
	if errs != nil {
		b.Fatal(errs)
	}
	ev := NewEvaluator(set, EvalOptions{IncludeDisabled: true})
	evs := mixEvents()
	alerts := 0
	emit := func(*schemas.Event) { alerts++ }
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := &evs[i%len(evs)]
		e.Timestamp = t0.Add(time.Duration(i) * time.Microsecond)
		ev.Eval(e, emit)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	st := ev.Stats()
	b.ReportMetric(float64(st.Evaluations)/float64(b.N), "rules/event")
}

// `x in list` matches the way the list's type says, as in_list does: an
// address inside a CIDR of an ip list, a subdomain of a domain list;
// string and port lists stay exact.
func TestInFollowsListType(t *testing.T) {
	set := mustLoad(t, `
lists:
  - {name: nets, type: ip, items: ["10.0.0.0/8", "192.0.2.7"]}
  - {name: bad_domains, type: domain, items: [evil.example]}
  - {name: names, items: [evil.example]}
macros:
  - {name: from_nets, condition: source.ip in nets}
rules:
  - {id: IP, name: ip, severity: low, condition: 'event.dataset == "packetsleuth.flow" and from_nets'}
  - {id: NOT-IP, name: not ip, severity: low, condition: 'event.dataset == "packetsleuth.flow" and destination.ip not in nets'}
  - {id: DOM, name: domain, severity: low, condition: 'event.dataset == "packetsleuth.dns" and dns.question.name in bad_domains'}
  - {id: STR, name: string, severity: low, condition: 'event.dataset == "packetsleuth.dns" and dns.question.name in names'}
`)
	var d schemas.Event
	d.Event.Dataset = schemas.DatasetDNS
	d.DNS.Question.Name = "x.EVIL.example."
	cases := []struct {
		ev   schemas.Event
		want string
	}{
		{flowEvent("10.1.2.3", "192.0.2.7", 80), "IP"},
		{flowEvent("8.8.8.8", "192.0.2.8", 80), "NOT-IP"},
		{flowEvent("::ffff:10.0.0.1", "10.9.9.9", 80), "IP"},
		{d, "DOM"},
	}
	for _, c := range cases {
		var got []string
		for _, a := range collect(NewEvaluator(set, EvalOptions{}), c.ev) {
			got = append(got, a.Rule.ID)
		}
		if strings.Join(got, ",") != c.want {
			t.Errorf("%s -> %s %q: alerts %v, want %s", c.ev.Source.IP, c.ev.Destination.IP, c.ev.DNS.Question.Name, got, c.want)
		}
	}
	d.DNS.Question.Name = "evil.example"
	if got := collect(NewEvaluator(set, EvalOptions{}), d); len(got) != 2 {
		t.Errorf("exact name: %d alerts, want DOM and STR", len(got))
	}

	_, errs := Load(fstest.MapFS{"r.yaml": {Data: []byte(`
lists:
  - {name: nets, type: ip, items: ["10.0.0.0/8"]}
rules:
  - {id: BAD, name: bad, severity: low, condition: 'destination.port in nets'}
`)}}, "r.yaml")
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "r.yaml:5:65: rule BAD: condition: cannot use int as argument (type string) to call `in` with ip list \"nets\"") {
		t.Errorf("int in ip list: %v", errs)
	}
}

// gt fires above the value, gte at it: the n-th matching event of a group
// that raises the first alert, and its count.
func TestThresholdGTAndGTE(t *testing.T) {
	cases := []struct {
		th        string
		bytes     int64
		wantEvent int
		wantCount int64
	}{
		{`{type: count, group_by: [source.ip], window: 1m, gte: 3}`, 0, 3, 3},
		{`{type: count, group_by: [source.ip], window: 1m, gt: 3}`, 0, 4, 4},
		{`{type: count, group_by: [source.ip], window: 1m, gt: 0}`, 0, 1, 1},
		{`{type: sum, field: source.bytes, group_by: [source.ip], window: 1m, gte: 1000}`, 250, 4, 1000},
		{`{type: sum, field: source.bytes, group_by: [source.ip], window: 1m, gt: 1000}`, 250, 5, 1250},
		{`{type: distinct, field: destination.port, group_by: [source.ip], window: 1m, gte: 2}`, 0, 2, 2},
		{`{type: distinct, field: destination.port, group_by: [source.ip], window: 1m, gt: 2}`, 0, 3, 3},
	}
	for _, c := range cases {
		ev := NewEvaluator(thresholdSet(t, c.th), EvalOptions{})
		first, count := 0, int64(0)
		for i := 1; i <= 10 && first == 0; i++ {
			e := at(flowEvent("10.0.0.1", "192.0.2.1", 1000+i), time.Duration(i)*time.Second)
			e.Source.Bytes = c.bytes
			ev.Eval(&e, func(a *schemas.Event) { first, count = i, a.Sensor.Alert.Count })
		}
		if first != c.wantEvent || count != c.wantCount {
			t.Errorf("%s: first alert at event %d with count %d, want %d and %d", c.th, first, count, c.wantEvent, c.wantCount)
		}
	}
	errs := loadErrors(`rules:
  - {id: G-1, name: g, severity: low, condition: "true", threshold: {type: count, window: 1m, gte: 2, gt: 2}}
  - {id: G-2, name: g, severity: low, condition: "true", threshold: {type: count, window: 1m}}
  - {id: G-3, name: g, severity: low, condition: "true", threshold: {type: count, window: 1m, gt: -1}}
`)
	expectLines(t, errs, []string{
		`r.yaml:2:107: rule G-1: threshold: give one of gte, gt, lte, lt (got gt, gte)`,
		`r.yaml:3:69: rule G-2: threshold: gte, gt, lte or lt is required`,
		`r.yaml:4:99: rule G-3: threshold: gt must be >= 0`,
	})
}

// Group keys, distinct values and sums read a field in place (field.at):
// for every scalar field, alone set (through reflect) in an event, the text
// and the number read are those reflect reads, not a zero of another field.
func TestFieldReadInPlace(t *testing.T) {
	n := 0
	for name, f := range ecsFields() {
		if !isScalar(f.typ) {
			continue
		}
		n++
		var ev schemas.Event
		text := "7"
		if f.kind == reflect.Bool {
			text = "true"
		}
		setScalar(f.value(&ev), text)
		if got := string(f.appendValue(nil, &ev)); got != text || string(appendScalar(nil, f.value(&ev))) != text {
			t.Errorf("%s: appendValue %q, want %q", name, got, text)
		}
		if isNumeric(f.typ) && f.number(&ev) != 7 {
			t.Errorf("%s: number %v, want 7", name, f.number(&ev))
		}
	}
	if n < 100 {
		t.Fatalf("only %d scalar fields", n)
	}
}

// A rule whose native condition panics counts an evaluation error and no
// match, as a runtime error of the VM does, and the rules after it still
// run, in order; a panic out of emit is the caller's, not taken for a
// condition's error.
func TestNativeConditionPanicIsRuleError(t *testing.T) {
	set := mustLoad(t, `
rules:
  - {id: A-1, name: a, severity: low, condition: 'source.port == 40000'}
  - {id: P-1, name: p, severity: low, condition: 'source.port == 40000'}
  - {id: B-1, name: b, severity: low, condition: 'source.port == 40000'}
`)
	set.Rule("P-1").native = func(*natEnv) bool { panic("boom") }
	e := NewEvaluator(set, EvalOptions{})
	ev := flowEvent("10.0.0.1", "10.0.0.2", 80)
	var ids []string
	for _, a := range collect(e, ev, ev) {
		ids = append(ids, a.Rule.ID)
	}
	if got := strings.Join(ids, " "); got != "A-1 B-1 A-1 B-1" {
		t.Errorf("alerts %q, want A-1 B-1 A-1 B-1", got)
	}
	counts := func() string {
		var s []string
		for _, r := range e.Stats().Rules {
			s = append(s, fmt.Sprintf("%s %d/%d/%d", r.ID, r.Evaluations, r.Matches, r.Errors))
		}
		return strings.Join(s, ", ")
	}
	if got, want := counts(), "A-1 2/2/0, P-1 2/0/2, B-1 2/2/0"; got != want {
		t.Errorf("evaluations/matches/errors: %s, want %s", got, want)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("emit's panic was recovered by the evaluator")
			}
		}()
		e.Eval(&ev, func(*schemasEvent) { panic("emit") })
	}()
	// The event's conditions were all judged before A-1's alert went out
	// (runRules), so P-1 and B-1 count the third event; B-1 fired no
	// third alert.
	if got, want := counts(), "A-1 3/3/0, P-1 3/0/3, B-1 3/3/0"; got != want {
		t.Errorf("after emit panicked: %s, want %s", got, want)
	}
	if got := e.Stats().Rules[2].Alerts; got != 2 {
		t.Errorf("B-1 made %d alerts, want 2: it fired after emit panicked", got)
	}
}

// An event's matches are acted on in rule order once every condition of
// the event is judged: when the first rule's alert goes out, the last
// rule's condition has run on the event. The threshold rules' group keys
// are made then (prepare), their index slots prefetched, so that the
// LRUs' probes of new keys under a flood do not wait for them; the
// alerts, their order and the groups are as before.
func TestMatchesActedOnAfterEveryCondition(t *testing.T) {
	set := mustLoad(t, `
rules:
  - {id: A-1, name: a, severity: low, condition: 'source.port == 40000'}
  - id: T-1
    name: t
    severity: low
    condition: 'source.port == 40000'
    threshold: {type: count, group_by: [source.ip], window: 1m, gte: 2}
  - id: D-1
    name: d
    severity: low
    condition: 'source.port == 40000'
    threshold: {type: distinct, field: destination.ip, group_by: [source.ip], window: 1m, gte: 2}
  - {id: Z-1, name: z, severity: low, condition: 'source.port == 40000'}
`)
	e := NewEvaluator(set, EvalOptions{})
	var got []string
	emit := func(a *schemas.Event) {
		got = append(got, fmt.Sprintf("%s(Z-1 judged %d)", a.Rule.ID, e.Stats().Rules[3].Evaluations))
	}
	for i, dst := range []string{"10.0.0.2", "10.0.0.3", "10.0.0.4"} {
		ev := flowEvent("10.0.0.1", dst, 80)
		ev.Timestamp = ev.Timestamp.Add(time.Duration(i) * time.Second)
		e.Eval(&ev, emit)
	}
	want := "A-1(Z-1 judged 1) Z-1(Z-1 judged 1) " +
		"A-1(Z-1 judged 2) T-1(Z-1 judged 2) D-1(Z-1 judged 2) Z-1(Z-1 judged 2) " +
		"A-1(Z-1 judged 3) Z-1(Z-1 judged 3)"
	if g := strings.Join(got, " "); g != want {
		t.Errorf("alerts\n%s\nwant\n%s", g, want)
	}
}

// An event's early group keys are not held past it when they were long: a
// group by an attacker's URL does not keep its size for every later event.
func TestLongEarlyKeysNotKept(t *testing.T) {
	set := mustLoad(t, `
rules:
  - id: T-1
    name: t
    severity: low
    condition: 'source.port == 40000'
    threshold: {type: count, group_by: [url.original], window: 1m, gte: 2}
`)
	e := NewEvaluator(set, EvalOptions{})
	ev := flowEvent("10.0.0.1", "10.0.0.2", 80)
	ev.URL.Original = "/" + strings.Repeat("a", 3*maxEventKeys)
	e.Eval(&ev, func(*schemas.Event) {})
	if e.Stats().Rules[0].Matches != 1 {
		t.Fatalf("the rule did not match: %+v", e.Stats().Rules[0])
	}
	if cap(e.keys) > maxEventKeys {
		t.Fatalf("%d bytes of keys kept after the event", cap(e.keys))
	}
	ev.URL.Original = "/short"
	e.Eval(&ev, func(*schemas.Event) {})
	if cap(e.keys) == 0 {
		t.Fatal("a short key's buffer not kept for the next event")
	}
}
