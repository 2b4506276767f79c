package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sensor run --web serves the live connections and /metrics while it
// captures on lo; the test's own API requests are the traffic.
func TestRunServesWebAndMetrics(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("capturing on lo needs root")
	}
	const token = "0123456789abcdef-token"
	t.Setenv("PS_WEB_TOKEN", token)
	addr := "127.0.0.1:18097"
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		done <- run([]string{"run", "-i", "lo", "--engine", "pcap", "--bpf", "tcp port 18097", "--duration", "6s",
			"--web", addr, "--out", filepath.Join(t.TempDir(), "e.ndjson")}, io.Discard, &stderr)
	}()
	get := func(path string) (string, error) {
		req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	var conns, metricsText string
	deadline := time.Now().Add(30 * time.Second) // startup runs the rules' self-tests: seconds on a loaded machine
	for time.Now().Before(deadline) {
		c, err := get("/api/v1/connections")
		m, err2 := get("/metrics")
		if err == nil && err2 == nil && strings.Contains(c, `"destination_port":18097`) && strings.Contains(m, "packetsleuth_packets_total") &&
			strings.Contains(m, "packetsleuth_rule_evaluations_total") {
			conns, metricsText = c, m
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if conns == "" {
		t.Fatalf("the API never listed its own connection; stderr:\n%s", stderr.String())
	}
	if strings.Contains(metricsText, "packetsleuth_packets_total 0\n") {
		t.Errorf("metrics count no packets:\n%.400s", metricsText)
	}
	for _, name := range []string{"packetsleuth_reassembly_bytes_total", "packetsleuth_output_", "packetsleuth_rule_evaluations_total"} {
		if !strings.Contains(metricsText, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	if rc := <-done; rc != 0 {
		t.Errorf("run rc=%d:\n%s", rc, stderr.String())
	}
}
