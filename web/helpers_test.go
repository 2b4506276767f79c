package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/rules"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/pipeline"
	"github.com/packetsleuth/packetsleuth/store"
)

const testToken = "test-token-0123456789abcdef"

// recorder keeps copies of the records a pipeline writes.
type recorder struct {
	mu   sync.Mutex
	recs []schemas.Record
}

func (r *recorder) Write(recs []schemas.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range recs {
		rec.JSON = append([]byte(nil), rec.JSON...)
		r.recs = append(r.recs, rec)
	}
	return nil
}

// captures lists the replayed captures: the project's own and a few shared
// public ones (DNS, TLS, HTTP, a port scan for alerts) when present.
func captures(t testing.TB) []string {
	own, _ := filepath.Glob("../testdata/pcaps/*.pcap")
	if len(own) == 0 {
		t.Fatal("no captures in ../testdata/pcaps")
	}
	paths := own
	shared := []string{"dns-a-aaaa-mx.pcap", "dns-nxdomain-soa.pcap", "tls-sni.pcapng", "tls12-handshake-cert.pcap",
		"http-get.pcap", "http1-browsing.pcap", "portscan-masscan-tcp.pcap", "synflood.pcap"}
	for _, name := range shared {
		p := filepath.Join("../../shared/pcaps", name)
		if _, err := os.Stat(p); err == nil {
			paths = append(paths, p)
		} else {
			t.Logf("shared capture %s missing (../../shared/pcaps); replaying without it", name)
		}
	}
	return paths
}

// replayStore replays the captures through the sensor's pipeline (shipped
// rules, traffic buckets) into a new SQLite store, and returns the store
// and the records that went in.
func replayStore(t testing.TB) (*store.Store, []schemas.Record, *rules.Set) {
	t.Helper()
	return replayInto(t, captures(t))
}

// replayInto is replayStore over the given capture files.
func replayInto(t testing.TB, paths []string) (*store.Store, []schemas.Record, *rules.Set) {
	t.Helper()
	set, errs := rules.LoadFiles(rules.Options{Defaults: true})
	if len(errs) > 0 {
		t.Fatalf("rules: %v", errs)
	}
	rec := &recorder{}
	p, err := pipeline.New(pipeline.Config{
		Output: rec, Timeseries: true,
		NewDetector: func() pipeline.Detector { return rules.NewEvaluator(set, rules.EvalOptions{}) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Replay(context.Background(), paths); err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	for i := 0; i < len(rec.recs); i += 500 {
		if _, err := st.Insert(context.Background(), rec.recs[i:min(i+500, len(rec.recs))]); err != nil {
			t.Fatal(err)
		}
	}
	return st, rec.recs, set
}

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{Path: filepath.Join(t.TempDir(), "ps.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// fakeLive is a LiveState with fixed connections.
type fakeLive struct {
	flows []pipeline.ActiveFlow
	stats pipeline.Stats
}

func (f *fakeLive) ActiveFlows(context.Context) ([]pipeline.ActiveFlow, error) {
	return append([]pipeline.ActiveFlow(nil), f.flows...), nil
}
func (f *fakeLive) Snapshot() pipeline.Stats { return f.stats }

func newFakeLive() *fakeLive {
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	mk := func(cid, tr, proto, sip string, sp int, dip string, dp int, bytes, pkts int64, d time.Duration) pipeline.ActiveFlow {
		return pipeline.ActiveFlow{CommunityID: cid, Transport: tr, Protocol: proto, SourceIP: sip, SourcePort: sp,
			DestinationIP: dip, DestinationPort: dp, Interface: "eth0", First: t0, Last: t0.Add(d),
			Packets: pkts, Bytes: bytes, SourceBytes: bytes / 2, DestinationBytes: bytes - bytes/2, State: "S1"}
	}
	return &fakeLive{
		flows: []pipeline.ActiveFlow{
			mk("1:a", "tcp", "http", "10.0.0.5", 40000, "192.0.2.80", 80, 5000, 20, 3*time.Second),
			mk("1:b", "udp", "dns", "10.0.0.7", 53000, "10.0.0.53", 53, 300, 2, 10*time.Millisecond),
			mk("1:c", "tcp", "tls", "10.0.0.5", 40001, "198.51.100.4", 443, 90000, 120, 30*time.Second),
			mk("1:d", "tcp", "", "2001:db8::5", 50000, "2001:db8::443", 22, 1200, 9, time.Minute),
			mk("1:e", "icmp", "", "10.0.0.9", 8, "10.0.0.1", 0, 84, 1, 0),
		},
		stats: pipeline.Stats{Frames: 12345, Bytes: 999999, Packets: 12000},
	}
}

// testServer serves cfg (with the test token unless Auth is set).
func testServer(t testing.TB, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.Auth == (Auth{}) {
		cfg.Auth = Auth{Token: outputs.Secret(testToken)}
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return s, hs
}

// get does an authenticated GET and decodes the JSON answer into v.
func get(t testing.TB, hs *httptest.Server, path string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", hs.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	res, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if v != nil && res.StatusCode == 200 {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, b)
		}
	}
	if res.StatusCode != 200 && v != nil {
		t.Logf("GET %s: %d %s", path, res.StatusCode, strings.TrimSpace(string(b)))
	}
	return res.StatusCode
}

// storeWithAlert is a new store holding one alert (id 1).
func storeWithAlert(t testing.TB) *store.Store {
	t.Helper()
	st := openStore(t)
	ev := schemas.Event{Timestamp: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)}
	ev.Event.Kind, ev.Event.Dataset, ev.Event.Severity = "alert", schemas.DatasetAlert, 73
	ev.Rule.ID = "test.rule"
	rec, _ := schemas.NewRecord(&ev)
	if _, err := st.Insert(context.Background(), []schemas.Record{rec}); err != nil {
		t.Fatal(err)
	}
	return st
}
