package notify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/outputs/outputstest"
	"github.com/packetsleuth/packetsleuth/schemas"
)

func TestTagRoute(t *testing.T) {
	r := newTagRoute([]string{"attack.T1046"})
	cases := []struct {
		tags []string
		tech []string
		want bool
	}{
		{[]string{"attack.t1046"}, nil, true},
		{[]string{"x", "ATTACK.T1046"}, nil, true},
		{[]string{"attack.t1595"}, nil, false},
		{nil, []string{"T1046"}, true}, // technique id
		{nil, nil, false},
	}
	for _, c := range cases {
		a := Alert{Tags: c.tags, Techniques: c.tech}
		if got := r.Match(&a); got != c.want {
			t.Errorf("%+v: %v, want %v", c, got, c.want)
		}
	}
	if !newTagRoute(nil).Match(&Alert{}) {
		t.Error("no tags: an alert was left out")
	}
}

func TestSeverityName(t *testing.T) {
	for n, want := range map[int]string{0: "", 21: "low", 46: "low", 47: "medium", 73: "high", 98: "high", 99: "critical"} {
		if got := SeverityName(n); got != want {
			t.Errorf("SeverityName(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestParseAlert(t *testing.T) {
	a, err := ParseAlert(alertRecord(t, "PS-NET-001", 73, "192.0.2.7", "attack.t1046"))
	if err != nil {
		t.Fatal(err)
	}
	if a.RuleID != "PS-NET-001" || a.Severity != "high" || a.Source() != "192.0.2.7:40000" || a.Destination() != "10.0.0.2:22" ||
		a.Observer != "sensor-1" || !slices.Equal(a.Tags, []string{"attack.t1046"}) || !a.Time.Equal(t0) {
		t.Errorf("%+v", a)
	}
	if _, err := ParseAlert(schemas.Record{Kind: "alert", JSON: []byte("{")}); err == nil {
		t.Error("bad JSON accepted")
	}
}

func TestDefaultTemplates(t *testing.T) {
	tpl, err := newTemplates(Common{}, true)
	if err != nil {
		t.Fatal(err)
	}
	a1, _ := ParseAlert(alertRecord(t, "PS-NET-001", 73, "192.0.2.7", "attack.t1046"))
	a2, _ := ParseAlert(alertRecord(t, "PS-NET-001", 99, "192.0.2.8"))
	one := Message{RuleID: "PS-NET-001", RuleName: a1.RuleName, Severity: "high", Count: 1, Alerts: []Alert{a1}}
	r, err := tpl.render(&one)
	if err != nil {
		t.Fatal(err)
	}
	if r.Title != "[HIGH] PS-NET-001 Name of PS-NET-001" {
		t.Errorf("title %q", r.Title)
	}
	for _, want := range []string{"2026-03-01 12:00:00Z high PS-NET-001 192.0.2.7:40000 -> 10.0.0.2:22 (tcp)", "Tags: attack.t1046", "Description of PS-NET-001"} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, r.Text)
		}
	}
	grp := Message{RuleID: "PS-NET-001", RuleName: a1.RuleName, Severity: "critical", Count: 5, Omitted: 3, Window: "1m",
		Alerts: []Alert{a1, a2}, Sensor: "sensor-1"}
	r, err = tpl.render(&grp)
	if err != nil {
		t.Fatal(err)
	}
	if r.Title != "[CRITICAL] PS-NET-001 Name of PS-NET-001 (5 alerts in the last 1m)" {
		t.Errorf("title %q", r.Title)
	}
	for _, want := range []string{"5 alerts of PS-NET-001 in the last 1m on sensor-1", "192.0.2.8:40000", "... and 3 more"} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, r.Text)
		}
	}
	if !strings.Contains(r.HTML, "<td>192.0.2.8:40000</td>") || !strings.Contains(r.HTML, "<h2>[CRITICAL] PS-NET-001") {
		t.Errorf("html:\n%s", r.HTML)
	}
	// html/template escapes what an attacker controls
	a1.DNSQuestion = "<script>x</script>.example"
	grp.Alerts = []Alert{a1}
	r, _ = tpl.render(&grp)
	if strings.Contains(r.HTML, "<script>") {
		t.Error("HTML not escaped")
	}
	if _, err := newTemplates(Common{TextTemplate: "{{.Nope}}"}, false); err == nil {
		t.Error("template naming a missing field accepted")
	}
	if _, err := newTemplates(Common{TitleTemplate: "{{"}, false); err == nil {
		t.Error("broken template accepted")
	}
}

