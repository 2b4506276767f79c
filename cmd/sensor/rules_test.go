package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestRulesFields(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"rules", "fields", "--dataset", "packetsleuth.tls"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	has := func(prefix string) bool {
		for _, l := range lines {
			if strings.HasPrefix(l, prefix) {
				return true
			}
		}
		return false
	}
	for _, want := range []string{"FIELD ", "packetsleuth.tls.ja4 ", "tls.client.server_name ", "source.ip ", "related.ip "} {
		if !has(want) {
			t.Errorf("no line %q in\n%s", want, out.String())
		}
	}
	for _, not := range []string{"tls.client.ja4 ", "http.request.method ", "packetsleuth.stats."} {
		if has(not) {
			t.Errorf("line %q listed for TLS events", not)
		}
	}
	if !regexp.MustCompile(`(?m)^packetsleuth\.tls\.ja4\s+keyword\s+custom\s+JA4 fingerprint`).MatchString(out.String()) {
		t.Errorf("JA4 line is not name, type, custom, description:\n%s", out.String())
	}

	out.Reset()
	if code := run([]string{"rules", "fields"}, &out, &errb); code != 0 {
		t.Fatal(errb.String())
	}
	all := strings.Count(out.String(), "\n")
	if all <= len(lines) {
		t.Errorf("all fields: %d lines, TLS alone %d", all, len(lines))
	}

	errb.Reset()
	if code := run([]string{"rules", "fields", "--dataset", "packetsleuth.nope"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "packetsleuth.dns") {
		t.Errorf("unknown dataset: exit %d, %s", code, errb.String())
	}
}

// `sensor rules validate` loads a rule that reads a field its dataset
// never carries, and says so on stderr.
func TestRulesValidateWarns(t *testing.T) {
	dir := t.TempDir()
	rule := `rules:
  - id: LOCAL-1
    name: TLS server name on DNS events
    severity: low
    condition: event.dataset == "packetsleuth.dns" and tls.client.server_name == "x"
`
	path := filepath.Join(dir, "local.yaml")
	if err := os.WriteFile(path, []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"rules", "validate", path}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "1 warning(s)") ||
		!strings.Contains(errb.String(), "warning: "+path+":2: rule LOCAL-1: condition reads tls.client.server_name, which packetsleuth.dns events never carry") {
		t.Errorf("stdout %q\nstderr %q", out.String(), errb.String())
	}
}
