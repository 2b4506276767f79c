package notify

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// alertRecord builds an alert record the way rules.Evaluator does.
func alertRecord(t testing.TB, rule string, sev int, src string, tags ...string) schemas.Record {
	t.Helper()
	ev := &schemas.Event{Timestamp: t0, ECS: schemas.ECS{Version: schemas.ECSVersion}}
	ev.Event = schemas.EventMeta{Kind: "alert", Category: []string{"network", "intrusion_detection"}, Dataset: schemas.DatasetAlert,
		Action: rule, Reason: "Name of " + rule, Severity: sev, RiskScore: float64(sev)}
	ev.Rule = schemas.Rule{ID: rule, Name: "Name of " + rule, Description: "Description of " + rule}
	ev.Source = schemas.Endpoint{IP: src, Port: 40000}
	ev.Destination = schemas.Endpoint{IP: "10.0.0.2", Port: 22}
	ev.Network = schemas.Network{Transport: "tcp", CommunityID: "1:abc"}
	ev.Observer.Hostname = "sensor-1"
	ev.Tags = tags
	rec, err := schemas.NewRecord(ev)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func flowRecord(t testing.TB) schemas.Record {
	t.Helper()
	ev := &schemas.Event{Timestamp: t0}
	ev.Event = schemas.EventMeta{Kind: "event", Category: []string{"network"}, Dataset: schemas.DatasetFlow}
	rec, err := schemas.NewRecord(ev)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// fakeClock is a settable clock for the dispatcher.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// request is one request a test server received.
type request struct {
	At     time.Time
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// recorder is an httptest server that records requests and answers with
// the next of a list of canned responses (the last one repeats).
type recorder struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []request
	answers []func(w http.ResponseWriter)
}

func newRecorder(t *testing.T, answers ...func(w http.ResponseWriter)) *recorder {
	r := &recorder{answers: answers}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := len(r.reqs)
		r.reqs = append(r.reqs, request{At: time.Now(), Method: req.Method, Path: req.URL.Path, Header: req.Header.Clone(), Body: b})
		a := r.answers[min(n, len(r.answers)-1)]
		r.mu.Unlock()
		a(w)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.reqs...)
}

func status(code int, body string, hdr ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

func decodeJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("body %s: %v", b, err)
	}
}
