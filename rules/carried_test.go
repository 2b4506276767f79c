package rules

import (
	"strings"
	"testing"
	"testing/fstest"
)

// A rule pinned to datasets that reads a field none of them carries loads,
// with a warning naming the rule, the field and who carries it.
func TestWarnsOnFieldItsDatasetsNeverCarry(t *testing.T) {
	src := `rules:
  - id: W-1
    name: http method on dns events
    severity: low
    condition: event.dataset == "packetsleuth.dns" and http.request.method == "GET"
  - id: W-2
    name: a macro reading tls on flows
    severity: low
    condition: event.dataset in ["packetsleuth.flow", "packetsleuth.http"] and is_tls
  - id: OK-1
    name: dns on dns, through a group and a closure
    severity: low
    condition: event.dataset == "packetsleuth.dns" and dns.question.name != "" and any(dns.answers, {.type == "A"})
  - id: OK-2
    name: unpinned rules run on every event
    severity: low
    condition: http.request.method == "GET"
  - id: OK-3
    name: one of the datasets carries it
    severity: low
    condition: (event.dataset == "packetsleuth.http" or event.dataset == "packetsleuth.alert") and rule.id == "x"
macros:
  - name: is_tls
    condition: tls.client.server_name != ""
`
	set, errs := Load(fstest.MapFS{"w.yaml": {Data: []byte(src)}}, "w.yaml")
	if errs != nil {
		t.Fatal(errs)
	}
	got := warningLines(set)
	want := []string{
		`w.yaml:2: rule W-1: condition reads http.request.method, which packetsleuth.dns events never carry (packetsleuth.alert, packetsleuth.file, packetsleuth.http do)`,
		`w.yaml:6: rule W-2: condition reads tls.client.server_name, which packetsleuth.flow, packetsleuth.http events never carry (packetsleuth.alert, packetsleuth.tls do)`,
	}
	if len(got) != len(want) {
		t.Fatalf("warnings:\n%s\nwant %d", strings.Join(got, "\n"), len(want))
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("warning %d:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
}

// The shipped rules read only fields their datasets carry.
func TestShippedRulesHaveNoWarnings(t *testing.T) {
	set, errs := LoadDefault()
	if errs != nil {
		t.Fatal(errs)
	}
	for _, w := range set.Warnings() {
		t.Error(w)
	}
}
