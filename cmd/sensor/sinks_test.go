package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/outputs/notify"
)

func TestEveryOutputTypeIsLinked(t *testing.T) {
	types := outputs.Types()
	for _, want := range []string{"file", "syslog", "splunk", "kafka", "elasticsearch", "store", "slack", "telegram", "email", "webhook"} {
		if !slices.Contains(types, want) {
			t.Errorf("output type %q is not in the binary (have %v)", want, types)
		}
	}
}

// An alert raised during a replay reaches a webhook notifier, signed.
func TestReplayAlertReachesWebhook(t *testing.T) {
	const shared = "../../../shared/pcaps/synflood.pcap"
	if _, err := os.Stat(shared); err != nil {
		t.Skip("../shared/pcaps is not beside the repository")
	}
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte("s3cret"))
		mac.Write(b)
		if r.Header.Get(notify.SignatureHeader) != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
			t.Errorf("bad signature %q", r.Header.Get(notify.SignatureHeader))
		}
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
	}))
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	rc := run([]string{"replay", "--quiet", "--out", filepath.Join(t.TempDir(), "e.ndjson"),
		"--output", "webhook:url=" + srv.URL + "/hook,secret=s3cret", shared}, &stdout, &stderr)
	if rc != 0 {
		t.Fatalf("rc=%d %s", rc, stderr.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) == 0 || !strings.Contains(strings.Join(bodies, "\n"), "PS-NET-001") {
		t.Errorf("webhook got %d requests: %.300v", len(bodies), bodies)
	}
}
