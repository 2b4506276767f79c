package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// setup elasticsearch sends the ILM policy and the index template, as a real
// cluster receives them (PUT with JSON bodies; the client needs the
// X-Elastic-Product header on answers).
func TestSetupElasticsearch(t *testing.T) {
	var mu sync.Mutex
	got := map[string]map[string]any{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		var rd io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				t.Error(err)
				return
			}
			rd = zr
		}
		body, _ := io.ReadAll(rd)
		var doc map[string]any
		if r.Method != http.MethodPut || json.Unmarshal(body, &doc) != nil {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":{"type":"parse_exception","reason":"bad request"},"status":400}`)
			return
		}
		mu.Lock()
		got[r.URL.Path] = doc
		mu.Unlock()
		io.WriteString(w, `{"acknowledged":true}`)
	}))
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"setup", "elasticsearch", "--output", "elasticsearch:hosts=" + srv.URL}, &stdout, &stderr); rc != 0 {
		t.Fatalf("rc=%d: %s", rc, stderr.String())
	}
	tmpl, policy := got["/_index_template/packetsleuth"], got["/_ilm/policy/packetsleuth"]
	if tmpl == nil || policy == nil {
		t.Fatalf("requests: %v", got)
	}
	b, _ := json.Marshal(tmpl)
	for _, want := range []string{`"community_id"`, `"data_stream"`, `"ip"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("template lacks %s", want)
		}
	}
}

func TestSetupElasticsearchRejectsBadConfig(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"setup", "elasticsearch", "--output", "elasticsearch:hosts=http://127.0.0.1:9,mode=bogus"}, &stdout, &stderr); rc != 2 || !strings.Contains(stderr.String(), "mode") {
		t.Errorf("rc=%d stderr=%s", rc, stderr.String())
	}
}
