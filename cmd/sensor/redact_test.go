package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// leakConfig points every output type at a closed loopback port, each with
// a planted credential (in a URL's user-info, a query string or a secret
// option), retries fast and gives up after 3 s.
const leakConfig = `shutdown_timeout: 3s
outputs:
  - {type: elasticsearch, retry_min: 50ms, hosts: "http://elastic:pl4nted-es-pw@127.0.0.1:1"}
  - {type: elasticsearch, name: es-key, retry_min: 50ms, hosts: "http://127.0.0.1:1", api_key: pl4nted-esapikey-pw}
  - {type: splunk, retry_min: 50ms, url: "http://127.0.0.1:1/services/collector/event?token=pl4nted-splunkq-pw", token: pl4nted-splunk-pw}
  - {type: kafka, retry_min: 50ms, brokers: "127.0.0.1:1", topic: t, sasl: {mechanism: plain, username: u, password: pl4nted-kafka-pw}}
  - {type: store, retry_min: 50ms, driver: postgres, dsn: "postgres://ps:pl4nted-pg-pw@127.0.0.1:1/ps?sslmode=disable"}
  - {type: syslog, retry_min: 50ms, network: tcp, address: "127.0.0.1:1"}
  - {type: file, retry_min: 50ms, path: "DIR/no-such-dir/pl4nted-file-pw/out.ndjson"}
  - {type: webhook, retry_min: 50ms, max_attempts: 2, url: "http://hook:pl4nted-webhookurl-pw@127.0.0.1:1/hook?token=pl4nted-webhookq-pw", secret: pl4nted-webhook-pw}
  - {type: slack, retry_min: 50ms, max_attempts: 2, url: "http://127.0.0.1:1/services/pl4nted-slack-pw"}
  - {type: telegram, retry_min: 50ms, max_attempts: 2, token: "pl4nted-telegram-pw", chat_id: "1", api_url: "http://127.0.0.1:1"}
  - {type: email, retry_min: 50ms, max_attempts: 2, address: "127.0.0.1:1", from: a@example.org, to: [b@example.org], username: u, password: pl4nted-email-pw}
`

// A rule that fires on every DNS event, so the notifiers have alerts.
const leakRule = `rules:
  - id: LEAK-1
    name: any dns
    description: fires on every DNS event
    condition: dns_event
    severity: high
`

// Every output type fails with a planted credential; none of them reaches
// the log or the summary (only the file output's path, which is no
// secret, may be named).
func TestFailingOutputsLeakNoSecret(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sensor.yaml")
	os.WriteFile(filepath.Join(dir, "no-such-dir"), nil, 0o600) // a file where the output wants a directory
	os.WriteFile(cfg, []byte(strings.ReplaceAll(leakConfig, "DIR", dir)), 0o600)
	rule := filepath.Join(dir, "leak.yaml")
	os.WriteFile(rule, []byte(leakRule), 0o600)
	var stdout, stderr bytes.Buffer
	run([]string{"replay", "--config", cfg, "--rules", rule, "--out", filepath.Join(dir, "ev.ndjson"), "../../testdata/pcaps"}, &stdout, &stderr)
	out := stdout.String() + stderr.String()
	for _, leak := range regexp.MustCompile(`pl4nted-[a-z]+-pw`).FindAllString(out, -1) {
		if leak != "pl4nted-file-pw" {
			t.Errorf("%s leaked:\n%s", leak, out)
			break
		}
	}
	// The outputs did fail and say so (the test is not vacuous).
	for _, want := range []string{"output=elasticsearch", "output=es-key", "output=splunk", "output=kafka", "output=store",
		"output=syslog", "output=webhook", "output=slack", "output=telegram", "output=email", "://<secret>@127.0.0.1:1"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in the log:\n%s", want, out)
		}
	}
}

// Errors the CLI prints itself (not through the log) are redacted too.
func TestSetupErrorLeaksNoSecret(t *testing.T) {
	var stdout, stderr bytes.Buffer
	rc := run([]string{"setup", "elasticsearch", "--output", "elasticsearch:hosts=http://elastic:pl4nted-setup-pw@127.0.0.1:1"}, &stdout, &stderr)
	if rc == 0 || strings.Contains(stderr.String(), "pl4nted") || !strings.Contains(stderr.String(), "connection refused") {
		t.Errorf("rc=%d:\n%s", rc, stderr.String())
	}
}
