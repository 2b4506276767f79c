package elasticsearch

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/outputs/outputstest"
	"github.com/packetsleuth/packetsleuth/schemas"
)

var testdataCache sync.Map

func testdata(t testing.TB, name string) []byte {
	t.Helper()
	if b, ok := testdataCache.Load(name); ok {
		return b.([]byte)
	}
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	testdataCache.Store(name, b)
	return b
}

// bulkLine is one parsed action + document of a received _bulk body.
type bulkLine struct {
	op, index, id string
	doc           []byte
}

// esServer replays recorded responses. It parses every _bulk body strictly
// (action line, then the document, each ending in a newline) and fails the
// test on anything malformed.
type esServer struct {
	t   testing.TB
	srv *httptest.Server

	product bool                           // send X-Elastic-Product
	auth    string                         // expected Authorization header ("" = none checked)
	status  int                            // whole-request status for _bulk (0 = 200)
	body    []byte                         // whole-request body for _bulk (nil = built from items)
	item    func(n int, l bulkLine) string // items/<name>.json for the n-th document ever received

	mu    sync.Mutex
	bulks [][]bulkLine
	seen  int
	puts  map[string][]byte
}

func newESServer(t testing.TB, tlsOn bool) *esServer {
	s := &esServer{t: t, product: true, puts: map[string][]byte{}}
	s.item = func(int, bulkLine) string { return "created" }
	h := http.HandlerFunc(s.serve)
	if tlsOn {
		s.srv = httptest.NewTLSServer(h)
	} else {
		s.srv = httptest.NewServer(h)
	}
	t.Cleanup(s.srv.Close)
	return s
}

func (s *esServer) reply(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	if s.product {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
	}
	w.WriteHeader(status)
	w.Write(body)
}

func (s *esServer) serve(w http.ResponseWriter, r *http.Request) {
	if s.auth != "" && r.Header.Get("Authorization") != s.auth {
		s.reply(w, http.StatusUnauthorized, testdata(s.t, "error_401.json"))
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			s.t.Errorf("bad gzip body: %v", err)
			s.reply(w, 400, []byte(`{}`))
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		s.t.Errorf("reading body: %v", err)
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/":
		s.reply(w, 200, testdata(s.t, "info.json"))
	case r.Method == http.MethodPut && (strings.HasPrefix(r.URL.Path, "/_ilm/policy/") || strings.HasPrefix(r.URL.Path, "/_index_template/")):
		s.mu.Lock()
		s.puts[r.URL.Path] = raw
		s.mu.Unlock()
		if s.status != 0 {
			s.reply(w, s.status, s.body)
			return
		}
		s.reply(w, 200, testdata(s.t, "acknowledged.json"))
	case r.Method == http.MethodPost && r.URL.Path == "/_bulk":
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/") {
			s.t.Errorf("bulk Content-Type %q", ct)
		}
		lines := s.parseBulk(raw)
		s.mu.Lock()
		s.bulks = append(s.bulks, lines)
		first := s.seen
		s.seen += len(lines)
		s.mu.Unlock()
		if s.status != 0 || s.body != nil {
			s.reply(w, cmp(s.status, 200), s.body)
			return
		}
		var out bytes.Buffer
		items := make([]string, len(lines))
		errs := false
		for i, l := range lines {
			name := s.item(first+i, l)
			errs = errs || name != "created"
			items[i] = strings.TrimSpace(string(testdata(s.t, "items/"+name+".json")))
		}
		fmt.Fprintf(&out, `{"took":3,"errors":%t,"items":[%s]}`, errs, strings.Join(items, ","))
		s.reply(w, 200, out.Bytes())
	default:
		s.t.Errorf("unexpected request %s %s", r.Method, r.URL)
		s.reply(w, 404, []byte(`{}`))
	}
}

func cmp(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

func (s *esServer) parseBulk(raw []byte) []bulkLine {
	if len(raw) == 0 || raw[len(raw)-1] != '\n' {
		s.t.Errorf("bulk body does not end in a newline")
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 16<<20)
	var lines []bulkLine
	for sc.Scan() {
		var action map[string]map[string]any
		if err := json.Unmarshal(sc.Bytes(), &action); err != nil || len(action) != 1 {
			s.t.Errorf("bad action line %q: %v", sc.Bytes(), err)
			return lines
		}
		var l bulkLine
		for op, meta := range action {
			l.op = op
			l.index, _ = meta["_index"].(string)
			l.id, _ = meta["_id"].(string)
			if len(meta) != 1+min(len(l.id), 1) || l.index == "" {
				s.t.Errorf("action %s: meta %v", op, meta)
			}
		}
		if l.op != "create" && l.op != "index" {
			s.t.Errorf("action %q", l.op)
		}
		if !sc.Scan() {
			s.t.Errorf("action %s without a document", l.op)
			return lines
		}
		var doc map[string]any
		if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
			s.t.Errorf("bad document %q: %v", sc.Bytes(), err)
		}
		var ev schemas.Event
		json.Unmarshal(sc.Bytes(), &ev)
		if l.id != ev.Event.ID {
			s.t.Errorf("action %s: _id %q for a document with event.id %q", l.op, l.id, ev.Event.ID)
		}
		l.doc = slices.Clone(sc.Bytes())
		lines = append(lines, l)
	}
	return lines
}