// sinkFromYAML builds a notifier through the outputs registry.
func sinkFromYAML(t *testing.T, doc string) (outputs.Sink, error) {
	t.Helper()
	var cfg outputs.SinkConfig
	if err := yaml.Unmarshal([]byte(doc), &cfg); err != nil {
		t.Fatal(err)
	}
	return outputs.NewSink(cfg)
}

func TestRegistryAndConfig(t *testing.T) {
	for _, typ := range []string{"slack", "telegram", "email", "webhook"} {
		if !slices.Contains(outputs.Types(), typ) {
			t.Errorf("%s not registered", typ)
		}
	}
	t.Setenv("PS_TEST_WEBHOOK_SECRET", "s3cret")
	s, err := sinkFromYAML(t, `
type: webhook
url: http://127.0.0.1:9/hook
secret: env:PS_TEST_WEBHOOK_SECRET
min_severity: high
tags: [attack.t1046]
group_window: 1m
rate_limit: 3
rate_period: 1h
queue_size: 100
`)
	if err != nil {
		t.Fatal(err)
	}
	w := s.(*Webhook)
	if string(w.secret) != "s3cret" || w.c.GroupWindow != time.Minute || w.c.RateLimit != 3 || len(w.route) != 1 {
		t.Errorf("config not applied: %+v", w.c)
	}
	_, err = sinkFromYAML(t, "type: slack\nurl: https://hooks.example/x\nmin_severty: high\n")
	if err == nil || !strings.Contains(err.Error(), `unknown key "min_severty"`) || !strings.Contains(err.Error(), "min_severity") {
		t.Errorf("typo not reported well: %v", err)
	}
	for _, bad := range []string{
		"type: slack\nurl: ftp://x\n",
		"type: telegram\nchat_id: '1'\n",
		"type: telegram\ntoken: x\n",
		"type: email\naddress: smtp.example:25\nfrom: a@b\n",
		"type: email\naddress: nohost\nfrom: a@b\nto: [c@d]\n",
		"type: email\naddress: h:25\nfrom: a@b\nto: [c@d]\nauth: login\n",
		"type: webhook\nurl: http://x/\ngroup_by: host\n",
	} {
		if _, err := sinkFromYAML(t, bad); err == nil {
			t.Errorf("accepted:\n%s", bad)
		}
	}
}

func newTestWebhook(t *testing.T, url string, c Common) (*Webhook, *fakeClock) {
	t.Helper()
	w, err := NewWebhook(WebhookOptions{URL: outputs.Secret(url)}, c)
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{t: t0}
	w.now = clk.now
	return w, clk
}

func payloads(t *testing.T, rec *recorder) []WebhookPayload {
	var out []WebhookPayload
	for _, r := range rec.requests() {
		var p WebhookPayload
		decodeJSON(t, r.Body, &p)
		out = append(out, p)
	}
	return out
}

