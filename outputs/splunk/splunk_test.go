package splunk

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/outputs/outputstest"
	"github.com/packetsleuth/packetsleuth/schemas"
)

const token = "11111111-2222-3333-4444-555555555555"

var t0 = time.Date(2026, 11, 24, 10, 0, 0, 123456789, time.UTC)

// hec is a test HTTP Event Collector. It checks every request against the
// documented shape and indexes the events; fail decides a reply instead.
type hec struct {
	t        *testing.T
	mu       sync.Mutex
	indexed  []map[string]any
	requests int
	index    bool // envelopes must carry an index
	// fail, if set, may answer a request (status, body) given its events;
	// events before invalid-event-number must then be indexed by it via keep.
	fail func(req int, events []map[string]any) (status int, body string, keep int)
}

var timeRE = regexp.MustCompile(`^\d{10}\.\d{6}$`)

func (h *hec) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := h.t
	if r.Method != http.MethodPost || r.URL.Path != "/services/collector/event" {
		t.Errorf("request %s %s", r.Method, r.URL.Path)
	}
	if got := r.Header.Get("Authorization"); got != "Splunk "+token {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"text":"Invalid authorization","code":3}`)
		return
	}
	if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("X-Splunk-Request-Channel") == "" {
		t.Errorf("headers %v", r.Header)
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			t.Errorf("gzip body: %v", err)
			return
		}
		body = zr
	}
	dec := json.NewDecoder(body)
	dec.UseNumber()
	var events []map[string]any
	for {
		var env map[string]any
		err := dec.Decode(&env)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Errorf("body is not concatenated JSON envelopes: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"text":"Invalid data format","code":6,"invalid-event-number":0}`)
			return
		}
		var keys []string
		for k := range env {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		want := []string{"event", "host", "source", "sourcetype", "time"}
		if h.index {
			want = []string{"event", "host", "index", "source", "sourcetype", "time"}
		}
		if !slices.Equal(keys, want) {
			t.Errorf("envelope keys %v, want %v", keys, want)
		}
		if tm, ok := env["time"].(json.Number); !ok || !timeRE.MatchString(tm.String()) {
			t.Errorf("time %v is not epoch seconds with 6 fraction digits", env["time"])
		}
		if _, ok := env["event"].(map[string]any); !ok {
			t.Errorf("event is not the ECS object: %v", env["event"])
		}
		events = append(events, env)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests++
	if h.fail != nil {
		if status, reply, keep := h.fail(h.requests, events); status != 0 {
			h.indexed = append(h.indexed, events[:keep]...)
			w.WriteHeader(status)
			io.WriteString(w, reply)
			return
		}
	}
	h.indexed = append(h.indexed, events...)
	io.WriteString(w, `{"text":"Success","code":0}`)
}

func (h *hec) ns() []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []int
	for _, e := range h.indexed {
		n, _ := e["event"].(map[string]any)["n"].(json.Number).Int64()
		out = append(out, int(n))
	}
	return out
}