func (s *esServer) received() []bulkLine {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []bulkLine
	for _, b := range s.bulks {
		all = append(all, b...)
	}
	return all
}

var datasets = []string{schemas.DatasetFlow, schemas.DatasetDNS, schemas.DatasetTLS, schemas.DatasetHTTP}

func makeRecords(t testing.TB, n int, start time.Time) []schemas.Record {
	recs := make([]schemas.Record, n)
	for i := range recs {
		ev := schemas.Event{Timestamp: start.Add(time.Duration(i) * time.Minute), ECS: schemas.ECS{Version: schemas.ECSVersion}}
		ev.Event.ID = "ev-" + strconv.Itoa(i)
		ev.Event.Kind = "event"
		ev.Event.Category = []string{"network"}
		ev.Event.Dataset = datasets[i%len(datasets)]
		ev.Network.CommunityID = "1:abc" + strconv.Itoa(i/3)
		ev.Source.IP = "192.0.2." + strconv.Itoa(i%250+1)
		ev.Source.Port = 40000 + i
		r, err := schemas.NewRecord(&ev)
		if err != nil {
			t.Fatal(err)
		}
		recs[i] = r
	}
	return recs
}

func newSink(t testing.TB, cfg Config) *Sink {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(context.Background()); err != nil {
		t.Fatalf("connect: %v", err)
	}
	return s
}

// checkReceived compares what the server parsed with the records sent.
func checkReceived(t *testing.T, s *Sink, got []bulkLine, recs []schemas.Record, op string) {
	t.Helper()
	if len(got) != len(recs) {
		t.Fatalf("server got %d documents, want %d", len(got), len(recs))
	}
	for i, l := range got {
		if l.op != op || l.index != s.Index(recs[i].Dataset, recs[i].Time) || !bytes.Equal(l.doc, recs[i].JSON) {
			t.Errorf("document %d: %s %s %s\nwant %s %s %s", i, l.op, l.index, l.doc, op, s.Index(recs[i].Dataset, recs[i].Time), recs[i].JSON)
		}
	}
}

var day = time.Date(2026, 11, 26, 22, 30, 0, 0, time.UTC)

// ---- tests ----

func TestValidateNamesKeys(t *testing.T) {
	cases := []struct {
		cfg  Config
		keys []string
	}{
		{Config{}, []string{"hosts:"}},
		{Config{Hosts: []string{"es:9200"}}, []string{"hosts[0]:"}},
		{Config{Hosts: []string{"http://es:9200"}, Mode: "stream"}, []string{"mode:"}},
		{Config{Hosts: []string{"http://es:9200"}, Index: "Logs-{dataset}"}, []string{"index:"}},
		{Config{Hosts: []string{"http://es:9200"}, Index: "logs-{dataset}-{date}"}, []string{"index:"}},
		{Config{Hosts: []string{"http://es:9200"}, Index: "ps-{kind}"}, []string{"index:"}},
		{Config{Hosts: []string{"http://es:9200"}, APIKey: "k", Username: "u", Password: "p"}, []string{"api_key:"}},
		{Config{Hosts: []string{"http://es:9200"}, Username: "u"}, []string{"username:"}},
		{Config{Hosts: []string{"http://es:9200"}, TLS: TLSConfig{Key: "k.pem"}}, []string{"tls.cert:"}},
	}
	for _, c := range cases {
		err := c.cfg.Validate()
		if err == nil {
			t.Errorf("%+v: no error", c.cfg)
			continue
		}
		for _, k := range c.keys {
			if !strings.HasPrefix(err.Error(), k) && !strings.Contains(err.Error(), "\n"+k) {
				t.Errorf("%+v: %q does not name %s", c.cfg, err, k)
			}
		}
	}
	if err := (Config{Hosts: []string{"https://es:9200"}, Mode: ModeIndex, Index: "ps-{dataset}-{date}"}).Validate(); err != nil {
		t.Error(err)
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	cfg := Config{Hosts: []string{"http://es:9200"}, Username: "elastic", Password: "pw-hunter2", APIKey: "key-hunter2"}
	for _, out := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg)} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("secret printed: %s", out)
		}
	}
	if b, _ := json.Marshal(cfg); strings.Contains(string(b), "hunter2") {
		t.Errorf("secret marshalled: %s", b)
	}
}