func TestGroupingWindow(t *testing.T) {
	srv := newRecorder(t, status(200, "ok"))
	w, clk := newTestWebhook(t, srv.URL, Common{GroupWindow: time.Minute, MaxAlerts: 3})
	ctx := context.Background()
	var batch []schemas.Record
	for range 5 {
		batch = append(batch, alertRecord(t, "PS-NET-001", 73, "192.0.2.7"))
	}
	batch = append(batch, flowRecord(t), alertRecord(t, "PS-DNS-002", 47, "192.0.2.9"))
	if err := w.Write(ctx, batch); err != nil {
		t.Fatal(err)
	}
	clk.add(30 * time.Second)
	if err := w.Write(ctx, []schemas.Record{alertRecord(t, "PS-NET-001", 99, "192.0.2.8")}); err != nil {
		t.Fatal(err)
	}
	w.flushDue(ctx, false)
	if n := len(srv.requests()); n != 0 {
		t.Fatalf("%d messages before the window passed", n)
	}
	if st := w.Stats(); st.Pending != 7 || st.Alerts != 7 {
		t.Errorf("stats %+v", st)
	}
	clk.add(30 * time.Second)
	w.flushDue(ctx, false)
	ps := payloads(t, srv)
	if len(ps) != 2 {
		t.Fatalf("%d messages, want 2 (one per rule)", len(ps))
	}
	net := ps[0]
	if net.RuleID != "PS-NET-001" || net.Count != 6 || len(net.Alerts) != 3 || net.Severity != "critical" || net.Window != "1m" {
		t.Errorf("group message %+v", net)
	}
	if !strings.Contains(net.Text, "6 alerts of PS-NET-001 in the last 1m") || !strings.Contains(net.Text, "... and 3 more") {
		t.Errorf("text:\n%s", net.Text)
	}
	if ps[1].RuleID != "PS-DNS-002" || ps[1].Count != 1 {
		t.Errorf("second message %+v", ps[1])
	}
	// the alert documents are passed through as they were
	var doc schemas.Event
	decodeJSON(t, net.Alerts[0], &doc)
	if doc.Rule.ID != "PS-NET-001" || doc.Source.IP != "192.0.2.7" {
		t.Errorf("alert document %+v", doc)
	}
	if st := w.Stats(); st.Messages != 2 || st.Notified != 7 || st.Pending != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestGroupBySource(t *testing.T) {
	srv := newRecorder(t, status(200, "ok"))
	w, clk := newTestWebhook(t, srv.URL, Common{GroupWindow: time.Minute, GroupBy: "rule_source"})
	w.Write(context.Background(), []schemas.Record{
		alertRecord(t, "R", 21, "192.0.2.1"), alertRecord(t, "R", 21, "192.0.2.2"), alertRecord(t, "R", 21, "192.0.2.1"),
	})
	clk.add(time.Minute)
	w.flushDue(context.Background(), false)
	ps := payloads(t, srv)
	if len(ps) != 2 || ps[0].Count != 2 || ps[1].Count != 1 {
		t.Errorf("%d messages: %+v", len(ps), ps)
	}
}

func TestCloseFlushesGroups(t *testing.T) {
	srv := newRecorder(t, status(200, "ok"))
	w, _ := newTestWebhook(t, srv.URL, Common{GroupWindow: time.Hour})
	if err := w.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.Write(context.Background(), []schemas.Record{alertRecord(t, "R", 21, "192.0.2.1")})
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.requests()); n != 1 {
		t.Errorf("%d messages after Close, want 1", n)
	}
}

// The outputs' Fanout uses its copies of the records again once every
// output is done with them; a webhook keeps grouped alerts past the Write
// that gave them, and each must still be the alert written.
func TestGroupedAlertsOutliveSharedCopies(t *testing.T) {
	srv := newRecorder(t, status(200, "ok"))
	w, _ := newTestWebhook(t, srv.URL, Common{GroupWindow: time.Hour, MaxAlerts: 1000})
	var recs []schemas.Record
	want := map[string]int{}
	for i := range 2000 {
		rec := alertRecord(t, fmt.Sprintf("R-%d", i%4), 73, "192.0.2.1", strconv.Itoa(i))
		recs = append(recs, rec)
		want[string(rec.JSON)]++
	}
	if sum := outputstest.WriteShared(t, w, outputs.SinkConfig{Name: "webhook", Type: "webhook"}, recs, 64); sum.Sent != uint64(len(recs)) {
		t.Fatalf("summary %v", sum)
	}
	n := 0
	for _, p := range payloads(t, srv) {
		for _, doc := range p.Alerts {
			if want[string(doc)] == 0 {
				t.Fatalf("alert %.100s is not one written, or came twice", doc)
			}
			want[string(doc)]--
			n++
		}
	}
	if n != len(recs) {
		t.Fatalf("%d alerts in the messages of %d", n, len(recs))
	}
}

