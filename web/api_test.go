package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/store"
)

// TestOpenAPIMatchesRoutes: every route the server registers is in
// openapi.yaml and every operation there is registered.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	raw, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                    `yaml:"openapi"`
		Paths   map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi: %q, want 3.x", doc.OpenAPI)
	}
	var spec []string
	for p, ops := range doc.Paths {
		for m := range ops {
			switch m {
			case "get", "put", "post", "delete", "patch", "head", "options":
				spec = append(spec, strings.ToUpper(m)+" "+p)
			}
		}
	}
	slices.Sort(spec)
	s, err := New(Config{Auth: Auth{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	got := s.Routes()
	for _, r := range got {
		if !slices.Contains(spec, r) {
			t.Errorf("route %s is not in openapi.yaml", r)
		}
	}
	for _, r := range spec {
		if !slices.Contains(got, r) {
			t.Errorf("openapi.yaml documents %s, which the server does not register", r)
		}
	}
	if len(got) < 15 {
		t.Errorf("only %d routes registered: %v", len(got), got)
	}
}

// datasetCounts counts records by short dataset name.
func datasetCounts(recs []schemas.Record) map[string]int {
	m := map[string]int{}
	for _, r := range recs {
		if r.Kind == "alert" {
			m["alert"]++
			continue
		}
		m[strings.TrimPrefix(r.Dataset, "packetsleuth.")]++
	}
	return m
}

func TestAPIOnReplayedStore(t *testing.T) {
	st, recs, set := replayStore(t)
	counts := datasetCounts(recs)
	t.Logf("replayed records: %v", counts)
	if counts["flow"] == 0 || counts["dns"] == 0 || counts["http"] == 0 || counts["timeseries"] == 0 {
		t.Fatalf("the replay should give flows, DNS, HTTP and traffic buckets: %v", counts)
	}
	// TLS handshakes and alerts come from the shared captures only.
	if _, err := os.Stat("../../shared/pcaps"); err == nil && (counts["tls"] == 0 || counts["alert"] == 0) {
		t.Fatalf("the shared captures should give TLS events and alerts: %v", counts)
	}
	_, hs := testServer(t, Config{Store: st, Rules: set, Version: "test"})

	// Page through all flows 37 at a time with the cursor: every flow once,
	// newest first.
	var all []store.Item
	seen := map[int64]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		var pg ListPage
		if code := get(t, hs, "/api/v1/flows?limit=37&cursor="+url.QueryEscape(cursor), &pg); code != 200 {
			t.Fatalf("flows: %d", code)
		}
		for _, it := range pg.Items {
			if seen[it.ID] {
				t.Fatalf("flow %d on two pages", it.ID)
			}
			seen[it.ID] = true
			if n := len(all); n > 0 && it.Time.After(all[n-1].Time) {
				t.Fatalf("flows not newest first at %d", it.ID)
			}
			all = append(all, it)
		}
		if pg.Next == "" {
			break
		}
		cursor = pg.Next
		if pages > 10000 {
			t.Fatal("paging does not end")
		}
	}
	if len(all) != counts["flow"] {
		t.Fatalf("paged %d flows, replay wrote %d", len(all), counts["flow"])
	}

	// Totals of /top equal the sums over the flows themselves.
	var sumBytes, sumPkts int64
	byProto := map[string]int64{}
	bySrc := map[string]int64{}
	for _, it := range all {
		var ev schemas.Event
		if err := json.Unmarshal(it.JSON, &ev); err != nil {
			t.Fatal(err)
		}
		sumBytes += ev.Network.Bytes
		sumPkts += ev.Network.Packets
		byProto[ev.Network.Protocol] += ev.Network.Bytes
		bySrc[ev.Source.IP] += ev.Network.Bytes
	}
	var top TopAnswer
	get(t, hs, "/api/v1/top?group=network.protocol&limit=1000", &top)
	if top.Totals.Bytes != sumBytes || top.Totals.Packets != sumPkts || top.Totals.Flows != int64(len(all)) {
		t.Fatalf("top totals %+v, flows sum to %d bytes %d packets %d flows", top.Totals, sumBytes, sumPkts, len(all))
	}
	if len(top.Rows) != len(byProto) {
		t.Fatalf("%d protocol rows, want %d", len(top.Rows), len(byProto))
	}
	for _, r := range top.Rows {
		if byProto[r.Key] != r.Bytes {
			t.Errorf("protocol %q: %d bytes, flows say %d", r.Key, r.Bytes, byProto[r.Key])
		}
	}
	get(t, hs, "/api/v1/top?group=source.ip&limit=3", &top)
	if len(top.Rows) != 3 || top.Rows[0].Bytes != slices.Max(mapValues(bySrc)) {
		t.Fatalf("top source: %+v, max by flows %d", top.Rows, slices.Max(mapValues(bySrc)))
	}

	// IP, port and protocol filters return only matching flows.
	ip := top.Rows[0].Key
	var pg ListPage
	get(t, hs, "/api/v1/flows?limit=1000&ip="+url.QueryEscape(ip), &pg)
	if len(pg.Items) == 0 {
		t.Fatal("no flows of the top talker")
	}
	for _, it := range pg.Items {
		var ev schemas.Event
		json.Unmarshal(it.JSON, &ev)
		if ev.Source.IP != ip && ev.Destination.IP != ip {
			t.Fatalf("ip filter %s returned %s -> %s", ip, ev.Source.IP, ev.Destination.IP)
		}
	}
	get(t, hs, "/api/v1/flows?limit=1000&protocol=dns&port=53", &pg)
	if len(pg.Items) == 0 {
		t.Fatal("no DNS flows")
	}
	for _, it := range pg.Items {
		var ev schemas.Event
		json.Unmarshal(it.JSON, &ev)
		if ev.Network.Protocol != "dns" && ev.Network.Transport != "dns" || ev.Source.Port != 53 && ev.Destination.Port != 53 {
			t.Fatalf("protocol/port filter returned %+v", ev.Network)
		}
	}

	// Pivot: the DNS events of a DNS flow's community id all carry it.
	var cid string
	for _, it := range pg.Items {
		var ev schemas.Event
		json.Unmarshal(it.JSON, &ev)
		if ev.Network.CommunityID != "" {
			cid = ev.Network.CommunityID
			break
		}
	}
	var dns ListPage
	get(t, hs, "/api/v1/events?dataset=dns&community_id="+url.QueryEscape(cid), &dns)
	if len(dns.Items) == 0 {
		t.Fatalf("no DNS events for flow %s", cid)
	}
	for _, it := range dns.Items {
		if !strings.Contains(string(it.JSON), cid) || it.Dataset != schemas.DatasetDNS {
			t.Fatalf("event %d is not a DNS event of %s", it.ID, cid)
		}
	}
	if code := get(t, hs, "/api/v1/events", &struct{}{}); code != 400 {
		t.Fatalf("events without dataset: %d, want 400", code)
	}

	// Alerts: severity filter, acknowledge, unacked filter.
	var alerts ListPage
	get(t, hs, "/api/v1/alerts?limit=1000", &alerts)
	if len(alerts.Items) != counts["alert"] {
		t.Fatalf("%d alerts listed, replay wrote %d", len(alerts.Items), counts["alert"])
	}
	sevOf := func(it store.Item) int {
		var ev schemas.Event
		json.Unmarshal(it.JSON, &ev)
		return ev.Event.Severity
	}
	for _, sev := range []string{"low", "medium", "high", "critical"} {
		want := 0
		for _, it := range alerts.Items {
			if sevOf(it) >= map[string]int{"low": 21, "medium": 47, "high": 73, "critical": 99}[sev] {
				want++
			}
		}
		// Page two at a time to exercise the scanning cursor.
		got, cur := 0, ""
		for {
			var p ListPage
			get(t, hs, "/api/v1/alerts?limit=2&severity="+sev+"&cursor="+url.QueryEscape(cur), &p)
			got += len(p.Items)
			if p.Next == "" {
				break
			}
			cur = p.Next
		}
		if got != want {
			t.Errorf("severity>=%s: %d alerts, want %d", sev, got, want)
		}
	}
	var summary struct{ Rules []AlertSummary }
	get(t, hs, "/api/v1/alerts/summary", &summary)
	total := int64(0)
	for _, r := range summary.Rules {
		total += r.Count
		if set.Rule(r.RuleID) == nil || r.Severity != set.Rule(r.RuleID).Severity {
			t.Errorf("summary row %+v: rule unknown or severity differs from the rule's", r)
		}
	}
	if total != int64(counts["alert"]) {
		t.Fatalf("summary counts %d alerts, want %d", total, counts["alert"])
	}
	if len(alerts.Items) > 0 { // the shared captures give alerts; the project's own give none
		first := alerts.Items[0]
		if code := postJSON(t, hs, fmt.Sprintf("/api/v1/alerts/%d/acknowledge", first.ID), `{"acknowledged":true}`, bearer); code != 200 {
			t.Fatalf("ack: %d", code)
		}
		var unacked ListPage
		get(t, hs, "/api/v1/alerts?limit=1000&unacked=true", &unacked)
		if len(unacked.Items) != counts["alert"]-1 || slices.ContainsFunc(unacked.Items, func(it store.Item) bool { return it.ID == first.ID }) {
			t.Fatalf("after ack: %d unacked, want %d without %d", len(unacked.Items), counts["alert"]-1, first.ID)
		}
		if code := putJSON(t, hs, fmt.Sprintf("/api/v1/alerts/%d/acknowledge", first.ID), `{"acknowledged":false}`); code != 200 {
			t.Fatalf("unack: %d", code)
		}
		get(t, hs, "/api/v1/alerts?limit=1000&unacked=true", &unacked)
		if len(unacked.Items) != counts["alert"] {
			t.Fatalf("after unack: %d unacked, want %d", len(unacked.Items), counts["alert"])
		}
	}
	if code := postJSON(t, hs, "/api/v1/alerts/999999999/acknowledge", `{}`, bearer); code != 404 {
		t.Fatalf("ack of unknown alert: %d, want 404", code)
	}

	// Series: the buckets of the project's captures' day add up to what
	// the replay's traffic records of that day say.
	day0, day1 := testBase, testBase.Add(24*time.Hour)
	var wantBytes int64
	for _, r := range recs {
		if r.Dataset == schemas.DatasetTimeseries && !r.Time.Before(day0) && r.Time.Before(day1) {
			var ev schemas.Event
			json.Unmarshal(r.JSON, &ev)
			wantBytes += ev.Sensor.Traffic.Bytes
		}
	}
	var ser SeriesAnswer
	if code := get(t, hs, "/api/v1/series?resolution=1m&since="+day0.Format(time.RFC3339)+"&until="+day1.Format(time.RFC3339), &ser); code != 200 {
		t.Fatal(code)
	}
	var gotBytes int64
	for _, p := range ser.Points {
		gotBytes += p.Bytes
	}
	if gotBytes != wantBytes || wantBytes == 0 || len(ser.Points) != 24*60 {
		t.Fatalf("series sums to %d bytes in %d points, traffic records to %d", gotBytes, len(ser.Points), wantBytes)
	}
	get(t, hs, "/api/v1/series?points=50&since="+day0.Format(time.RFC3339)+"&until="+day1.Format(time.RFC3339), &ser)
	if len(ser.Points) != 48 || ser.Resolution != 1800 { // the finest step giving at most 50 points
		t.Fatalf("auto resolution: %d points at %d s", len(ser.Points), ser.Resolution)
	}
	if code := get(t, hs, "/api/v1/series?resolution=1500ms", &ser); code != 400 {
		t.Fatalf("fractional resolution: %d, want 400", code)
	}

	// Rules and status.
	var rl struct{ Rules []RuleInfo }
	get(t, hs, "/api/v1/rules", &rl)
	if len(rl.Rules) != len(set.Rules()) || len(rl.Rules) == 0 {
		t.Fatalf("%d rules listed, set has %d", len(rl.Rules), len(set.Rules()))
	}
	var stt Status
	get(t, hs, "/api/v1/status", &stt)
	if stt.Mode != "history" || stt.Store == nil || stt.Store.Newest == nil || stt.Pipeline != nil || stt.Rules != len(set.Rules()) {
		t.Fatalf("status: %+v", stt)
	}
	// Live connections need live state.
	if code := get(t, hs, "/api/v1/connections", &struct{}{}); code != 503 {
		t.Fatalf("connections without live state: %d, want 503", code)
	}
	// Bad parameters are 400 with a message.
	for _, q := range []string{"/api/v1/flows?limit=0", "/api/v1/flows?port=70000", "/api/v1/flows?since=yesterday",
		"/api/v1/flows?ip=not-an-ip", "/api/v1/flows?cursor=x'", "/api/v1/top?group=password", "/api/v1/alerts?severity=urgent"} {
		if code := get(t, hs, q, &struct{}{}); code != 400 {
			t.Errorf("%s: %d, want 400", q, code)
		}
	}
}

func mapValues(m map[string]int64) []int64 {
	var out []int64
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func TestConnections(t *testing.T) {
	live := newFakeLive()
	_, hs := testServer(t, Config{Live: live})
	var pg ConnectionsPage
	get(t, hs, "/api/v1/connections", &pg)
	if pg.Total != 5 || len(pg.Items) != 5 || pg.Items[0].CommunityID != "1:c" || pg.Items[4].CommunityID != "1:e" {
		t.Fatalf("default sort by bytes desc: %+v", pg.Items)
	}
	cases := []struct {
		q    string
		want []string
	}{
		{"ip=10.0.0.5", []string{"1:c", "1:a"}},
		{"ip=10.0.0.0/24&sort=source", []string{"1:a", "1:c", "1:b", "1:e"}},
		{"ip=2001:db8::443", []string{"1:d"}},
		{"port=53", []string{"1:b"}},
		{"protocol=TCP&sort=duration", []string{"1:d", "1:c", "1:a"}},
		{"protocol=dns", []string{"1:b"}},
		{"sort=duration&order=asc", []string{"1:e", "1:b", "1:a", "1:c", "1:d"}},
		{"sort=port", []string{"1:e", "1:d", "1:b", "1:a", "1:c"}},
		{"sort=packets&limit=2&offset=1", []string{"1:a", "1:d"}},
		{"sort=protocol", []string{"1:b", "1:a", "1:e", "1:d", "1:c"}},
	}
	for _, c := range cases {
		var pg ConnectionsPage
		if code := get(t, hs, "/api/v1/connections?"+c.q, &pg); code != 200 {
			t.Fatalf("%s: %d", c.q, code)
		}
		var got []string
		for _, it := range pg.Items {
			got = append(got, it.CommunityID)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.q, got, c.want)
		}
	}
	var stt Status
	get(t, hs, "/api/v1/status", &stt)
	if stt.Mode != "live" || stt.Pipeline == nil || stt.Pipeline.Frames != 12345 || stt.Store != nil {
		t.Fatalf("live status: %+v", stt)
	}
	if code := get(t, hs, "/api/v1/connections?sort=evil", &pg); code != 400 {
		t.Fatalf("bad sort: %d", code)
	}
	if code := get(t, hs, "/api/v1/flows", &pg); code != 503 {
		t.Fatalf("flows without a store: %d, want 503", code)
	}
}

// TestPageLatency100k fills SQLite with 100 000 flows and reports how long
// the list, filter, pivot and top endpoints take (no threshold: the
// figures are for the report; `go test -run PageLatency -v`).
func TestPageLatency100k(t *testing.T) {
	if testing.Short() {
		t.Skip("100k rows: skipped with -short")
	}
	st := openStore(t)
	const n = 100_000
	base := testBase
	batch := make([]schemas.Record, 0, 5000)
	for i := range n {
		ev := schemas.Event{Timestamp: base.Add(timeStep(i))}
		ev.Event.Kind, ev.Event.Dataset = "event", schemas.DatasetFlow
		ev.Event.Start = ev.Timestamp.Add(-timeStep(1))
		ev.Network.Transport = []string{"tcp", "udp"}[i%2]
		ev.Network.Protocol = []string{"http", "dns", "tls", ""}[i%4]
		ev.Network.Bytes, ev.Network.Packets = int64(100+i%1000), int64(1+i%10)
		ev.Network.CommunityID = fmt.Sprintf("1:%08d", i)
		ev.Source.IP = fmt.Sprintf("10.%d.%d.%d", i%7, (i/7)%250, i%200+1)
		ev.Source.Port = 1024 + i%60000
		ev.Destination.IP = fmt.Sprintf("192.0.2.%d", i%250+1)
		ev.Destination.Port = []int{80, 53, 443, 22}[i%4]
		rec, err := schemas.NewRecord(&ev)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, rec)
		if len(batch) == cap(batch) {
			if _, err := st.Insert(context.Background(), batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	_, hs := testServer(t, Config{Store: st})
	var pg ListPage
	get(t, hs, "/api/v1/flows?limit=50", &pg)
	if len(pg.Items) != 50 || pg.Next == "" {
		t.Fatalf("first page: %d items", len(pg.Items))
	}
	deep := pg.Next
	for range 200 { // walk 200 pages deep for a realistic cursor
		get(t, hs, "/api/v1/flows?limit=50&cursor="+deep, &pg)
		deep = pg.Next
	}
	for _, q := range []string{
		"/api/v1/flows?limit=50",
		"/api/v1/flows?limit=50&cursor=" + deep,
		"/api/v1/flows?limit=50&offset=50000",
		"/api/v1/flows?limit=50&ip=192.0.2.77",
		"/api/v1/flows?limit=50&port=443&protocol=tls",
		"/api/v1/flows?limit=50&community_id=1:00054321",
		"/api/v1/top?group=source.ip&limit=10",
		"/api/v1/top?group=destination.port",
	} {
		const runs = 5
		var best, total float64
		for i := range runs {
			start := nowMono()
			if code := get(t, hs, q, &struct{}{}); code != 200 {
				t.Fatalf("%s: %d", q, code)
			}
			ms := sinceMono(start)
			total += ms
			if i == 0 || ms < best {
				best = ms
			}
		}
		t.Logf("100k flows: %-50s best %6.1f ms, mean %6.1f ms", q, best, total/runs)
	}
}