func TestBulkDataStream(t *testing.T) {
	srv := newESServer(t, false)
	s := newSink(t, Config{Hosts: []string{srv.srv.URL}})
	recs := makeRecords(t, 250, day)
	if err := s.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	got := srv.received()
	checkReceived(t, s, got, recs, "create")
	if got[1].index != "logs-packetsleuth.dns-default" {
		t.Errorf("index %q", got[1].index)
	}
}

// The outputs' Fanout uses its copies of the records again once every
// output is done with them: each bulk document must still be its own.
func TestSharedCopiesReachTheServer(t *testing.T) {
	srv := newESServer(t, false)
	s := newSink(t, Config{Hosts: []string{srv.srv.URL}})
	recs := makeRecords(t, 3000, day)
	if sum := outputstest.WriteShared(t, s, outputs.SinkConfig{Name: "elasticsearch", Type: "elasticsearch"}, recs, 64); sum.Sent != uint64(len(recs)) {
		t.Fatalf("summary %v", sum)
	}
	checkReceived(t, s, srv.received(), recs, "create")
}

func TestBulkDatedIndices(t *testing.T) {
	srv := newESServer(t, false)
	s := newSink(t, Config{Hosts: []string{srv.srv.URL}, Mode: ModeIndex, Compression: new(bool)})
	recs := makeRecords(t, 200, day) // 22:30 plus 200 minutes crosses midnight
	if err := s.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	got := srv.received()
	checkReceived(t, s, got, recs, "index")
	if got[0].index != "packetsleuth-flow-2026.11.26" || got[199].index != "packetsleuth-http-2026.11.27" {
		t.Errorf("indices %q .. %q", got[0].index, got[199].index)
	}
}

func TestBulkRecordedPartialFailure(t *testing.T) {
	srv := newESServer(t, false)
	srv.body = testdata(t, "bulk_partial_failure.json")
	s := newSink(t, Config{Hosts: []string{srv.srv.URL}})
	recs := makeRecords(t, 5, day)
	err := s.Write(context.Background(), recs)
	var be *outputs.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("Write: %v, want *BatchError", err)
	}
	// 201 ok, 400 mapping → permanent, 429 → retry, 409 on create → already there, 503 → retry
	if !slices.Equal(be.Failed, []int{2, 4}) || !slices.Equal(be.Permanent, []int{1}) || len(be.Reasons) != 3 {
		t.Fatalf("Failed %v Permanent %v Reasons %v", be.Failed, be.Permanent, be.Reasons)
	}
	for i, want := range []string{"es_rejected_execution_exception", "unavailable_shards_exception", "mapper_parsing_exception: failed to parse field [source.ip]"} {
		if !strings.Contains(be.Reasons[i].Error(), want) {
			t.Errorf("reason %d: %v, want %s", i, be.Reasons[i], want)
		}
	}
	if !strings.Contains(be.Reasons[2].Error(), "is not an IP string literal") {
		t.Errorf("caused_by lost: %v", be.Reasons[2])
	}
}

func TestBulkRecordedSuccess(t *testing.T) {
	srv := newESServer(t, false)
	srv.body = testdata(t, "bulk_success.json")
	s := newSink(t, Config{Hosts: []string{srv.srv.URL}})
	if err := s.Write(context.Background(), makeRecords(t, 2, day)); err != nil {
		t.Fatal(err)
	}
}