func TestGroupRetryBackoff(t *testing.T) {
	srv := newRecorder(t, status(500, "boom"), status(502, "boom"), status(200, "ok"))
	w, clk := newTestWebhook(t, srv.URL, Common{GroupWindow: time.Minute, RetryMin: 10 * time.Second, MaxAttempts: 5})
	ctx := context.Background()
	w.Write(ctx, []schemas.Record{alertRecord(t, "R", 21, "192.0.2.1")})
	clk.add(time.Minute)
	w.flushDue(ctx, false) // fails; next try in 10s
	w.flushDue(ctx, false)
	if n := len(srv.requests()); n != 1 {
		t.Fatalf("%d attempts, want 1 before the backoff passed", n)
	}
	// an alert arriving during the backoff joins the retried group
	w.Write(ctx, []schemas.Record{alertRecord(t, "R", 21, "192.0.2.1")})
	clk.add(10 * time.Second)
	w.flushDue(ctx, false) // fails; next in 20s
	clk.add(19 * time.Second)
	w.flushDue(ctx, false)
	if n := len(srv.requests()); n != 2 {
		t.Fatalf("%d attempts, want 2 (backoff doubled)", n)
	}
	clk.add(time.Second)
	w.flushDue(ctx, false)
	ps := payloads(t, srv)
	if len(ps) != 3 || ps[2].Count != 2 {
		t.Fatalf("%d attempts, last %+v", len(ps), ps[len(ps)-1])
	}
	if st := w.Stats(); st.Failures != 2 || st.Messages != 1 || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestGroupGivesUp(t *testing.T) {
	srv := newRecorder(t, status(400, "bad"))
	w, clk := newTestWebhook(t, srv.URL, Common{GroupWindow: time.Minute})
	w.Write(context.Background(), []schemas.Record{alertRecord(t, "R", 21, "192.0.2.1"), alertRecord(t, "R", 21, "192.0.2.1")})
	clk.add(time.Minute)
	w.flushDue(context.Background(), false)
	if st := w.Stats(); st.Dropped != 2 || st.Pending != 0 || len(srv.requests()) != 1 {
		t.Errorf("a permanent error was retried or not counted: %+v", st)
	}
}

func TestRateLimitHoldsBack(t *testing.T) {
	srv := newRecorder(t, status(200, "ok"))
	w, clk := newTestWebhook(t, srv.URL, Common{RateLimit: 2, RatePeriod: time.Minute})
	ctx := context.Background()
	for _, rule := range []string{"A", "B", "C", "C", "D"} {
		if err := w.Write(ctx, []schemas.Record{alertRecord(t, rule, 21, "192.0.2.1")}); err != nil {
			t.Fatal(err)
		}
		clk.add(time.Second)
	}
	if n := len(srv.requests()); n != 2 {
		t.Fatalf("%d messages within the limit of 2", n)
	}
	st := w.Stats()
	if st.RateLimited != 2 || st.Pending != 3 {
		t.Errorf("stats %+v (C twice held in one group, D held)", st)
	}
	w.flushDue(ctx, false)
	if n := len(srv.requests()); n != 2 {
		t.Fatalf("sent %d before the period passed", n)
	}
	clk.add(time.Minute)
	w.flushDue(ctx, false)
	ps := payloads(t, srv)
	if len(ps) != 4 || ps[2].RuleID != "C" || ps[2].Count != 2 || ps[3].RuleID != "D" {
		t.Fatalf("%+v", ps)
	}
}

func TestSyncFailuresAreBatchErrors(t *testing.T) {
	srv := newRecorder(t, status(500, "down"))
	w, _ := newTestWebhook(t, srv.URL, Common{})
	batch := []schemas.Record{flowRecord(t), alertRecord(t, "A", 21, "192.0.2.1"), alertRecord(t, "B", 21, "192.0.2.1"),
		alertRecord(t, "A", 21, "192.0.2.1"), {Kind: "alert", JSON: []byte("{bad")}}
	err := w.Write(context.Background(), batch)
	var be *outputs.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("err %v", err)
	}
	slices.Sort(be.Failed)
	if !slices.Equal(be.Failed, []int{1, 2, 3}) || !slices.Equal(be.Permanent, []int{4}) {
		t.Errorf("failed %v permanent %v", be.Failed, be.Permanent)
	}
	if n := len(srv.requests()); n != 2 {
		t.Errorf("%d requests, want 2 (one per rule)", n)
	}
	srv400 := newRecorder(t, status(400, "invalid_payload"))
	w, _ = newTestWebhook(t, srv400.URL, Common{})
	err = w.Write(context.Background(), batch[:2])
	if !errors.As(err, &be) || len(be.Failed) != 0 || !slices.Equal(be.Permanent, []int{1}) {
		t.Errorf("400: %v", err)
	}
}

