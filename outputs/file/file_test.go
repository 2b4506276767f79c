package file

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/outputs/outputstest"
	"github.com/packetsleuth/packetsleuth/schemas"
)

var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newSink(t *testing.T, o Options, c *clock) *Sink {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if c != nil {
		s.now = c.now
	}
	if err := s.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func batchOf(ds string, from, to int) []schemas.Record {
	var b []schemas.Record
	for i := from; i < to; i++ {
		b = append(b, outputstest.Record(ds, fmt.Sprintf("%s-%d", ds, i), i, t0))
	}
	return b
}

// lines reads a file (gunzipping .gz) as lines.
func lines(t *testing.T, p string) []string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(p, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		r = zr
	}
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func ns(t *testing.T, ls []string) []int {
	t.Helper()
	var out []int
	for _, l := range ls {
		var v struct{ N int }
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		out = append(out, v.N)
	}
	return out
}

func seq(from, to int) []int {
	var s []int
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

func TestWritesNDJSONThroughRunner(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "events.ndjson")
	cfg, err := outputs.ParseFlag("file:path=" + p + ",flush_interval=1ms")
	if err != nil {
		t.Fatal(err)
	}
	sink, err := outputs.NewSink(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := outputs.NewRunner(sink, cfg)
	if err != nil {
		t.Fatal(err)
	}
	in := batchOf(schemas.DatasetFlow, 0, 1000)
	for i := 0; i < len(in); i += 100 {
		r.Enqueue(in[i : i+100])
	}
	if _, err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := lines(t, p)
	for i, l := range got {
		if l != string(in[i].JSON) {
			t.Fatalf("line %d = %s, want %s", i, l, in[i].JSON)
		}
	}
	if len(got) != 1000 {
		t.Fatalf("%d lines", len(got))
	}
}

// The Fanout uses its copies of the records again once every output is
// done with them: what the file holds must still be what was written.
func TestSharedCopiesReachTheFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "events.ndjson")
	cfg, err := outputs.ParseFlag("file:path=" + p + ",buffer_size=4096")
	if err != nil {
		t.Fatal(err)
	}
	sink, err := outputs.NewSink(cfg)
	if err != nil {
		t.Fatal(err)
	}
	in := batchOf(schemas.DatasetFlow, 0, 20000)
	if sum := outputstest.WriteShared(t, sink, cfg, in, 64); sum.Sent != uint64(len(in)) {
		t.Fatalf("summary %v", sum)
	}
	got := lines(t, p)
	if len(got) != len(in) {
		t.Fatalf("%d lines of %d", len(got), len(in))
	}
	for i, l := range got {
		if l != string(in[i].JSON) {
			t.Fatalf("line %d = %s, want %s", i, l, in[i].JSON)
		}
	}
}

