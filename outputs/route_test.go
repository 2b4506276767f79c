package outputs_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/packetsleuth/packetsleuth/outputs"
	_ "github.com/packetsleuth/packetsleuth/outputs/file"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// Every output takes datasets, min_severity and rules: two file outputs on
// one fan-out receive what their routes select, and count the rest.
func TestOutputRoutes(t *testing.T) {
	dir := t.TempDir()
	doc := strings.ReplaceAll(`
- type: file
  name: high-alerts
  path: DIR/high.ndjson
  datasets: [packetsleuth.alert]
  min_severity: high
- type: file
  name: dns-and-net
  path: DIR/dnsnet.ndjson
  datasets: ["packetsleuth.dns", "packetsleuth.al*"]
  rules: ["PS-NET-*"]
`, "DIR", dir)
	var cfgs []outputs.SinkConfig
	if err := yaml.Unmarshal([]byte(doc), &cfgs); err != nil {
		t.Fatal(err)
	}
	fan, err := outputs.Open(cfgs)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	rec := func(name, dataset, kind, rule string, sev int) schemas.Record {
		return schemas.Record{Dataset: dataset, Kind: kind, Rule: rule, Severity: sev, Time: t0,
			JSON: []byte(`{"name":"` + name + `"}`)}
	}
	recs := []schemas.Record{
		rec("flow", schemas.DatasetFlow, "event", "", 0),
		rec("dns", schemas.DatasetDNS, "event", "", 0),
		rec("net-high", schemas.DatasetAlert, "alert", "PS-NET-001", 73),
		rec("dns-critical", schemas.DatasetAlert, "alert", "PS-DNS-002", 99),
		rec("net-low", schemas.DatasetAlert, "alert", "PS-NET-003", 21),
	}
	if err := fan.Write(recs); err != nil {
		t.Fatal(err)
	}
	sums, err := fan.Close(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		file     string
		want     string
		filtered uint64
	}{
		{"high.ndjson", "net-high dns-critical", 3},
		{"dnsnet.ndjson", "dns net-high net-low", 2},
	} {
		b, err := os.ReadFile(filepath.Join(dir, c.file))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			got = append(got, strings.TrimSuffix(strings.TrimPrefix(line, `{"name":"`), `"}`))
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s: got %v, want %s", c.file, got, c.want)
		}
	}
	if sums[0].Filtered != 3 || sums[0].Offered != 2 || sums[1].Filtered != 2 || sums[1].Offered != 3 {
		t.Errorf("summaries: %+v", sums)
	}
	if !strings.Contains(sums[0].String(), "3 more left out by its datasets/min_severity/rules") {
		t.Errorf("summary line: %s", sums[0])
	}
}

func TestOutputRouteErrors(t *testing.T) {
	for bad, want := range map[string]string{
		"type: file\npath: x\nmin_severity: urgent\n": `min_severity: "urgent" is not one of`,
		"type: file\npath: x\nrules: ['[']\n":         `rules: bad pattern "["`,
		"type: file\npath: x\ndatasets: ['']\n":       `datasets: bad pattern ""`,
	} {
		var c outputs.SinkConfig
		if err := yaml.Unmarshal([]byte(bad), &c); err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %s", bad, err, want)
		}
	}
}