// The Runner retries a failed notification and delivers it once.
func TestUnderRunner(t *testing.T) {
	srv := newRecorder(t, status(503, "busy"), status(200, "ok"))
	s, err := sinkFromYAML(t, "type: webhook\nurl: "+srv.URL+"\n")
	if err != nil {
		t.Fatal(err)
	}
	r, err := outputs.NewRunner(s, outputs.SinkConfig{Type: "webhook", FlushInterval: 10 * time.Millisecond, RetryMin: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r.Enqueue([]schemas.Record{flowRecord(t), alertRecord(t, "A", 73, "192.0.2.1"), flowRecord(t)})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	deadline := time.Now().Add(5 * time.Second)
	for len(srv.requests()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	sum, err := r.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ps := payloads(t, srv)
	if len(ps) != 2 || ps[1].RuleID != "A" || sum.Sent != 3 {
		t.Errorf("requests %d, summary %+v", len(ps), sum)
	}
	if st := r.Stats(); st.Retried == 0 || st.Errors != 1 {
		t.Errorf("runner stats %+v", st)
	}
}

// An alert flood from many sources holds at most maxHeldGroups groups (in
// their window, or held back by the rate limit): the alerts past it go to
// their rule's overflow group, counted, not a group each.
func TestHeldGroupsBounded(t *testing.T) {
	const extra = 300
	var recs []schemas.Record
	for i := range maxHeldGroups + extra {
		recs = append(recs, alertRecord(t, "R", 21, fmt.Sprintf("10.%d.%d.1", i/256, i%256)))
	}
	held := func(w *Webhook) int { w.mu.Lock(); defer w.mu.Unlock(); return len(w.groups) }

	srv := newRecorder(t, status(200, "ok"))
	w, clk := newTestWebhook(t, srv.URL, Common{GroupWindow: time.Minute, GroupBy: "rule_source"})
	if err := w.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if n, st := held(w), w.Stats(); n != maxHeldGroups+1 || st.Pending != len(recs) {
		t.Fatalf("%d groups held, %d alerts pending; want %d and %d", n, st.Pending, maxHeldGroups+1, len(recs))
	}
	clk.add(time.Minute)
	w.flushDue(context.Background(), false)
	ps := payloads(t, srv)
	if len(ps) != maxHeldGroups+1 || ps[len(ps)-1].Count != extra {
		t.Errorf("%d messages, the last of %d alerts; want %d, the last of %d", len(ps), ps[len(ps)-1].Count, maxHeldGroups+1, extra)
	}

	// group_by none, held back by the rate limit: a group per alert, bounded
	w, _ = newTestWebhook(t, srv.URL, Common{GroupBy: "none", RateLimit: 1, RatePeriod: time.Hour})
	if err := w.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if n, st := held(w), w.Stats(); n > maxHeldGroups+1 || st.Pending != len(recs)-1 {
		t.Errorf("rate limited: %d groups held, %d alerts pending; want at most %d, and %d", n, st.Pending, maxHeldGroups+1, len(recs)-1)
	}
}