func records(from, to int) []schemas.Record {
	var out []schemas.Record
	for i := from; i < to; i++ {
		ds := schemas.DatasetFlow
		if i%2 == 1 {
			ds = schemas.DatasetDNS
		}
		out = append(out, schemas.Record{Dataset: ds, Kind: "event", Time: t0.Add(time.Duration(i) * time.Second),
			JSON: fmt.Appendf(nil, `{"event":{"dataset":%q},"n":%d}`, ds, i)})
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

func newHEC(t *testing.T) (*hec, *httptest.Server) {
	h := &hec{t: t}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, srv
}

func run(t *testing.T, o Options, cfg outputs.SinkConfig, recs []schemas.Record) *outputs.Runner {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Type = "splunk"
	if cfg.FlushInterval == 0 {
		cfg.FlushInterval = time.Millisecond
	}
	cfg.RetryMin, cfg.RetryMax = time.Millisecond, 5*time.Millisecond
	r, err := outputs.NewRunner(s, cfg, outputs.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	r.Enqueue(recs)
	return r
}

func closeRunner(t *testing.T, r *outputs.Runner) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestRequestShape(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprint("gzip=", gz), func(t *testing.T) {
			h, srv := newHEC(t)
			h.index = true
			r := run(t, Options{URL: srv.URL, Token: token, Index: "netsec", Host: "sensor-1", Sourcetype: "packetsleuth:{dataset}", Gzip: gz},
				outputs.SinkConfig{BatchSize: 10}, records(0, 25))
			closeRunner(t, r)
			if got := h.ns(); !slices.Equal(got, seq(0, 25)) {
				t.Fatalf("indexed %v", got)
			}
			e := h.indexed[3]
			if e["host"] != "sensor-1" || e["index"] != "netsec" || e["source"] != "packetsleuth" || e["sourcetype"] != "packetsleuth:dns" ||
				e["time"].(json.Number).String() != "1795514403.123456" {
				t.Errorf("envelope %v", e)
			}
			if h.requests != 3 {
				t.Errorf("%d requests for 25 records in batches of 10", h.requests)
			}
		})
	}
}

// The outputs' Fanout uses its copies of the records again once every
// output is done with them: each indexed event must still be its own.
func TestSharedCopiesReachTheServer(t *testing.T) {
	h, srv := newHEC(t)
	h.index = true
	s, err := New(Options{URL: srv.URL, Token: token, Index: "netsec"})
	if err != nil {
		t.Fatal(err)
	}
	if sum := outputstest.WriteShared(t, s, outputs.SinkConfig{Name: "splunk", Type: "splunk"}, records(0, 3000), 64); sum.Sent != 3000 {
		t.Fatalf("summary %v", sum)
	}
	if got := h.ns(); !slices.Equal(got, seq(0, 3000)) {
		t.Fatalf("indexed %d events, not those written", len(got))
	}
}

func TestServerBusyIsRetried(t *testing.T) {
	h, srv := newHEC(t)
	h.fail = func(req int, _ []map[string]any) (int, string, int) {
		if req <= 2 {
			return http.StatusServiceUnavailable, `{"text":"Server is busy","code":9}`, 0
		}
		return 0, "", 0
	}
	r := run(t, Options{URL: srv.URL, Token: token}, outputs.SinkConfig{BatchSize: 100}, records(0, 10))
	closeRunner(t, r)
	if got := h.ns(); !slices.Equal(got, seq(0, 10)) {
		t.Fatalf("indexed %v", got)
	}
	st := r.Stats()
	if st.Errors != 2 || st.Retried != 20 || !strings.Contains(st.LastError, "Server is busy") {
		t.Errorf("errors %d retried %d last %q", st.Errors, st.Retried, st.LastError)
	}
}

func TestInvalidEventIsRejectedOthersDelivered(t *testing.T) {
	h, srv := newHEC(t)
	bad := func(e map[string]any) bool {
		n, _ := e["event"].(map[string]any)["n"].(json.Number).Int64()
		return n == 3 || n == 9
	}
	h.fail = func(_ int, evs []map[string]any) (int, string, int) {
		for i, e := range evs {
			if bad(e) {
				return http.StatusBadRequest, fmt.Sprintf(`{"text":"Invalid data format","code":6,"invalid-event-number":%d}`, i), i
			}
		}
		return 0, "", 0
	}
	dl := filepath.Join(t.TempDir(), "dead.ndjson")
	r := run(t, Options{URL: srv.URL, Token: token}, outputs.SinkConfig{BatchSize: 100, DeadLetter: dl}, records(0, 12))
	closeRunner(t, r)
	want := slices.DeleteFunc(seq(0, 12), func(n int) bool { return n == 3 || n == 9 })
	if got := h.ns(); !slices.Equal(got, want) {
		t.Fatalf("indexed %v, want %v", got, want)
	}
	st := r.Stats()
	if st.DeadLettered != 2 || st.Sent != 10 {
		t.Errorf("dead %d sent %d", st.DeadLettered, st.Sent)
	}
	b, _ := os.ReadFile(dl)
	if lines := bytes.Count(b, []byte("\n")); lines != 2 || !bytes.Contains(b, []byte(`"n":9`)) || !bytes.Contains(b, []byte("Invalid data format")) {
		t.Errorf("dead letters:\n%s", b)
	}
}

func TestWholeRequestRejected(t *testing.T) {
	h, srv := newHEC(t)
	h.fail = func(_ int, evs []map[string]any) (int, string, int) {
		return http.StatusBadRequest, `{"text":"No data","code":5}`, 0
	}
	r := run(t, Options{URL: srv.URL, Token: token}, outputs.SinkConfig{BatchSize: 100}, records(0, 4))
	closeRunner(t, r)
	if st := r.Stats(); st.DeadLettered != 4 || st.Sent != 0 || len(h.ns()) != 0 {
		t.Errorf("dead %d sent %d", st.DeadLettered, st.Sent)
	}
}

func TestBadTokenIsRetriedNotDropped(t *testing.T) {
	h, srv := newHEC(t)
	r := run(t, Options{URL: srv.URL, Token: "wrong-token-value"}, outputs.SinkConfig{BatchSize: 100}, records(0, 3))
	// Wait for two refused attempts; read the error then, since the attempt
	// that Close cancels would replace it with "context canceled".
	var st outputs.Stats
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if st = r.Stats(); st.Errors >= 2 && strings.Contains(st.LastError, "401") {
			break
		}
	}
	if !strings.Contains(st.LastError, "401") || strings.Contains(st.LastError, "wrong-token-value") {
		t.Errorf("last error %q", st.LastError)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	sum, err := r.Close(ctx)
	st = r.Stats()
	if err == nil || sum.Lost != 3 || st.DeadLettered != 0 || st.Errors < 2 || len(h.ns()) != 0 {
		t.Errorf("summary %+v err %v stats %+v", sum, err, st)
	}
}

func TestSplitsRequests(t *testing.T) {
	h, srv := newHEC(t)
	var sizes []int
	h.fail = func(_ int, evs []map[string]any) (int, string, int) {
		sizes = append(sizes, len(evs))
		if len(evs) > 8 {
			return http.StatusRequestEntityTooLarge, `{"text":"Content too large"}`, 0
		}
		return 0, "", 0
	}
	one := len((&Sink{}).appendEnvelope(nil, &records(10, 11)[0])) + 60
	// max_request_bytes fits 20 records; the server takes 8: the sink halves
	r := run(t, Options{URL: srv.URL, Token: token, MaxRequestBytes: outputs.ByteSize(20 * one)}, outputs.SinkConfig{BatchSize: 50, FlushInterval: time.Hour}, records(10, 60))
	closeRunner(t, r)
	if got := h.ns(); !slices.Equal(got, seq(10, 60)) {
		t.Fatalf("indexed %v", got)
	}
	for _, n := range sizes {
		if n > 20 {
			t.Errorf("a request of %d records is over max_request_bytes", n)
		}
	}
}

func TestTLSWithCA(t *testing.T) {
	h := &hec{t: t}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted handshake below
	srv.StartTLS()
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	r := run(t, Options{URL: srv.URL, Token: token, CA: ca}, outputs.SinkConfig{}, records(0, 5))
	closeRunner(t, r)
	if got := h.ns(); !slices.Equal(got, seq(0, 5)) {
		t.Fatalf("indexed %v", got)
	}
	// without the CA the server is not trusted
	s, _ := New(Options{URL: srv.URL, Token: token})
	if err := s.Write(context.Background(), records(0, 1)); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted server: %v", err)
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{
		{URL: "ftp://x", Token: token},
		{URL: "http://x"},
		{URL: "http://x", Token: token, CA: "/nonexistent"},
		{URL: "http://x", Token: token, Cert: "/c"},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	s, err := New(Options{URL: "https://splunk:8088", Token: token})
	if err != nil || s.url != "https://splunk:8088/services/collector/event" {
		t.Errorf("url %q %v", s.url, err)
	}
	cfg, _ := outputs.ParseFlag("splunk:url=http://h:8088,token=" + token + ",idx=x")
	if _, err := outputs.NewSink(cfg); err == nil || !strings.Contains(err.Error(), `"idx"`) {
		t.Errorf("unknown key: %v", err)
	}
	if strings.Contains(fmt.Sprintf("%+v", s.opts), token) {
		t.Error("token printed with the options")
	}
}

func BenchmarkEnvelope(b *testing.B) {
	s, _ := New(Options{URL: "http://h", Token: token, Index: "i", Sourcetype: "ps:{dataset}"})
	rec := records(0, 1)[0]
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = s.appendEnvelope(buf[:0], &rec)
	}
}

// BenchmarkSinkLoopback posts batches of 500 events to a loopback HEC that
// only counts them.
func BenchmarkSinkLoopback(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"text":"Success","code":0}`)
	}))
	defer srv.Close()
	s, _ := New(Options{URL: srv.URL, Token: token})
	batch := records(0, 500)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "events/s")
}
