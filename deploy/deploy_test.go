package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/packetsleuth/packetsleuth/enrich"
	"github.com/packetsleuth/packetsleuth/metrics"
	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/rules"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/app"
	"github.com/packetsleuth/packetsleuth/sensor/pcapring"
	"github.com/packetsleuth/packetsleuth/sensor/pipeline"
)

// exportedSeries scrapes package metrics with every source set and returns
// the sample names it serves (histograms as _bucket, _sum and _count).
func exportedSeries(t *testing.T) map[string]bool {
	t.Helper()
	reg := prometheus.NewRegistry()
	_, err := metrics.New(reg, metrics.Sources{
		Version:    "test",
		Pipeline:   func() pipeline.Stats { return pipeline.Stats{Events: map[string]uint64{"packetsleuth.flow": 1}} },
		Interfaces: func() []metrics.InterfaceStats { return []metrics.InterfaceStats{{Name: "eth0"}} },
		App: func() app.Stats {
			return app.Stats{Detected: map[string]uint64{"dns": 1}, ParserErrors: map[string]uint64{"dns": 1}}
		},
		Outputs:   func() []outputs.Stats { return []outputs.Stats{{Name: "file", Type: "file"}} },
		Notifiers: func() []metrics.NotifierStats { return []metrics.NotifierStats{{Name: "soc", Type: "slack"}} },
		Rules:     func() rules.Stats { return rules.Stats{Rules: []rules.RuleStats{{ID: "R"}}} },
		Enrich:    func() enrich.Stats { return enrich.Stats{} },
		WebAuth:   func() metrics.WebAuthStats { return metrics.WebAuthStats{} },
		PcapRing:  func() pcapring.Stats { return pcapring.Stats{} },
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	metrics.Handler(reg).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for name, f := range fams {
		if f.GetType() == dto.MetricType_HISTOGRAM {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				out[name+s] = true
			}
			continue
		}
		out[name] = true
	}
	if len(out) < len(metrics.Names()) {
		t.Fatalf("scrape has %d series names for %d families", len(out), len(metrics.Names()))
	}
	return out
}

type grafanaPanel struct {
	ID      int                       `json:"id"`
	Type    string                    `json:"type"`
	Title   string                    `json:"title"`
	GridPos *struct{ H, W, X, Y int } `json:"gridPos"`
	Panels  []grafanaPanel            `json:"panels"`
	Targets []grafanaTarget           `json:"targets"`
	Datasrc json.RawMessage           `json:"datasource"`
}

type grafanaTarget struct {
	Expr  string `json:"expr"`
	RefID string `json:"refId"`
}

func grafanaPanels(t *testing.T) []grafanaPanel {
	t.Helper()
	var d struct {
		Title      string         `json:"title"`
		UID        string         `json:"uid"`
		Schema     int            `json:"schemaVersion"`
		Panels     []grafanaPanel `json:"panels"`
		Templating struct {
			List []struct {
				Name string `json:"name"`
				Type string `json:"type"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(Grafana, &d); err != nil {
		t.Fatalf("grafana/packetsleuth.json: %v", err)
	}
	if d.Title == "" || d.UID == "" || d.Schema < 30 || len(d.Panels) == 0 {
		t.Fatalf("dashboard header: title %q uid %q schemaVersion %d", d.Title, d.UID, d.Schema)
	}
	var vars []string
	for _, v := range d.Templating.List {
		vars = append(vars, v.Name)
	}
	if !slices.Contains(vars, "datasource") || !slices.Contains(vars, "instance") {
		t.Errorf("template variables %v", vars)
	}
	var all []grafanaPanel
	var walk func([]grafanaPanel)
	walk = func(ps []grafanaPanel) {
		for _, p := range ps {
			all = append(all, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return all
}

var metricRE = regexp.MustCompile(`packetsleuth_[A-Za-z0-9_]+`)

func TestGrafanaDashboard(t *testing.T) {
	series := exportedSeries(t)
	ids := map[int]bool{}
	used := map[string]bool{}
	exprs := 0
	for _, p := range grafanaPanels(t) {
		if ids[p.ID] || p.ID == 0 {
			t.Errorf("panel %q: id %d missing or repeated", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.GridPos == nil || p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q: bad gridPos %+v", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no queries", p.Title)
		}
		if !strings.Contains(string(p.Datasrc), "${datasource}") {
			t.Errorf("panel %q: datasource %s is not the ${datasource} variable", p.Title, p.Datasrc)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			exprs++
			if refs[tg.RefID] || tg.RefID == "" {
				t.Errorf("panel %q: refId %q missing or repeated", p.Title, tg.RefID)
			}
			refs[tg.RefID] = true
			names := metricRE.FindAllString(tg.Expr, -1)
			if len(names) == 0 {
				t.Errorf("panel %q: expr %q uses no packetsleuth metric", p.Title, tg.Expr)
			}
			for _, n := range names {
				used[n] = true
				if !series[n] {
					t.Errorf("panel %q: %s is not exported by package metrics", p.Title, n)
				}
			}
			if strings.Count(tg.Expr, "(") != strings.Count(tg.Expr, ")") || strings.Count(tg.Expr, "{") != strings.Count(tg.Expr, "}") {
				t.Errorf("panel %q: unbalanced expr %q", p.Title, tg.Expr)
			}
		}
	}
	t.Logf("%d panels, %d queries, %d distinct metrics of %d exported", len(ids), exprs, len(used), len(series))
}

// With a real Prometheus, every panel query must be valid PromQL.
func TestGrafanaQueriesParse(t *testing.T) {
	prom := os.Getenv("PS_TEST_PROM")
	if prom == "" {
		t.Skip("PS_TEST_PROM not set (run ../../shared/services/start-prometheus.sh)")
	}
	grafanaVars := strings.NewReplacer("$__rate_interval", "1m", "$__interval", "1m", "$__range", "1h", "$instance", ".*")
	client := &http.Client{Timeout: 10 * time.Second}
	for _, p := range grafanaPanels(t) {
		for _, tg := range p.Targets {
			q := grafanaVars.Replace(tg.Expr)
			resp, err := client.Get(prom + "/api/v1/query?query=" + url.QueryEscape(q))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var r struct {
				Status string `json:"status"`
				Error  string `json:"error"`
			}
			json.Unmarshal(b, &r)
			if r.Status != "success" {
				t.Errorf("panel %q: %s: %s", p.Title, q, r.Error)
			}
		}
	}
}

// schemaFields lists every field events can carry (the generated field
// table of schemas), plus prefixes of maps (any key below them is a field).
func schemaFields() (fields map[string]bool, mapPrefixes []string) {
	fields = map[string]bool{}
	for _, f := range schemas.Fields("") {
		fields[f.Name] = true
		if f.Type == "object" {
			mapPrefixes = append(mapPrefixes, f.Name+".")
		}
	}
	return fields, mapPrefixes
}

func TestSchemaFields(t *testing.T) {
	fields, maps := schemaFields()
	for _, f := range []string{"@timestamp", "source.ip", "dns.question.name", "tls.server.x509.issuer.common_name",
		"observer.ingress.interface.name", "packetsleuth.flow.state", "threat.enrichments.matched.atomic"} {
		if !fields[f] {
			t.Errorf("schemas.Fields misses %s", f)
		}
	}
	if fields["source"] || fields["dns.question"] {
		t.Error("schemas.Fields lists groups as fields")
	}
	if !slices.Contains(maps, "packetsleuth.traffic.bytes_by_protocol.") {
		t.Errorf("map prefixes %v", maps)
	}
}

// kqlField finds the field names of a KQL query ("field : value").
var kqlField = regexp.MustCompile(`([A-Za-z@_][A-Za-z0-9@_.]*)\s*:`)

type savedObject struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	Attributes map[string]any `json:"attributes"`
	References []struct {
		Name string `json:"name"`
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"references"`
}

func TestKibanaSavedObjects(t *testing.T) {
	fields, maps := schemaFields()
	isField := func(f string) bool {
		if fields[f] {
			return true
		}
		for _, p := range maps {
			if strings.HasPrefix(f, p) {
				return true
			}
		}
		return false
	}
	var objs []savedObject
	sc := bufio.NewScanner(bytes.NewReader(Kibana))
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		var o savedObject
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		if err := dec.Decode(&o); err != nil {
			t.Fatalf("line %d: %v", line, err)
		}
		if dec.More() {
			t.Fatalf("line %d: more than one JSON value", line)
		}
		if o.ID == "" || o.Type == "" || o.Attributes == nil {
			t.Fatalf("line %d: id %q type %q attributes %v", line, o.ID, o.Type, o.Attributes != nil)
		}
		objs = append(objs, o)
	}
	byID := map[string]savedObject{}
	types := map[string]int{}
	for _, o := range objs {
		if _, dup := byID[o.ID]; dup {
			t.Errorf("id %s repeated", o.ID)
		}
		byID[o.ID] = o
		types[o.Type]++
	}
	for _, typ := range []string{"index-pattern", "search", "visualization", "dashboard"} {
		if types[typ] == 0 {
			t.Errorf("no %s object", typ)
		}
	}
	checkField := func(o savedObject, where, f string) {
		if !isField(f) {
			t.Errorf("%s %s: %s: field %q is not in schemas.Event", o.Type, o.ID, where, f)
		}
	}
	checkSearchSource := func(o savedObject) {
		meta, _ := o.Attributes["kibanaSavedObjectMeta"].(map[string]any)
		raw, _ := meta["searchSourceJSON"].(string)
		var ss struct {
			Query struct {
				Query    string `json:"query"`
				Language string `json:"language"`
			} `json:"query"`
			IndexRefName string `json:"indexRefName"`
		}
		if err := json.Unmarshal([]byte(raw), &ss); err != nil {
			t.Errorf("%s %s: searchSourceJSON: %v", o.Type, o.ID, err)
			return
		}
		for _, m := range kqlField.FindAllStringSubmatch(ss.Query.Query, -1) {
			checkField(o, "query", m[1])
		}
		if ss.IndexRefName != "" && !slices.ContainsFunc(o.References, func(r struct {
			Name string `json:"name"`
			Type string `json:"type"`
			ID   string `json:"id"`
		}) bool {
			return r.Name == ss.IndexRefName
		}) {
			t.Errorf("%s %s: indexRefName %q has no reference", o.Type, o.ID, ss.IndexRefName)
		}
	}
	checked := 0
	for _, o := range objs {
		for _, r := range o.References {
			if target, ok := byID[r.ID]; !ok || target.Type != r.Type {
				t.Errorf("%s %s: reference %s to %s %s not in the file", o.Type, o.ID, r.Name, r.Type, r.ID)
			}
		}
		switch o.Type {
		case "index-pattern":
			title, _ := o.Attributes["title"].(string)
			if !strings.HasPrefix(title, "logs-packetsleuth.") || o.Attributes["timeFieldName"] != "@timestamp" {
				t.Errorf("data view %s: title %q timeFieldName %v", o.ID, title, o.Attributes["timeFieldName"])
			}
			if s, _ := o.Attributes["fieldFormatMap"].(string); s != "" {
				var m map[string]any
				if err := json.Unmarshal([]byte(s), &m); err != nil {
					t.Errorf("data view %s: fieldFormatMap: %v", o.ID, err)
				}
				for f := range m {
					checkField(o, "fieldFormatMap", f)
					checked++
				}
			}
		case "search":
			cols, _ := o.Attributes["columns"].([]any)
			if len(cols) == 0 {
				t.Errorf("search %s has no columns", o.ID)
			}
			for _, c := range cols {
				checkField(o, "columns", c.(string))
				checked++
			}
			sorts, _ := o.Attributes["sort"].([]any)
			for _, s := range sorts {
				checkField(o, "sort", s.([]any)[0].(string))
			}
			checkSearchSource(o)
		case "visualization":
			var vs struct {
				Title string `json:"title"`
				Type  string `json:"type"`
				Aggs  []struct {
					Type   string         `json:"type"`
					Params map[string]any `json:"params"`
				} `json:"aggs"`
			}
			if err := json.Unmarshal([]byte(o.Attributes["visState"].(string)), &vs); err != nil {
				t.Errorf("visualization %s: visState: %v", o.ID, err)
				continue
			}
			if vs.Title != o.Attributes["title"] || vs.Type == "" || len(vs.Aggs) < 2 {
				t.Errorf("visualization %s: visState %+v", o.ID, vs)
			}
			for _, a := range vs.Aggs {
				if f, ok := a.Params["field"].(string); ok {
					checkField(o, "aggs "+a.Type, f)
					checked++
				}
			}
			checkSearchSource(o)
		case "dashboard":
			var panels []struct {
				PanelRefName string `json:"panelRefName"`
			}
			if err := json.Unmarshal([]byte(o.Attributes["panelsJSON"].(string)), &panels); err != nil {
				t.Fatalf("dashboard %s: panelsJSON: %v", o.ID, err)
			}
			for _, p := range panels {
				if !slices.ContainsFunc(o.References, func(r struct {
					Name string `json:"name"`
					Type string `json:"type"`
					ID   string `json:"id"`
				}) bool {
					return r.Name == p.PanelRefName
				}) {
					t.Errorf("dashboard %s: panel %s has no reference", o.ID, p.PanelRefName)
				}
			}
		}
	}
	if checked < 30 {
		t.Errorf("only %d field references checked", checked)
	}
}

// The checks above catch a field that is not in the schema.
func TestKibanaFieldCheckCatchesTypos(t *testing.T) {
	fields, _ := schemaFields()
	for _, bad := range []string{"dns.question.nmae", "source.address", "tls.client.ja5"} {
		if fields[bad] {
			t.Errorf("%s accepted", bad)
		}
	}
	if m := kqlField.FindAllStringSubmatch(`event.dataset : "packetsleuth.dns" and not dns.response_code:NOERROR`, -1); len(m) != 2 ||
		m[0][1] != "event.dataset" || m[1][1] != "dns.response_code" {
		t.Errorf("KQL fields %v", m)
	}
}

// The Windows datasets have their own dashboard: for each of SMB, NTLM,
// Kerberos and DCE/RPC it shows a chart over one of its fields and the
// saved search listing its events.
func TestKibanaWindowsDashboard(t *testing.T) {
	byID := map[string]savedObject{}
	sc := bufio.NewScanner(bytes.NewReader(Kibana))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var o savedObject
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			t.Fatal(err)
		}
		byID[o.ID] = o
	}
	dash, ok := byID["packetsleuth-windows"]
	if !ok || dash.Type != "dashboard" {
		t.Fatal("no dashboard packetsleuth-windows")
	}
	charted, listed := map[string]bool{}, map[string]bool{}
	for _, r := range dash.References {
		o := byID[r.ID]
		switch o.Type {
		case "visualization":
			var vs struct {
				Aggs []struct {
					Params map[string]any `json:"params"`
				} `json:"aggs"`
			}
			if err := json.Unmarshal([]byte(o.Attributes["visState"].(string)), &vs); err != nil {
				t.Fatal(err)
			}
			for _, a := range vs.Aggs {
				if f, ok := a.Params["field"].(string); ok {
					charted[strings.Split(f, ".")[1]] = true
				}
			}
		case "search":
			cols, _ := o.Attributes["columns"].([]any)
			for _, c := range cols {
				if parts := strings.Split(c.(string), "."); parts[0] == "packetsleuth" {
					listed[parts[1]] = true
				}
			}
		}
	}
	for _, proto := range []string{"smb", "ntlm", "kerberos", "dcerpc"} {
		if !charted[proto] || !listed[proto] {
			t.Errorf("%s: charted %v, listed %v", proto, charted[proto], listed[proto])
		}
	}
}