func TestPerDatasetFiles(t *testing.T) {
	for _, tc := range []struct{ path, flow, dns string }{
		{"events.ndjson", "events-flow.ndjson", "events-dns.ndjson"},
		{"{dataset}/out.json", "flow/out.json", "dns/out.json"},
	} {
		dir := t.TempDir()
		if strings.Contains(tc.path, "/") {
			os.MkdirAll(filepath.Join(dir, "flow"), 0o755)
			os.MkdirAll(filepath.Join(dir, "dns"), 0o755)
		}
		s := newSink(t, Options{Path: filepath.Join(dir, tc.path), PerDataset: true}, nil)
		b := append(batchOf(schemas.DatasetFlow, 0, 3), batchOf(schemas.DatasetDNS, 3, 5)...)
		b = append(b, batchOf(schemas.DatasetFlow, 5, 6)...)
		if err := s.Write(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := ns(t, lines(t, filepath.Join(dir, tc.flow))); !slices.Equal(got, []int{0, 1, 2, 5}) {
			t.Errorf("%s: flow file %v", tc.path, got)
		}
		if got := ns(t, lines(t, filepath.Join(dir, tc.dns))); !slices.Equal(got, []int{3, 4}) {
			t.Errorf("%s: dns file %v", tc.path, got)
		}
	}
}

func TestShortDatasetIsSafe(t *testing.T) {
	for in, want := range map[string]string{
		schemas.DatasetAlert: "alert",
		"packetsleuth.tls":   "tls",
		"../../etc/passwd":   "_etc_passwd",
		"":                   "unknown",
		"Zeek.Conn":          "conn",
		"x.A/B":              "a_b",
	} {
		if got := shortDataset(in); got != want {
			t.Errorf("shortDataset(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRotateBySize(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "events.ndjson")
	c := &clock{t0}
	rec := batchOf("d", 10, 11)[0]
	line := int64(len(rec.JSON) + 1)
	s := newSink(t, Options{Path: p, RotateSize: outputs.ByteSize(10 * line)}, c)
	for i := 10; i < 45; i++ {
		if err := s.Write(context.Background(), batchOf("d", i, i+1)); err != nil {
			t.Fatal(err)
		}
		c.t = c.t.Add(time.Second)
	}
	s.Close(context.Background())
	rotated, _ := filepath.Glob(filepath.Join(dir, "events-*.ndjson"))
	want := []string{"events-2026-11-24T10-00-00.ndjson", "events-2026-11-24T10-00-10.ndjson", "events-2026-11-24T10-00-20.ndjson"}
	var names []string
	var all []int
	for _, r := range rotated {
		names = append(names, filepath.Base(r))
		fi, _ := os.Stat(r)
		if fi.Size() > 10*line {
			t.Errorf("%s is %d bytes, over rotate_size %d", r, fi.Size(), 10*line)
		}
		all = append(all, ns(t, lines(t, r))...)
	}
	if !slices.Equal(names, want) {
		t.Fatalf("rotated files %v, want %v", names, want)
	}
	all = append(all, ns(t, lines(t, p))...)
	if !slices.Equal(all, seq(10, 45)) {
		t.Errorf("records across files %v", all)
	}
}

func TestRotateByTimeAndGzip(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "events.ndjson")
	c := &clock{t0.Add(59*time.Minute + 30*time.Second)} // 10:59:30
	s := newSink(t, Options{Path: p, RotateInterval: time.Hour, Gzip: true}, c)
	s.Write(context.Background(), batchOf("d", 0, 5))
	c.t = c.t.Add(20 * time.Second) // still 10:59:50
	s.Write(context.Background(), batchOf("d", 5, 7))
	c.t = c.t.Add(20 * time.Second) // 11:00:10: a new hour
	s.Write(context.Background(), batchOf("d", 7, 9))
	c.t = c.t.Add(2 * time.Hour)
	s.Write(context.Background(), batchOf("d", 9, 10))
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	want := []string{"events-2026-11-24T10-59-30.ndjson.gz", "events-2026-11-24T11-00-10.ndjson.gz", "events.ndjson"}
	if !slices.Equal(names, want) {
		t.Fatalf("files %v, want %v (rotated files gzipped, originals removed)", names, want)
	}
	if got := ns(t, lines(t, filepath.Join(dir, want[0]))); !slices.Equal(got, seq(0, 7)) {
		t.Errorf("first hour %v", got)
	}
	if got := ns(t, lines(t, filepath.Join(dir, want[1]))); !slices.Equal(got, seq(7, 9)) {
		t.Errorf("second hour %v", got)
	}
	if got := ns(t, lines(t, p)); !slices.Equal(got, seq(9, 10)) {
		t.Errorf("active %v", got)
	}
}

func TestRotatedNameCollision(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "e.ndjson")
	os.WriteFile(filepath.Join(dir, "e-2026-11-24T10-00-00.ndjson"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, "e-2026-11-24T10-00-00-1.ndjson.gz"), nil, 0o600)
	got, err := rotatedName(p, t0, true)
	if err != nil || filepath.Base(got) != "e-2026-11-24T10-00-00-2.ndjson" {
		t.Errorf("rotatedName = %q, %v", got, err)
	}
}

func TestAppendsToExistingFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "e.ndjson")
	for round := range 2 {
		s := newSink(t, Options{Path: p}, nil)
		s.Write(context.Background(), batchOf("d", round*3, round*3+3))
		s.Close(context.Background())
	}
	if got := ns(t, lines(t, p)); !slices.Equal(got, seq(0, 6)) {
		t.Errorf("%v", got)
	}
}

