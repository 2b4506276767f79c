package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/store"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func rec(t *testing.T, ev *schemas.Event) schemas.Record {
	r, err := schemas.NewRecord(ev)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fixture stores 40 minutes of traffic with a spike at minute 30, a few
// flows and alerts.
func fixture(t *testing.T) *store.Store {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{Path: filepath.Join(t.TempDir(), "r.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var recs []schemas.Record
	for m := range 40 {
		ev := &schemas.Event{Timestamp: t0.Add(time.Duration(m) * time.Minute)}
		ev.Event = schemas.EventMeta{Kind: "metric", Dataset: schemas.DatasetTimeseries, Duration: time.Second}
		b := int64(1000 + 37*(m%5))
		if m == 30 {
			b = 9000
		}
		ev.Sensor.Traffic = schemas.Traffic{Packets: b / 100, Bytes: b, Flows: 1, BytesByProtocol: map[string]int64{"tcp": b}}
		recs = append(recs, rec(t, ev))
	}
	flows := []struct {
		src, dst string
		port     int
		proto    string
		bytes    int64
	}{
		{"10.0.0.1", "192.0.2.1", 443, "tls", 5000}, {"10.0.0.1", "192.0.2.2", 80, "http", 3000},
		{"10.0.0.2", "192.0.2.1", 443, "tls", 7000}, {"10.0.0.3", "198.51.100.7", 53, "dns", 200},
		{"10.0.0.2", "192.0.2.1", 22, "", 900},
	}
	for i, f := range flows {
		ev := &schemas.Event{Timestamp: t0.Add(time.Duration(5*i+1) * time.Minute)}
		ev.Event = schemas.EventMeta{Kind: "event", Dataset: schemas.DatasetFlow}
		ev.Source.IP, ev.Destination.IP, ev.Destination.Port = f.src, f.dst, f.port
		ev.Network = schemas.Network{Transport: "tcp", Protocol: f.proto, Bytes: f.bytes, Packets: f.bytes / 100}
		recs = append(recs, rec(t, ev))
	}
	for i, id := range []string{"PS-2", "PS-1", "PS-2"} {
		ev := &schemas.Event{Timestamp: t0.Add(time.Duration(i+2) * time.Minute)}
		ev.Event = schemas.EventMeta{Kind: "alert", Dataset: schemas.DatasetAlert, Severity: 47}
		ev.Rule.ID, ev.Rule.Name = id, "Rule <"+id+">"
		recs = append(recs, rec(t, ev))
	}
	if _, err := st.Insert(ctx, recs); err != nil {
		t.Fatal(err)
	}
	return st
}

func build(t *testing.T) *Report {
	st := fixture(t)
	_, newest, err := st.Bounds(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rng, err := ParseRange("1h", "", newest, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Build(context.Background(), st, Options{Range: rng, Top: 3, Resolution: time.Minute, Peaks: store.PeakOptions{Window: 20, K: 3}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.WriteFile(path, got, 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n%s", name, got)
	}
}

func TestReportGolden(t *testing.T) {
	r := build(t)
	// Facts checked here independently of the golden files.
	if r.Totals.Bytes != 16100 || r.Totals.Flows != 5 {
		t.Errorf("totals %+v", r.Totals)
	}
	if len(r.Top) != 4 || r.Top[0].Rows[0].Key != "10.0.0.1" || r.Top[0].Rows[0].Bytes != 8000 || r.Top[0].Rows[1].Bytes != 7900 {
		t.Errorf("top source.ip %+v", r.Top[0])
	}
	if len(r.Peaks) != 1 || !r.Peaks[0].Timestamp.Equal(t0.Add(30*time.Minute)) || r.Peaks[0].Sensor.Peak.Value != 9000 {
		t.Errorf("peaks %+v", r.Peaks)
	}
	if len(r.Alerts) != 2 || r.Alerts[0].RuleID != "PS-2" || r.Alerts[0].Count != 2 {
		t.Errorf("alerts %+v", r.Alerts)
	}
	// The range ends at the end of the newest second (the last bucket, minute 39).
	if !r.Until.Equal(t0.Add(39*time.Minute+time.Second)) || !r.Since.Equal(r.Until.Add(-time.Hour)) {
		t.Errorf("range %v .. %v", r.Since, r.Until)
	}
	for _, f := range []struct{ format, file string }{{"table", "report.txt"}, {"csv", "report.csv"}, {"json", "report.json"}} {
		var b bytes.Buffer
		if err := r.Write(&b, f.format); err != nil {
			t.Fatal(err)
		}
		golden(t, f.file, b.Bytes())
		switch f.format {
		case "csv":
			rows, err := csv.NewReader(&b).ReadAll()
			if err != nil || len(rows) < 2 || strings.Join(rows[0], ",") != strings.Join(CSVHeader, ",") {
				t.Errorf("csv: %v %v", err, rows[:1])
			}
		case "json":
			var back Report
			if err := json.Unmarshal(b.Bytes(), &back); err != nil || back.Totals != r.Totals || len(back.Series) != len(r.Series) {
				t.Errorf("json round trip: %v", err)
			}
		}
	}
}

func TestReportHTML(t *testing.T) {
	r := build(t)
	var b bytes.Buffer
	if err := r.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"http://", "https://", "//cdn", "url(", "@import", "<script", "<link", "<img"} {
		if strings.Contains(page, bad) {
			t.Errorf("HTML contains %q: it must be self-contained", bad)
		}
	}
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	var texts []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			count[n.Data]++
			for _, a := range n.Attr {
				if a.Key == "src" || a.Key == "href" || strings.HasPrefix(a.Key, "on") {
					t.Errorf("<%s %s=%q>: no external references or scripts", n.Data, a.Key, a.Val)
				}
				if n.Data == "circle" && a.Key == "class" && a.Val == "peak" {
					count["peak"]++
				}
			}
		}
		if n.Type == html.TextNode {
			texts = append(texts, n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	// One line chart plus one bar chart per breakdown; one marker per peak.
	if count["svg"] != 1+len(r.Top) || count["path"] != 1 || count["peak"] != len(r.Peaks) || count["style"] != 1 {
		t.Errorf("elements %v", count)
	}
	if count["rect"] != 3+3+3+3 {
		t.Errorf("%d bars, want 12", count["rect"])
	}
	all := strings.Join(texts, " ")
	if !strings.Contains(all, "Rule <PS-2>") || strings.Contains(page, "Rule <PS-2>") {
		t.Error("rule names must be escaped in the page and read back as text")
	}
}

func TestParseRange(t *testing.T) {
	newest := time.Date(2026, 11, 24, 10, 30, 15, 500, time.UTC)
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2026, 11, 24, 10, 30, 16, 0, time.UTC)
	for _, c := range []struct {
		since, until string
		want         store.Range
	}{
		{"", "", store.Range{Since: end.Add(-24 * time.Hour), Until: end}},
		{"2h", "", store.Range{Since: end.Add(-2 * time.Hour), Until: end}},
		{"1d", "1h", store.Range{Since: end.Add(-25 * time.Hour), Until: end.Add(-time.Hour)}},
		{"2026-11-24T09:00:00Z", "2026-11-24T10:00:00+01:00", store.Range{Since: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC), Until: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC).Add(0)}},
		{"2026-11-23", "", store.Range{Since: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), Until: end}},
	} {
		got, err := ParseRange(c.since, c.until, newest, now)
		if c.want.Since.Equal(c.want.Until) {
			if err == nil {
				t.Errorf("%q %q: empty range accepted", c.since, c.until)
			}
			continue
		}
		if err != nil || !got.Since.Equal(c.want.Since) || !got.Until.Equal(c.want.Until) {
			t.Errorf("%q %q: %v %v, want %v", c.since, c.until, got, err, c.want)
		}
	}
	got, _ := ParseRange("1h", "", time.Time{}, now)
	if !got.Until.Equal(now.Add(time.Second)) {
		t.Errorf("empty store: %v", got)
	}
	if _, err := ParseRange("yesterday", "", newest, now); err == nil {
		t.Error("bad --since accepted")
	}
}

// Captured strings (an HTTP host as a top key, a rule name) cannot drive
// the terminal of the table nor run as formulas in the CSV.
func TestReportHostileStrings(t *testing.T) {
	r := &Report{Since: t0, Until: t0.Add(time.Hour), Resolution: "1m",
		Top: []Breakdown{{Group: "http.host", By: store.ByBytes, Rows: []store.TopRow{
			{Key: "=HYPERLINK(\"http://x\")\x1b]0;pwned\x07", Bytes: 10}, {Key: "-5", Bytes: 5}}}},
		Alerts: []store.AlertCount{{RuleID: "R1", RuleName: "@evil\x1b[2J\tname", Count: 1}},
	}
	var table bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(table.String(), "\x1b\x07") || !strings.Contains(table.String(), `\x1b]0;pwned\x07`) ||
		!strings.Contains(table.String(), `@evil\x1b[2J\tname`) {
		t.Errorf("table:\n%q", table.String())
	}
	var b bytes.Buffer
	if err := r.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, row := range rows[1:] {
		if row[0] == "top" {
			keys = append(keys, row[3])
		}
		if row[0] == "alert" && row[4] != `'@evil\x1b[2J\tname` {
			t.Errorf("alert name cell %q", row[4])
		}
	}
	if len(keys) != 2 || keys[0] != `'=HYPERLINK("http://x")\x1b]0;pwned\x07` || keys[1] != "-5" {
		t.Errorf("top keys %q", keys)
	}
}
