package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// uaPath is a flow event carrying two values an attacker writes.
func uaPath(at time.Duration, src, ua, path string) schemas.Event {
	e := flowAt(at, src, "192.0.2.1")
	e.UserAgent.Original, e.URL.Path = ua, path
	return e
}

// Two groups whose values differ only in where a byte that a separator
// could be falls are two groups: one event each stays under a threshold
// of two.
func TestGroupKeyValuesHoldAnyByte(t *testing.T) {
	set := thresholdSet(t, `{type: count, group_by: [user_agent.original, url.path], window: 1m, gte: 2}`)
	for _, sep := range []string{"\x1f", "\x00", "|", "\x01"} {
		alerts := collect(NewEvaluator(set, EvalOptions{}),
			uaPath(0, "10.0.0.1", "a"+sep+"b", "c"), uaPath(time.Second, "10.0.0.1", "a", "b"+sep+"c"))
		if len(alerts) != 0 {
			t.Errorf("separator %q: %d alerts for two groups of one event", sep, len(alerts))
		}
	}
	// the same values are one group
	alerts := collect(NewEvaluator(set, EvalOptions{}),
		uaPath(0, "10.0.0.1", "a\x1fb", "c"), uaPath(time.Second, "10.0.0.2", "a\x1fb", "c"))
	if len(alerts) != 1 || alerts[0].UserAgent.Original != "a\x1fb" || alerts[0].URL.Path != "c" {
		t.Errorf("one group of two events: %d alerts", len(alerts))
	}
}

// A group alert (an absence's) carries each group value whole, in its
// own field, whatever bytes the values hold and however long they are.
func TestAbsenceAlertKeepsGroupValues(t *testing.T) {
	set := mustLoad(t, `
rules:
  - id: ABS-UA
    name: client went silent
    condition: event.dataset == "packetsleuth.flow"
    absence: {group_by: [user_agent.original, url.path, source.ip], after: 10m}
    severity: low
`)
	ua := "curl\x1f/x\x1f" + strings.Repeat("u", 200)
	path := "/p\x1f10.9.9.9"
	events := []schemas.Event{uaPath(0, "10.0.0.7", ua, path), uaPath(20*time.Minute, "10.0.0.8", "other", "/")}
	alerts := collect(NewEvaluator(set, EvalOptions{}), events...)
	if len(alerts) != 1 {
		t.Fatalf("%d alerts, want 1", len(alerts))
	}
	a := alerts[0]
	if a.UserAgent.Original != ua || a.URL.Path != path || a.Source.IP != "10.0.0.7" {
		t.Errorf("alert values %q %q %q", a.UserAgent.Original, a.URL.Path, a.Source.IP)
	}
	want := []string{"user_agent.original=" + ua, "url.path=" + path, "source.ip=10.0.0.7"}
	if strings.Join(a.Sensor.Alert.Group, "\n") != strings.Join(want, "\n") {
		t.Errorf("group %q, want %q", a.Sensor.Alert.Group, want)
	}
}

// A sequence ties its steps by whole values: a second step whose values
// only join to the first step's does not complete it.
func TestSequenceKeyValuesHoldAnyByte(t *testing.T) {
	set := mustLoad(t, `
rules:
  - id: SEQ-UA
    name: two requests
    sequence:
      window: 5m
      steps:
        - name: first
          condition: event.dataset == "packetsleuth.flow" and destination.port == 80
          by: [user_agent.original, url.path]
        - name: second
          condition: event.dataset == "packetsleuth.flow" and destination.port == 443
          by: [user_agent.original, url.path]
    severity: low
`)
	first := uaPath(0, "10.0.0.1", "a\x1fb", "c")
	first.Destination.Port = 80
	split := uaPath(time.Second, "10.0.0.1", "a", "b\x1fc")
	same := uaPath(2*time.Second, "10.0.0.1", "a\x1fb", "c")
	if n := len(collect(NewEvaluator(set, EvalOptions{}), first, split)); n != 0 {
		t.Errorf("%d alerts for steps of different values", n)
	}
	if n := len(collect(NewEvaluator(set, EvalOptions{}), first, same)); n != 1 {
		t.Errorf("%d alerts for steps of the same values, want 1", n)
	}
}

// A group key's values come back whole from splitGroupKey whatever their
// lengths, about the one-byte length's limit (127, 128) too, and the key
// is the same as with every length inserted after its value.
func TestGroupKeyLengths(t *testing.T) {
	fields := []field{ecsFields()["user_agent.original"], ecsFields()["url.path"], ecsFields()["source.ip"]}
	for _, n := range []int{0, 1, 127, 128, 300, 20000} {
		for _, m := range []int{0, 127, 128} {
			e := uaPath(0, "10.0.0.1", strings.Repeat("u", n), strings.Repeat("p", m))
			key := appendGroupKey([]byte("prefix"), fields, &e)
			var want []byte
			want = append(want, "prefix"...)
			for _, v := range []string{e.UserAgent.Original, e.URL.Path} {
				want = append(want, v...)
				want = prefixLength(want, len(want)-len(v))
			}
			want = append(want, "10.0.0.1"...)
			if string(key) != string(want) {
				t.Fatalf("lengths %d, %d: key differs", n, m)
			}
			vals := splitGroupKey(string(key[len("prefix"):]), 3)
			if len(vals) != 3 || vals[0] != e.UserAgent.Original || vals[1] != e.URL.Path || vals[2] != "10.0.0.1" {
				t.Errorf("lengths %d, %d: values back %d", n, m, len(vals))
			}
		}
	}
	if key := appendGroupKey([]byte("k"), nil, nil); string(key) != "k" {
		t.Errorf("no fields: key %q", key)
	}
}
