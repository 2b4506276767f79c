package metrics

// A real Prometheus scrapes the handler. It needs the server of
// ../../shared/services/start-prometheus.sh and skips without it:
//
//	eval "$(../../shared/services/start-prometheus.sh)"; go test ./metrics
//
// The targets file is shared by every test that uses Prometheus, so these
// tests must not run in parallel.

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/packetsleuth/packetsleuth/sensor/pipeline"
)

func TestRealPrometheusScrape(t *testing.T) {
	promURL, targets := os.Getenv("PS_TEST_PROM"), os.Getenv("PS_TEST_PROM_TARGETS")
	if promURL == "" || targets == "" {
		t.Skip("PS_TEST_PROM / PS_TEST_PROM_TARGETS not set (run ../../shared/services/start-prometheus.sh)")
	}
	frames := uint64(rand.N(1_000_000) + 1000)
	reg := prometheus.NewRegistry()
	if _, err := New(reg, Sources{Pipeline: func() pipeline.Stats {
		return pipeline.Stats{Frames: frames, Events: map[string]uint64{"packetsleuth.dns": 3}}
	}}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", Handler(reg))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	// a label unique to this run, so an earlier run's series never match
	run := strconv.FormatUint(rand.Uint64(), 36)
	writeTargets(t, targets, ln.Addr().String(), run)
	defer writeTargetsRaw(targets, []byte("[]"))

	q := fmt.Sprintf(`packetsleuth_packets_total{run=%q}`, run)
	deadline := time.Now().Add(20 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		v, err := queryScalar(promURL, q)
		if err == nil && v == float64(frames) {
			// and a labelled series made it too
			if ev, err := queryScalar(promURL, fmt.Sprintf(`packetsleuth_events_total{run=%q,dataset="packetsleuth.dns"}`, run)); err != nil || ev != 3 {
				t.Fatalf("events_total = %v, %v", ev, err)
			}
			return
		}
		last = fmt.Sprintf("value %v, err %v", v, err)
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("Prometheus never showed %s = %d: last %s", q, frames, last)
}

func writeTargets(t *testing.T, path, addr, run string) {
	t.Helper()
	b, err := json.Marshal([]map[string]any{{
		"targets": []string{addr},
		"labels":  map[string]string{"job": "packetsleuth", "run": run},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := writeTargetsRaw(path, b); err != nil {
		t.Fatal(err)
	}
}

// writeTargetsRaw replaces the file_sd file atomically (temp file + rename),
// so Prometheus never reads half a file.
func writeTargetsRaw(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".targets-*.json")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// queryScalar runs an instant query that must return exactly one sample.
func queryScalar(base, q string) (float64, error) {
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, err
	}
	if r.Status != "success" {
		return 0, fmt.Errorf("query %s: %s", q, r.Error)
	}
	if len(r.Data.Result) != 1 {
		return 0, fmt.Errorf("query %s: %d samples", q, len(r.Data.Result))
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	return strconv.ParseFloat(s, 64)
}