// TestRetryUntilDelivered plays the Runner: resend what Failed names until
// nothing is left. Every record must be stored exactly once, mapping errors
// dead-lettered, and the loop must end.
func TestRetryUntilDelivered(t *testing.T) {
	srv := newESServer(t, false)
	attempts := map[string]int{}
	srv.item = func(n int, l bulkLine) string {
		var ev schemas.Event
		json.Unmarshal(l.doc, &ev)
		id := ev.Event.ID
		attempts[id]++
		k, _ := strconv.Atoi(strings.TrimPrefix(id, "ev-"))
		switch {
		case k%17 == 0:
			return "mapper_parsing_400"
		case k%5 == 0 && attempts[id] <= 2:
			return "rejected_429"
		}
		return "created"
	}
	s := newSink(t, Config{Hosts: []string{srv.srv.URL}})
	recs := makeRecords(t, 300, day)
	pending := recs
	var dead []schemas.Record
	for round := 0; len(pending) > 0; round++ {
		if round > 10 {
			t.Fatalf("still %d pending after 10 rounds", len(pending))
		}
		err := s.Write(context.Background(), pending)
		if err == nil {
			break
		}
		var be *outputs.BatchError
		if !errors.As(err, &be) {
			t.Fatal(err)
		}
		for _, i := range be.Permanent {
			dead = append(dead, pending[i])
		}
		var again []schemas.Record
		for _, i := range be.Failed {
			again = append(again, pending[i])
		}
		pending = again
	}
	stored := map[string]int{}
	for id, n := range attempts {
		k, _ := strconv.Atoi(strings.TrimPrefix(id, "ev-"))
		if k%17 != 0 {
			stored[id] = 1
		}
		if want := map[bool]int{true: 3, false: 1}[k%5 == 0 && k%17 != 0]; n != want {
			t.Errorf("%s sent %d times, want %d", id, n, want)
		}
	}
	if len(stored) != 300-len(dead) || len(dead) != 18 {
		t.Errorf("%d stored, %d dead-lettered", len(stored), len(dead))
	}
}

func TestWholeRequestErrors(t *testing.T) {
	for _, c := range []struct {
		status    int
		file      string
		typ       string
		temporary bool
	}{
		{429, "error_429.json", "circuit_breaking_exception", true},
		{403, "error_403.json", "security_exception", false},
		{401, "error_401.json", "security_exception", false},
	} {
		t.Run(strconv.Itoa(c.status), func(t *testing.T) {
			srv := newESServer(t, false)
			s := newSink(t, Config{Hosts: []string{srv.srv.URL}, APIKey: "a2V5OnNlY3JldA=="})
			srv.status, srv.body = c.status, testdata(t, c.file)
			err := s.Write(context.Background(), makeRecords(t, 3, day))
			var se *StatusError
			if !errors.As(err, &se) || se.Status != c.status || se.Type != c.typ || se.Temporary() != c.temporary {
				t.Fatalf("Write: %#v", err)
			}
			if errors.Is(err, outputs.ErrNotConnected) || strings.Contains(err.Error(), "c2VjcmV0") {
				t.Errorf("error %v", err)
			}
			t.Log(err)
		})
	}
}

func TestAuthHeaders(t *testing.T) {
	srv := newESServer(t, false)
	srv.auth = "APIKey a2V5OnNlY3JldA==" // what go-elasticsearch sends; the scheme is case-insensitive
	s := newSink(t, Config{Hosts: []string{srv.srv.URL}, APIKey: "a2V5OnNlY3JldA=="})
	if err := s.Write(context.Background(), makeRecords(t, 2, day)); err != nil {
		t.Fatal(err)
	}
	srv.auth = "Basic ZWxhc3RpYzpjaGFuZ2VtZQ==" // elastic:changeme
	if err := newSinkErr(Config{Hosts: []string{srv.srv.URL}, Username: "elastic", Password: "changeme"}); err != nil {
		t.Errorf("basic auth: %v", err)
	}
	err := newSinkErr(Config{Hosts: []string{srv.srv.URL}, Username: "elastic", Password: "wrong-pw"})
	var se *StatusError
	if !errors.As(err, &se) || se.Status != 401 || !strings.Contains(err.Error(), "unable to authenticate user") || strings.Contains(err.Error(), "wrong-pw") {
		t.Errorf("wrong password: %v", err)
	}
}

func newSinkErr(cfg Config) error {
	s, err := New(cfg)
	if err != nil {
		return err
	}
	return s.Connect(context.Background())
}

func TestProductCheck(t *testing.T) {
	srv := newESServer(t, false)
	srv.product = false
	err := newSinkErr(Config{Hosts: []string{srv.srv.URL}})
	if err == nil || !strings.Contains(err.Error(), "not Elasticsearch") {
		t.Fatalf("a server without X-Elastic-Product was accepted: %v", err)
	}
}

func TestServerDown(t *testing.T) {
	srv := newESServer(t, false)
	s := newSink(t, Config{Hosts: []string{srv.srv.URL}})
	srv.srv.Close()
	if err := s.Write(context.Background(), makeRecords(t, 2, day)); !errors.Is(err, outputs.ErrNotConnected) {
		t.Errorf("Write to a stopped server: %v", err)
	}
	if err := s.Connect(context.Background()); !errors.Is(err, outputs.ErrNotConnected) {
		t.Errorf("Connect to a stopped server: %v", err)
	}
	unconnected, _ := New(Config{Hosts: []string{srv.srv.URL}})
	if err := unconnected.Write(context.Background(), nil); !errors.Is(err, outputs.ErrNotConnected) {
		t.Errorf("Write before Connect: %v", err)
	}
}

