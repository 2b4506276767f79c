package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/store/export"
)

// replayIntoStore replays the project's captures into an NDJSON file and a
// SQLite store at once, and returns both paths.
func replayIntoStore(t *testing.T) (ndjson, db string) {
	dir := t.TempDir()
	ndjson, db = filepath.Join(dir, "events.ndjson"), filepath.Join(dir, "history.db")
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"replay", "--quiet", "--out", ndjson, "--output", "store:path=" + db, "../../testdata/pcaps"}, &stdout, &stderr); rc != 0 {
		t.Fatalf("replay rc=%d: %s", rc, stderr.String())
	}
	return ndjson, db
}

func readEvents(t *testing.T, path string) []schemas.Event {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []schemas.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev schemas.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

func TestReportAndExportFromReplay(t *testing.T) {
	ndjson, db := replayIntoStore(t)
	evs := readEvents(t, ndjson)
	// The store keeps one row per event.id: the captures of one exchange
	// in several link types (and .pcap beside .pcap.gz) give some
	// byte-identical events, stored once.
	seen := map[string]bool{}
	var stored []schemas.Event
	for _, ev := range evs {
		if !seen[ev.Event.ID] {
			seen[ev.Event.ID] = true
			stored = append(stored, ev)
		}
	}
	// Independent totals from the NDJSON the same replay wrote.
	var flows, bytesSum int64
	perSrc := map[string]int64{}
	datasets := map[string]int{}
	for _, ev := range stored {
		datasets[ev.Event.Dataset]++
		if ev.Event.Dataset == schemas.DatasetFlow {
			flows++
			bytesSum += ev.Network.Bytes
			perSrc[ev.Source.IP] += ev.Network.Bytes
		}
	}
	if flows == 0 {
		t.Fatal("the replay wrote no flows")
	}
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"report", "--store", db, "--since", "30d", "--format", "json", "--top", "100", "--group", "source.ip"}, &stdout, &stderr); rc != 0 {
		t.Fatalf("report rc=%d: %s", rc, stderr.String())
	}
	var rep struct {
		Totals struct{ Bytes, Flows int64 }
		Top    []struct {
			Group string
			Rows  []struct {
				Key   string
				Bytes int64
			}
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Totals.Flows != flows || rep.Totals.Bytes != bytesSum || len(rep.Top) != 1 || len(rep.Top[0].Rows) != len(perSrc) {
		t.Errorf("report %+v; want %d flows, %d bytes, %d sources", rep, flows, bytesSum, len(perSrc))
	}
	for _, r := range rep.Top[0].Rows {
		if perSrc[r.Key] != r.Bytes {
			t.Errorf("source %s: %d bytes, want %d", r.Key, r.Bytes, perSrc[r.Key])
		}
	}
	for _, format := range []string{"table", "csv", "html"} {
		stdout.Reset()
		if rc := run([]string{"report", "--store", db, "--format", format}, &stdout, &stderr); rc != 0 || stdout.Len() == 0 {
			t.Errorf("report --format %s: rc=%d %s", format, rc, stderr.String())
		}
		if format == "html" && (strings.Contains(stdout.String(), "http://") || strings.Contains(stdout.String(), "https://")) {
			t.Error("HTML report refers to a URL")
		}
	}

	// Export every stored dataset and compare counts with the NDJSON.
	for short, ds := range map[string]string{"flow": schemas.DatasetFlow, "dns": schemas.DatasetDNS, "http": schemas.DatasetHTTP} {
		stdout.Reset()
		if rc := run([]string{"export", "--store", db, "--dataset", short, "--format", "ndjson"}, &stdout, &stderr); rc != 0 {
			t.Fatalf("export %s: rc=%d %s", short, rc, stderr.String())
		}
		if n := strings.Count(stdout.String(), "\n"); n != datasets[ds] {
			t.Errorf("export %s: %d events, want %d", short, n, datasets[ds])
		}
	}
	stdout.Reset()
	if rc := run([]string{"export", "--store", db, "--dataset", "flow", "--format", "csv", "--where", `destination.port == 80`}, &stdout, &stderr); rc != 0 {
		t.Fatalf("export --where: rc=%d %s", rc, stderr.String())
	}
	rows, err := csv.NewReader(&stdout).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, ev := range stored {
		if ev.Event.Dataset == schemas.DatasetFlow && ev.Destination.Port == 80 {
			want++
		}
	}
	if len(rows)-1 != want || strings.Join(rows[0][:len(export.LeadingColumns)], ",") != strings.Join(export.LeadingColumns, ",") {
		t.Errorf("export --where: %d rows, want %d; header %v", len(rows)-1, want, rows[0])
	}

	// --from turns the NDJSON itself into CSV with the same leading columns.
	stdout.Reset()
	if rc := run([]string{"export", "--from", ndjson}, &stdout, &stderr); rc != 0 {
		t.Fatalf("export --from: rc=%d %s", rc, stderr.String())
	}
	rows, err = csv.NewReader(&stdout).ReadAll()
	if err != nil || len(rows)-1 != len(evs) || rows[0][0] != "@timestamp" {
		t.Errorf("export --from: %d rows (want %d), %v", len(rows)-1, len(evs), err)
	}

	// --out files are the owner's only, whatever the umask.
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	outFile := filepath.Join(t.TempDir(), "flows.csv")
	if rc := run([]string{"export", "--from", ndjson, "--out", outFile}, &stdout, &stderr); rc != 0 {
		t.Fatalf("export --out: rc=%d %s", rc, stderr.String())
	}
	if fi, err := os.Stat(outFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("export --out: %v, %v; want mode 0600", fi.Mode(), err)
	}
}

func TestReportExportUsageErrors(t *testing.T) {
	var stdout, stderr bytes.Buffer
	db := filepath.Join(t.TempDir(), "empty.db")
	for _, args := range [][]string{
		{"report", "--store", db, "--format", "pdf"},
		{"report", "--store", db, "--since", "yesterday"},
		{"report", "--store", db, "--by", "colour"},
		{"report", "--store", db, "--dsn", "postgres://x"},
		{"export", "--store", db},
		{"export", "--store", db, "--dataset", "flow", "--where", "source.ipp == 1"},
		{"export", "--store", db, "--dataset", "stats"},
		{"export", "--from", "x.ndjson", "--dataset", "flow"},
	} {
		stderr.Reset()
		if rc := run(args, &stdout, &stderr); rc == 0 || stderr.Len() == 0 {
			t.Errorf("%v: rc=%d, stderr %q", args, rc, stderr.String())
		}
	}
	// An empty store gives an empty report, not an error.
	stdout.Reset()
	if rc := run([]string{"report", "--store", db}, &stdout, &stderr); rc != 0 || !strings.Contains(stdout.String(), "Flows 0") {
		t.Errorf("empty store: rc=%d %s %s", rc, stdout.String(), stderr.String())
	}
}