func TestStdout(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	s := newSink(t, Options{Path: "-"}, nil)
	err = s.Write(context.Background(), batchOf("d", 0, 3))
	os.Stdout = old
	s.Close(context.Background())
	w.Close()
	out, _ := io.ReadAll(r)
	if err != nil || string(out) != `{"id":"d-0","n":0}`+"\n"+`{"id":"d-1","n":1}`+"\n"+`{"id":"d-2","n":2}`+"\n" {
		t.Errorf("stdout %q, %v", out, err)
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []Options{
		{},
		{Path: "-", PerDataset: true},
		{Path: "-", RotateSize: 10},
		{Path: "x", Gzip: true},
		{Path: "{dataset}.json"},
		{Path: "x", RotateSize: -1},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	cfg, _ := outputs.ParseFlag("file:pth=x")
	if _, err := outputs.NewSink(cfg); err == nil || !strings.Contains(err.Error(), `"pth"`) {
		t.Errorf("unknown key: %v", err)
	}
}

func benchBatch(n int) []schemas.Record {
	ev := schemas.Event{Timestamp: t0, ECS: schemas.ECS{Version: schemas.ECSVersion}}
	ev.Event.Kind, ev.Event.Dataset, ev.Event.Category = "event", schemas.DatasetFlow, []string{"network"}
	ev.Source.IP, ev.Source.Port = "192.0.2.10", 51514
	ev.Destination.IP, ev.Destination.Port = "198.51.100.7", 443
	ev.Network.Transport, ev.Network.CommunityID = "tcp", "1:LQU9qZlK+B5F3KDmev6m5PMibrg="
	ev.Network.Bytes, ev.Network.Packets = 123456, 99
	b := make([]schemas.Record, n)
	for i := range b {
		b[i], _ = schemas.NewRecord(&ev)
	}
	return b
}

func BenchmarkFileSinkWrite(b *testing.B) {
	s, _ := New(Options{Path: filepath.Join(b.TempDir(), "e.ndjson"), RotateSize: 64 << 20})
	batch := benchBatch(500)
	b.SetBytes(int64(len(batch) * (len(batch[0].JSON) + 1)))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Write(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "records/s")
	b.StopTimer()
	s.Close(context.Background())
}

func BenchmarkFileThroughRunner(b *testing.B) {
	s, _ := New(Options{Path: filepath.Join(b.TempDir(), "e.ndjson"), RotateSize: 64 << 20})
	r, _ := outputs.NewRunner(s, outputs.SinkConfig{Type: "file", FlushInterval: 10 * time.Millisecond})
	batch := benchBatch(64)
	b.SetBytes(int64(len(batch) * (len(batch[0].JSON) + 1)))
	b.ReportAllocs()
	for b.Loop() {
		r.Enqueue(batch)
	}
	if _, err := r.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "records/s")
}

// The active file deleted under the sensor (by hand, by a cleaner): its
// rotation cannot rename it, the record that asked for it and the rest of
// its batch fail, and the retry opens the path again (instead of failing
// on the closed file for ever), the records in their order.
func TestRotateOfADeletedFileReopens(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "events.ndjson")
	c := &clock{t0}
	rec := batchOf("d", 10, 11)[0]
	line := int64(len(rec.JSON) + 1)
	s := newSink(t, Options{Path: p, RotateSize: outputs.ByteSize(3 * line)}, c)
	ctx := context.Background()
	if err := s.Write(ctx, batchOf("d", 10, 13)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	err := s.Write(ctx, batchOf("d", 13, 16)) // past rotate_size: rotates
	var be *outputs.BatchError
	if !errors.As(err, &be) || !slices.Equal(be.Failed, []int{0, 1, 2}) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("rotating a deleted file: %v, want the batch failed with its cause", err)
	}
	if err := s.Write(ctx, batchOf("d", 13, 16)); err != nil { // as the Runner retries it
		t.Fatalf("the batch retried after the failed rotation: %v", err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	if got := ns(t, lines(t, p)); !slices.Equal(got, seq(13, 16)) {
		t.Errorf("the reopened file holds %v, want 13-15 in order", got)
	}
}
