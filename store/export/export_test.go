package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const events = `{"@timestamp":"2026-11-24T10:00:00Z","event":{"kind":"event","dataset":"packetsleuth.dns","category":["network"]},"source":{"ip":"10.0.0.1","port":53000},"destination":{"ip":"10.0.0.53","port":53},"dns":{"question":{"name":"a,b \"quoted\".example"}},"zeta":null}

{"@timestamp":"2026-11-24T10:00:01Z","event":{"kind":"event","dataset":"packetsleuth.flow"},"source":{"ip":"10.0.0.2","bytes":9007199254740993},"network":{"transport":"tcp","community_id":"1:x"},"packetsleuth":{"flow":{"state":"SF"}},"aaa":true}
`

func write(t *testing.T, s string) string {
	p := filepath.Join(t.TempDir(), "ev.ndjson")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCSVColumnOrder(t *testing.T) {
	var b bytes.Buffer
	n, err := WriteCSV(&b, NDJSONFile(write(t, events)))
	if err != nil || n != 2 {
		t.Fatalf("%d rows, %v", n, err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := append(slices.Clone(LeadingColumns), "aaa", "dns.question.name", "event.category", "packetsleuth.flow.state", "source.bytes", "zeta")
	if !slices.Equal(rows[0], want) {
		t.Errorf("header\n got %v\nwant %v", rows[0], want)
	}
	col := func(row int, name string) string { return rows[row][slices.Index(rows[0], name)] }
	for _, c := range []struct {
		row       int
		col, want string
	}{
		{1, "@timestamp", "2026-11-24T10:00:00Z"}, {1, "dns.question.name", `a,b "quoted".example`},
		{1, "event.category", `["network"]`}, {1, "destination.port", "53"}, {1, "zeta", ""}, {1, "network.transport", ""},
		{2, "source.bytes", "9007199254740993"}, {2, "aaa", "true"}, {2, "network.community_id", "1:x"}, {2, "dns.question.name", ""},
	} {
		if got := col(c.row, c.col); got != c.want {
			t.Errorf("row %d %s = %q, want %q", c.row, c.col, got, c.want)
		}
	}
	// A second run gives the same bytes (map order does not leak).
	var again bytes.Buffer
	WriteCSV(&again, NDJSONFile(write(t, events)))
	var first bytes.Buffer
	WriteCSV(&first, NDJSONFile(write(t, events)))
	if again.String() != first.String() {
		t.Error("CSV output is not stable")
	}
}

func TestWhereAndFormats(t *testing.T) {
	src := NDJSONFile(write(t, events))
	f, err := CompileFilter(`event.dataset == "packetsleuth.flow" and source.bytes > 1000`)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if n, err := WriteNDJSON(&b, Where(src, f)); err != nil || n != 1 || !strings.Contains(b.String(), `"1:x"`) {
		t.Errorf("where: %d %v %s", n, err, b.String())
	}
	b.Reset()
	if n, err := WriteJSON(&b, src); err != nil || n != 2 {
		t.Errorf("json: %d %v", n, err)
	}
	var arr []map[string]any
	if err := json.Unmarshal(b.Bytes(), &arr); err != nil || len(arr) != 2 {
		t.Errorf("json array: %v %d", err, len(arr))
	}
	b.Reset()
	if n, err := WriteJSON(&b, NDJSONFile(write(t, ""))); n != 0 || err != nil || strings.TrimSpace(b.String()) != "[]" {
		t.Errorf("empty json: %q %v", b.String(), err)
	}
	for _, bad := range []string{`source.ipp == "x"`, `source.port + 1`, `exec("rm")`} {
		if _, err := CompileFilter(bad); err == nil {
			t.Errorf("%q compiled", bad)
		}
	}
	_, err = WriteCSV(&b, NDJSONFile(write(t, events+"{not json}\n")))
	if err == nil || !strings.Contains(err.Error(), "line 4") {
		t.Errorf("bad line: %v", err)
	}
	if _, err := Write(&b, "xml", src, false); err == nil {
		t.Error("xml accepted")
	}
}

func BenchmarkFlatten(b *testing.B) {
	doc := []byte(strings.SplitN(events, "\n", 2)[0])
	b.ReportAllocs()
	for b.Loop() {
		Flatten(doc, func(string, string) {})
	}
}

// Captured strings that would run as formulas in a spreadsheet, or drive
// a terminal, are neutralised by default; numbers stay numbers; the raw
// writer keeps the bytes.
func TestCSVHostileCells(t *testing.T) {
	const hostile = `{"@timestamp":"2026-11-24T10:00:00Z","event":{"dataset":"packetsleuth.http"},"source":{"port":-5},` +
		`"http":{"request":{"method":"=HYPERLINK(\"http://x\")","referrer":"+cmd|' /C calc'!A0","bytes":1.5e3}},` +
		`"url":{"path":"@SUM(1)","query":"-2+3","original":"\tlead","domain":"\rx"},` +
		`"user_agent":{"original":"a\u001b[2Jb\u0000c\u009bd\u202ee"},"dns":{"question":{"name":"-12.5"}}}` + "\n"
	var b bytes.Buffer
	if _, err := WriteCSV(&b, NDJSONFile(write(t, hostile))); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	cell := map[string]string{}
	for i, c := range rows[0] {
		cell[c] = rows[1][i]
	}
	for k, want := range map[string]string{
		"http.request.method":   `'=HYPERLINK("http://x")`,
		"http.request.referrer": `'+cmd|' /C calc'!A0`,
		"url.path":              `'@SUM(1)`,
		"url.query":             `'-2+3`,
		"url.original":          `'\tlead`,
		"url.domain":            `'\rx`,
		"user_agent.original":   `a\x1b[2Jb\x00c\x9bd\u202ee`,
		"source.port":           "-5",
		"http.request.bytes":    "1.5e3",
		"dns.question.name":     "-12.5",
	} {
		if cell[k] != want {
			t.Errorf("%s: %q, want %q", k, cell[k], want)
		}
	}
	b.Reset()
	if _, err := Write(&b, "csv", NDJSONFile(write(t, hostile)), true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "=HYPERLINK") || strings.Contains(b.String(), "'=") || !strings.Contains(b.String(), "\x1b[2J") {
		t.Errorf("raw CSV changed the cells:\n%q", b.String())
	}
}