func TestBadDatasetIsPermanent(t *testing.T) {
	srv := newESServer(t, false)
	s := newSink(t, Config{Hosts: []string{srv.srv.URL}})
	recs := makeRecords(t, 4, day)
	recs[2].Dataset = "Bad Dataset"
	err := s.Write(context.Background(), recs)
	var be *outputs.BatchError
	if !errors.As(err, &be) || !slices.Equal(be.Permanent, []int{2}) || len(be.Failed) != 0 {
		t.Fatalf("Write: %v", err)
	}
	checkReceived(t, s, srv.received(), slices.Delete(slices.Clone(recs), 2, 3), "create")
}

func TestTLSWithCA(t *testing.T) {
	srv := newESServer(t, true)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	cert := srv.srv.Certificate()
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newSink(t, Config{Hosts: []string{srv.srv.URL}, TLS: TLSConfig{CA: ca}})
	if err := s.Write(context.Background(), makeRecords(t, 3, day)); err != nil {
		t.Fatal(err)
	}
	err := newSinkErr(Config{Hosts: []string{srv.srv.URL}})
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("unknown CA accepted or unclear: %v", err)
	}
}

func TestSetup(t *testing.T) {
	srv := newESServer(t, false)
	client, err := NewClient(Config{Hosts: []string{srv.srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	if err := Setup(context.Background(), client, SetupOptions{}); err != nil {
		t.Fatal(err)
	}
	var policy struct {
		Policy struct {
			Phases map[string]any `json:"phases"`
		} `json:"policy"`
	}
	if err := json.Unmarshal(srv.puts["/_ilm/policy/packetsleuth"], &policy); err != nil || policy.Policy.Phases["delete"] == nil {
		t.Errorf("ILM policy %s: %v", srv.puts["/_ilm/policy/packetsleuth"], err)
	}
	var tmpl struct {
		DataStream map[string]any `json:"data_stream"`
		Template   struct {
			Mappings struct {
				Properties map[string]any `json:"properties"`
			} `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal(srv.puts["/_index_template/packetsleuth"], &tmpl); err != nil || tmpl.DataStream == nil {
		t.Fatalf("template %s: %v", srv.puts["/_index_template/packetsleuth"], err)
	}
	want, _ := json.Marshal(Mappings())
	got, _ := json.Marshal(tmpl.Template.Mappings.Properties)
	if !bytes.Equal(want, got) {
		t.Errorf("installed mappings differ from Mappings()")
	}

	srv.status, srv.body = 400, testdata(t, "error_400_template.json")
	err = Setup(context.Background(), client, SetupOptions{})
	var se *StatusError
	if !errors.As(err, &se) || se.Status != 400 || se.Type != "illegal_argument_exception" {
		t.Errorf("Setup against a refusing server: %v", err)
	}
}

// BenchmarkWrite measures events/s through the sink against the loopback
// test server (the server's NDJSON parsing is part of the cost).
func BenchmarkWrite(b *testing.B) {
	srv := newESServer(b, false)
	srv.item = func(int, bulkLine) string { return "created" }
	s := newSink(b, Config{Hosts: []string{srv.srv.URL}, Compression: new(bool)})
	recs := makeRecords(b, 500, day)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := s.Write(context.Background(), recs); err != nil {
			b.Fatal(err)
		}
		srv.mu.Lock()
		srv.bulks = srv.bulks[:0]
		srv.mu.Unlock()
	}
	b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkWriteSinkOnly answers every bulk with a canned all-created
// response without parsing it, so the figures are the sink's (plus
// net/http's) cost per record.
func BenchmarkWriteSinkOnly(b *testing.B) {
	const n = 500
	item := strings.TrimSpace(string(testdata(b, "items/created.json")))
	resp := []byte(`{"took":3,"errors":false,"items":[` + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + `]}`)
	info := testdata(b, "info.json")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/" {
			w.Write(info)
			return
		}
		w.Write(resp)
	}))
	defer srv.Close()
	s := newSink(b, Config{Hosts: []string{srv.URL}, Compression: new(bool)})
	recs := makeRecords(b, n, day)
	bytesPer := 0
	for _, r := range recs {
		bytesPer += len(r.JSON)
	}
	b.SetBytes(int64(bytesPer))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Write(context.Background(), recs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
	allocs := testing.AllocsPerRun(20, func() { _ = s.Write(context.Background(), recs) })
	b.ReportMetric(allocs/n, "allocs/record")
}
