package rules

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// An alert explains itself: the rule's output template over the event
// (escaped, absent values as "-"), the OR branch that matched, and the
// values a distinct threshold counted.
func TestAlertExplains(t *testing.T) {
	set := mustLoad(t, `
rules:
  - id: X-DNS
    name: odd name
    condition: event.dataset == "packetsleuth.dns" and (dns.question.name endsWith ".onion" or dns.question.name contains "evil" or dns.question.type == "NULL")
    output: "%source.ip asked %dns.question.name (type %dns.question.type) via %url.domain, 100%% sure. Rule %rule.id."
    severity: high
  - id: X-SCAN
    name: ports
    condition: event.dataset == "packetsleuth.flow"
    threshold: {type: distinct, field: destination.port, group_by: [source.ip], window: 1m, gte: 4}
    output: "%source.ip touched %packetsleuth.alert.count ports"
    severity: medium
`)
	dns := flowEvent("10.0.0.1", "192.0.2.53", 53)
	dns.Event.Dataset = schemas.DatasetDNS
	dns.DNS.Question.Name = "evil.example\x1b[2J\nFAKE LOG LINE"
	dns.DNS.Question.Type = "NULL"
	var flows []schemas.Event
	for _, p := range []int{443, 22, 8080, 80} {
		flows = append(flows, flowEvent("10.0.0.9", "192.0.2.1", p))
	}
	alerts := collect(NewEvaluator(set, EvalOptions{}), append([]schemas.Event{dns}, flows...)...)
	if len(alerts) != 2 {
		t.Fatalf("%d alerts", len(alerts))
	}
	a := alerts[0]
	want := `10.0.0.1 asked evil.example\x1b[2J\nFAKE LOG LINE (type NULL) via -, 100% sure. Rule X-DNS.`
	if a.Message != want {
		t.Errorf("message\n got %q\nwant %q", a.Message, want)
	}
	if m := a.Sensor.Alert.Matched; len(m) != 2 || !strings.Contains(m[0], `contains "evil"`) || !strings.Contains(m[1], `"NULL"`) {
		t.Errorf("matched %q", m)
	}
	s := alerts[1]
	if got := s.Sensor.Alert.Members; !slices.Equal(got, []string{"22", "80", "443", "8080"}) {
		t.Errorf("members %q", got)
	}
	if s.Sensor.Alert.Matched != nil || s.Message != "10.0.0.9 touched 4 ports" {
		t.Errorf("scan alert: matched %q message %q", s.Sensor.Alert.Matched, s.Message)
	}
}

// Members are capped; the count says how many there were.
func TestDistinctMembersCapped(t *testing.T) {
	set := mustLoad(t, `
rules:
  - id: X-SCAN
    name: ports
    condition: event.dataset == "packetsleuth.flow"
    threshold: {type: distinct, field: destination.port, group_by: [source.ip], window: 1m, gte: 50}
    severity: medium
`)
	var flows []schemas.Event
	for p := range 50 {
		e := flowEvent("10.0.0.9", "192.0.2.1", 1000+p)
		e.Timestamp = t0.Add(time.Duration(p) * time.Millisecond)
		flows = append(flows, e)
	}
	alerts := collect(NewEvaluator(set, EvalOptions{}), flows...)
	if len(alerts) != 1 || alerts[0].Sensor.Alert.Count != 50 || len(alerts[0].Sensor.Alert.Members) != maxMembers ||
		alerts[0].Sensor.Alert.Members[0] != "1000" {
		t.Fatalf("alerts %+v", alerts)
	}
}

func TestOutputTemplateErrors(t *testing.T) {
	for src, want := range map[string]string{
		`"%source.ipp went"`: `r.yaml:6:15: rule X: output: unknown field "source.ipp" (did you mean "source.ip"?)`,
		`"100 % sure"`:       `r.yaml:6:18: rule X: output: % must start a field name`,
		`"%dns.answers"`:     `output: field "dns.answers" is a`,
	} {
		errs := loadErrors(`
rules:
  - id: X
    name: x
    condition: event.dataset == "packetsleuth.flow"
    output: ` + src + `
    severity: low
`)
		if len(errs) != 1 || !strings.Contains(errs[0], want) {
			t.Errorf("%s: %q, want %s", src, errs, want)
		}
	}
}

// A group's alert has no other field of its events: an output naming one
// is refused at load, with its position; group fields, the alert's
// count and window and the rule's own fields are accepted.
func TestGroupOutputNamesOnlyTheGroup(t *testing.T) {
	for _, c := range []struct{ group, output, want string }{
		{`threshold: {type: count, group_by: [source.ip], window: 1m, gte: 5}`,
			`"%source.ip to port %destination.port"`,
			`r.yaml:7:33: rule X: output: %destination.port is not on this rule's alerts: an alert of a group carries its group_by fields (source.ip)`},
		{`threshold: {type: count, group_by: [source.ip], window: 1m, lt: 5}`,
			`"%source.ip as %user.name"`, `r.yaml:7:28: rule X: output: %user.name is not on`},
		{`absence: {group_by: [source.ip, destination.port], after: 10m}`,
			`"silent: %source.ip %destination.ip"`, `output: %destination.ip is not on`},
		{`threshold: {type: count, group_by: [source.ip, destination.port], window: 1m, gte: 5}`,
			`"%source.ip:%destination.port %packetsleuth.alert.count in %packetsleuth.alert.window (%rule.name, %event.severity)"`, ``},
		{`absence: {group_by: [source.ip], after: 10m}`, `"no syslog from %source.ip for %packetsleuth.alert.window"`, ``},
		{`suppress: {by: [source.ip], for: 10m}`, `"%source.ip to port %destination.port"`, ``},
	} {
		errs := loadErrors(`
rules:
  - id: X
    name: x
    condition: event.dataset == "packetsleuth.flow"
    ` + c.group + `
    output: ` + c.output + `
    severity: low
`)
		switch {
		case c.want == "" && len(errs) > 0:
			t.Errorf("%s: refused: %q", c.output, errs)
		case c.want != "" && (len(errs) != 1 || !strings.Contains(errs[0], c.want)):
			t.Errorf("%s: %q, want %s", c.output, errs, c.want)
		}
	}
}
