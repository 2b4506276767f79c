package metrics

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/packetsleuth/packetsleuth/enrich"
	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/outputs/notify"
	"github.com/packetsleuth/packetsleuth/outputs/outputstest"
	"github.com/packetsleuth/packetsleuth/rules"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/app"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
	"github.com/packetsleuth/packetsleuth/sensor/hosts"
	"github.com/packetsleuth/packetsleuth/sensor/pcapring"
	"github.com/packetsleuth/packetsleuth/sensor/pipeline"
)

// scrape serves reg through Handler and parses the text exposition.
func scrape(t *testing.T, reg *prometheus.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(Handler(reg))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// value returns the value of the sample of family name whose labels include
// all of want (label, value pairs); it fails when there is none.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want ...string) float64 {
	t.Helper()
	f := fams[name]
	if f == nil {
		t.Fatalf("metric %s not exported", name)
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(want); i += 2 {
			found := false
			for _, lp := range m.Label {
				if lp.GetName() == want[i] && lp.GetValue() == want[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Untyped != nil:
			return m.Untyped.GetValue()
		}
	}
	t.Fatalf("metric %s%v not found", name, want)
	return 0
}

func checkType(t *testing.T, fams map[string]*dto.MetricFamily, name string, typ dto.MetricType) {
	t.Helper()
	if f := fams[name]; f == nil || f.GetType() != typ {
		t.Errorf("%s: type %v, want %v", name, f.GetType(), typ)
	}
}

func TestPipelineMetrics(t *testing.T) {
	var frames atomic.Uint64
	frames.Store(1000)
	snap := func() pipeline.Stats {
		s := pipeline.Stats{Frames: frames.Load(), Bytes: 123456, Packets: 990, Filtered: 7, Files: 2, FilesFailed: 1,
			EncodeErrors: 3, OutputErrors: 4,
			Events: map[string]uint64{schemas.DatasetFlow: 50, schemas.DatasetDNS: 20}}
		s.Decode.Errors[decode.ErrIPv4] = 5
		s.Decode.Errors[decode.ErrTCP] = 2
		s.Decode.Fragments = 11
		s.Decode.Reassembled = 4
		s.Flows.Created = 60
		s.Flows.Active = 9
		s.Flows.Ended[flow.EndFIN] = 30
		s.Flows.Ended[flow.EndEvicted] = 6
		s.Budget.Limit = 64 << 20
		s.Budget.Pools[budget.Flows] = budget.PoolStats{Used: 1 << 20, Denied: 3}
		s.Hosts = hosts.Stats{Leases: 12, Learned: 15, Released: 2, Expired: 1, Refused: 4, Limited: 7, Enriched: 99}
		s.HostBarriers = 31
		return s
	}
	reg := prometheus.NewRegistry()
	if _, err := New(reg, Sources{Pipeline: snap, Version: "1.2.3"}); err != nil {
		t.Fatal(err)
	}
	fams := scrape(t, reg)
	for _, c := range []struct {
		name string
		lv   []string
		want float64
	}{
		{"packetsleuth_packets_total", nil, 1000},
		{"packetsleuth_bytes_total", nil, 123456},
		{"packetsleuth_ip_packets_total", nil, 990},
		{"packetsleuth_filtered_packets_total", nil, 7},
		{"packetsleuth_decode_errors_total", []string{"kind", "ipv4"}, 5},
		{"packetsleuth_decode_errors_total", []string{"kind", "tcp"}, 2},
		{"packetsleuth_decode_errors_total", []string{"kind", "udp"}, 0},
		{"packetsleuth_ip_fragments_total", nil, 11},
		{"packetsleuth_ip_fragments_reassembled_total", nil, 4},
		{"packetsleuth_flows_created_total", nil, 60},
		{"packetsleuth_flows_active", nil, 9},
		{"packetsleuth_flows_ended_total", []string{"reason", "fin"}, 30},
		{"packetsleuth_flows_ended_total", []string{"reason", "evicted"}, 6},
		{"packetsleuth_flows_evicted_total", nil, 6},
		{"packetsleuth_memory_budget_bytes", nil, 64 << 20},
		{"packetsleuth_memory_budget_used_bytes", []string{"pool", "flows"}, 1 << 20},
		{"packetsleuth_memory_budget_used_bytes", []string{"pool", "rules"}, 0},
		{"packetsleuth_memory_budget_denied_total", []string{"pool", "flows"}, 3},
		{"packetsleuth_hosts_leases", nil, 12},
		{"packetsleuth_hosts_leases_total", []string{"what", "learned"}, 15},
		{"packetsleuth_hosts_leases_total", []string{"what", "refused"}, 4},
		{"packetsleuth_hosts_named_total", nil, 99},
		{"packetsleuth_hosts_dhcp_limited_total", nil, 7},
		{"packetsleuth_hosts_barriers_total", nil, 31},
		{"packetsleuth_events_total", []string{"dataset", "packetsleuth.flow"}, 50},
		{"packetsleuth_events_total", []string{"dataset", "packetsleuth.dns"}, 20},
		{"packetsleuth_encode_errors_total", nil, 3},
		{"packetsleuth_enqueue_errors_total", nil, 4},
		{"packetsleuth_source_files_failed_total", nil, 1},
		{"packetsleuth_build_info", []string{"version", "1.2.3"}, 1},
	} {
		if got := value(t, fams, c.name, c.lv...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.lv, got, c.want)
		}
	}
	checkType(t, fams, "packetsleuth_packets_total", dto.MetricType_COUNTER)
	checkType(t, fams, "packetsleuth_flows_active", dto.MetricType_GAUGE)
	if n := len(fams["packetsleuth_flows_ended_total"].Metric); n != 5 {
		t.Errorf("flows_ended has %d reasons, want 5", n)
	}

	// the snapshot is read at scrape time
	frames.Store(2500)
	fams = scrape(t, reg)
	if got := value(t, fams, "packetsleuth_packets_total"); got != 2500 {
		t.Errorf("second scrape: packets_total = %v, want 2500", got)
	}
}

func TestOutputMetricsFromRunner(t *testing.T) {
	sink := outputstest.New()
	sink.FailWrites(1, nil) // the first write fails and is retried
	r, err := outputs.NewRunner(sink, outputs.SinkConfig{Type: "memory", Name: "mem", FlushInterval: 10 * time.Millisecond, RetryMin: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1700000000, 0)
	var recs []schemas.Record
	for i := range 25 {
		recs = append(recs, outputstest.Record(schemas.DatasetFlow, "x", i, now))
	}
	if err := r.Enqueue(recs); err != nil {
		t.Fatal(err)
	}
	// The sink holds the records before the runner counts them: wait on the
	// runner's own count, which it raises after the write returned.
	for deadline := time.Now().Add(10 * time.Second); r.Stats().Sent < 25; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("records not delivered: %+v", r.Stats())
		}
	}
	reg := prometheus.NewRegistry()
	if _, err := New(reg, Sources{Outputs: func() []outputs.Stats { return []outputs.Stats{r.Stats()} }}); err != nil {
		t.Fatal(err)
	}
	fams := scrape(t, reg)
	st := r.Stats()
	lv := []string{"output", "mem", "type", "memory"}
	if got := value(t, fams, "packetsleuth_output_records_sent_total", lv...); got != 25 {
		t.Errorf("sent = %v, want 25", got)
	}
	if got := value(t, fams, "packetsleuth_output_records_queued_total", lv...); got != 25 {
		t.Errorf("queued = %v, want 25", got)
	}
	if got := value(t, fams, "packetsleuth_output_errors_total", lv...); got != 1 {
		t.Errorf("errors = %v, want 1", got)
	}
	if got := value(t, fams, "packetsleuth_output_records_retried_total", lv...); got != float64(st.Retried) || got == 0 {
		t.Errorf("retried = %v, want %d (> 0)", got, st.Retried)
	}
	if got := value(t, fams, "packetsleuth_output_last_error_timestamp_seconds", lv...); math.Abs(got-float64(time.Now().Unix())) > 60 {
		t.Errorf("last error time = %v", got)
	}
	h := fams["packetsleuth_output_write_duration_seconds"]
	if h == nil || h.GetType() != dto.MetricType_HISTOGRAM {
		t.Fatalf("write duration is not a histogram: %v", h)
	}
	hist := h.Metric[0].Histogram
	if hist.GetSampleCount() != st.Latency.Count || hist.GetSampleCount() < 2 {
		t.Errorf("histogram count %d, want %d (>= 2 writes)", hist.GetSampleCount(), st.Latency.Count)
	}
	// cumulative buckets, ending at the count (+Inf)
	var prev uint64
	for _, b := range hist.Bucket {
		if b.GetCumulativeCount() < prev {
			t.Errorf("bucket le=%v not cumulative", b.GetUpperBound())
		}
		prev = b.GetCumulativeCount()
	}
	if last := hist.Bucket[len(hist.Bucket)-1]; !math.IsInf(last.GetUpperBound(), 1) || last.GetCumulativeCount() != hist.GetSampleCount() {
		t.Errorf("+Inf bucket %v", last)
	}
	if _, err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestHistogramBucketsCumulative(t *testing.T) {
	var st outputs.Stats
	st.Name, st.Type = "s", "t"
	st.Latency.Buckets[0] = 3 // <= 1ms
	st.Latency.Buckets[2] = 2 // <= 10ms
	st.Latency.Buckets[len(outputs.LatencyBuckets)] = 1
	st.Latency.Count = 6
	st.Latency.Sum = 7 * time.Second
	reg := prometheus.NewRegistry()
	if _, err := New(reg, Sources{Outputs: func() []outputs.Stats { return []outputs.Stats{st} }}); err != nil {
		t.Fatal(err)
	}
	h := scrape(t, reg)["packetsleuth_output_write_duration_seconds"].Metric[0].Histogram
	want := map[float64]uint64{0.001: 3, 0.005: 3, 0.01: 5, 0.05: 5, 5: 5, math.Inf(1): 6}
	for _, b := range h.Bucket {
		if w, ok := want[b.GetUpperBound()]; ok && b.GetCumulativeCount() != w {
			t.Errorf("le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), w)
		}
	}
	if h.GetSampleSum() != 7 {
		t.Errorf("sum %v, want 7", h.GetSampleSum())
	}
}

func TestRulesEnrichAppInterfaces(t *testing.T) {
	rs := MergeRuleStats(
		rules.Stats{Events: 10, Rules: []rules.RuleStats{{ID: "PS-NET-001", Evaluations: 10, Matches: 3, Alerts: 2, EvalTime: 500 * time.Millisecond}, {ID: "PS-DNS-002", Evaluations: 4}}},
		rules.Stats{Events: 5, State: rules.StateStats{Groups: 3}, Rules: []rules.RuleStats{{ID: "PS-NET-001", Evaluations: 5, Alerts: 1, Suppressed: 4, EvalTime: time.Second}}},
	)
	if rs.Events != 15 || len(rs.Rules) != 2 || rs.Rules[0].Alerts != 3 || rs.Rules[0].Evaluations != 15 || rs.State.Groups != 3 {
		t.Fatalf("merge: %+v", rs)
	}
	sev := map[string]string{"PS-NET-001": "high"}
	var es enrich.Stats
	es.CacheHits, es.CacheMisses, es.IntelMatches = 30, 10, 7
	es.Intel.Domains = 12
	var as app.Stats
	as.Detected = map[string]uint64{"http": 4, "tls": 6}
	as.ParserErrors = map[string]uint64{"http": 1}
	as.Reassembly.Gaps, as.Reassembly.GapBytes, as.Reassembly.Pages, as.Reassembly.TotalCapHits = 2, 700, 3, 1

	reg := prometheus.NewRegistry()
	_, err := New(reg, Sources{
		Rules:              func() rules.Stats { return rs },
		RuleSeverity:       func(id string) string { return sev[id] },
		Enrich:             func() enrich.Stats { return es },
		App:                func() app.Stats { return as },
		ReassemblyPageSize: 4096,
		Interfaces: func() []InterfaceStats {
			return []InterfaceStats{{Name: "eth0", Packets: 100, Bytes: 6400, KernelDrops: 5, SensorDrops: 2}}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	fams := scrape(t, reg)
	for _, c := range []struct {
		name string
		lv   []string
		want float64
	}{
		{"packetsleuth_rule_events_total", nil, 15},
		{"packetsleuth_rule_evaluations_total", []string{"rule", "PS-NET-001"}, 15},
		{"packetsleuth_alerts_total", []string{"rule", "PS-NET-001", "severity", "high"}, 3},
		{"packetsleuth_alerts_total", []string{"rule", "PS-DNS-002", "severity", "unknown"}, 0},
		{"packetsleuth_alerts_suppressed_total", []string{"rule", "PS-NET-001"}, 4},
		{"packetsleuth_rule_evaluation_seconds_total", []string{"rule", "PS-NET-001"}, 1.5},
		{"packetsleuth_rule_threshold_groups", nil, 3},
		{"packetsleuth_enrich_cache_hit_ratio", nil, 0.75},
		{"packetsleuth_enrich_cache_hits_total", nil, 30},
		{"packetsleuth_intel_matches_total", nil, 7},
		{"packetsleuth_intel_indicators", []string{"type", "domain"}, 12},
		{"packetsleuth_app_flows_total", []string{"protocol", "tls"}, 6},
		{"packetsleuth_parser_errors_total", []string{"protocol", "http"}, 1},
		{"packetsleuth_reassembly_gaps_total", nil, 2},
		{"packetsleuth_reassembly_gap_bytes_total", nil, 700},
		{"packetsleuth_reassembly_memory_bytes", nil, 3 * 4096},
		{"packetsleuth_reassembly_limit_hits_total", []string{"limit", "total"}, 1},
		{"packetsleuth_interface_packets_total", []string{"interface", "eth0"}, 100},
		{"packetsleuth_dropped_packets_total", []string{"interface", "eth0", "reason", "kernel"}, 5},
		{"packetsleuth_dropped_packets_total", []string{"interface", "eth0", "reason", "sensor"}, 2},
		{"packetsleuth_dropped_packets_total", []string{"interface", "eth0", "reason", "interface"}, 0},
	} {
		if got := value(t, fams, c.name, c.lv...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.lv, got, c.want)
		}
	}
	if _, ok := fams["packetsleuth_packets_total"]; ok {
		t.Error("pipeline metrics exported without a pipeline source")
	}
}

// Every family a scrape with all sources returns is in Names, and every
// name follows the conventions.
func TestNamesMatchExport(t *testing.T) {
	reg := prometheus.NewRegistry()
	_, err := New(reg, Sources{
		Version:    "x",
		Pipeline:   func() pipeline.Stats { return pipeline.Stats{Events: map[string]uint64{"a": 1}} },
		Interfaces: func() []InterfaceStats { return []InterfaceStats{{Name: "eth0"}} },
		App: func() app.Stats {
			return app.Stats{Detected: map[string]uint64{"dns": 1}, ParserErrors: map[string]uint64{"dns": 1}}
		},
		Outputs:   func() []outputs.Stats { return []outputs.Stats{{Name: "a", Type: "file"}} },
		Notifiers: func() []NotifierStats { return []NotifierStats{{Name: "soc", Type: "slack"}} },
		Rules:     func() rules.Stats { return rules.Stats{Rules: []rules.RuleStats{{ID: "r"}}} },
		Enrich:    func() enrich.Stats { return enrich.Stats{} },
		WebAuth:   func() WebAuthStats { return WebAuthStats{} },
		PcapRing:  func() pcapring.Stats { return pcapring.Stats{} },
	})
	if err != nil {
		t.Fatal(err)
	}
	fams := scrape(t, reg)
	names := Names()
	var got []string
	for n, f := range fams {
		got = append(got, n)
		if !slices.Contains(names, n) {
			t.Errorf("%s exported but not in Names", n)
		}
		if f.GetType() == dto.MetricType_COUNTER && !strings.HasSuffix(n, "_total") {
			t.Errorf("counter %s does not end in _total", n)
		}
		if f.GetType() != dto.MetricType_COUNTER && strings.HasSuffix(n, "_total") {
			t.Errorf("%s ends in _total but is a %v", n, f.GetType())
		}
		if !strings.HasPrefix(n, "packetsleuth_") || !model.LegacyValidation.IsValidMetricName(n) {
			t.Errorf("bad name %s", n)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, names) {
		t.Errorf("exported %v\nNames %v", got, names)
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New(nil, Sources{}); err == nil {
		t.Error("nil registerer accepted")
	}
	reg := prometheus.NewRegistry()
	src := Sources{Pipeline: func() pipeline.Stats { return pipeline.Stats{} }, Enrich: func() enrich.Stats { return enrich.Stats{} }}
	m, err := New(reg, src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(reg, src); err == nil {
		t.Error("registering twice succeeded")
	}
	m.Unregister()
	if _, err := New(reg, src); err != nil {
		t.Errorf("after Unregister: %v", err)
	}
}

func TestInvalidLabelValueDoesNotPanic(t *testing.T) {
	reg := prometheus.NewRegistry()
	bad := string([]byte{0xff, 0xfe})
	_, err := New(reg, Sources{Pipeline: func() pipeline.Stats {
		return pipeline.Stats{Frames: 3, Events: map[string]uint64{bad: 1}}
	}})
	if err != nil {
		t.Fatal(err)
	}
	fams := scrape(t, reg) // ContinueOnError: the rest is still served
	if got := value(t, fams, "packetsleuth_packets_total"); got != 3 {
		t.Errorf("packets_total = %v", got)
	}
}

func BenchmarkScrape(b *testing.B) {
	reg := prometheus.NewRegistry()
	rs := rules.Stats{}
	for i := range 200 {
		rs.Rules = append(rs.Rules, rules.RuleStats{ID: "PS-" + string(rune('A'+i%26)) + strings.Repeat("x", i/26), Evaluations: uint64(i)})
	}
	outs := make([]outputs.Stats, 5)
	for i := range outs {
		outs[i] = outputs.Stats{Name: string(rune('a' + i)), Type: "file"}
	}
	_, err := New(reg, Sources{
		Pipeline: func() pipeline.Stats { return pipeline.Stats{Frames: 1, Events: map[string]uint64{"a": 1, "b": 2}} },
		Outputs:  func() []outputs.Stats { return outs },
		Rules:    func() rules.Stats { return rs },
	})
	if err != nil {
		b.Fatal(err)
	}
	h := Handler(reg)
	req := httptest.NewRequest("GET", "/metrics", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
	}
}

// A real notifier's counters, through the sink's Stats method.
func TestNotifierMetrics(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	s, err := notify.NewWebhook(notify.WebhookOptions{URL: outputs.Secret(srv.URL)}, notify.Common{Tags: []string{"attack.t1046"}})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(tag string) schemas.Record {
		ev := &schemas.Event{Timestamp: time.Unix(1700000000, 0), Tags: []string{tag}}
		ev.Event = schemas.EventMeta{Kind: "alert", Dataset: schemas.DatasetAlert, Severity: 73}
		ev.Rule.ID = "PS-NET-001"
		rec, err := schemas.NewRecord(ev)
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	if err := s.Write(context.Background(), []schemas.Record{mk("attack.t1046"), mk("attack.t1595"), mk("ATTACK.T1046")}); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	if _, err := New(reg, Sources{Notifiers: func() []NotifierStats {
		return []NotifierStats{{Name: "soar", Type: "webhook", Stats: s.Stats()}}
	}}); err != nil {
		t.Fatal(err)
	}
	fams := scrape(t, reg)
	lv := []string{"output", "soar", "type", "webhook"}
	for name, want := range map[string]float64{
		"packetsleuth_notifier_alerts_received_total": 3,
		"packetsleuth_notifier_alerts_filtered_total": 1,
		"packetsleuth_notifier_alerts_notified_total": 2,
		"packetsleuth_notifier_messages_sent_total":   1, // one rule, one message
	} {
		if got := value(t, fams, name, lv...); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}
