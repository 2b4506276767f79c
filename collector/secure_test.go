package collector

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/outputs/kafka"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/store/storetest"
)

// secureEnv returns the values of the variables, or skips.
func secureEnv(t *testing.T, names ...string) []string {
	var v []string
	for _, n := range names {
		if os.Getenv(n) == "" {
			t.Skipf("%s is not set: eval \"$(../../shared/services/start-all.sh kafka postgres)\"", n)
		}
		v = append(v, os.Getenv(n))
	}
	return v
}

// publish sends docs as a sensor does: with the kafka output, over the
// given TLS and SASL.
func publish(t *testing.T, cfg kafka.Config, docs [][]byte) {
	t.Helper()
	s, err := kafka.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	recs := make([]schemas.Record, len(docs))
	for i, d := range docs {
		recs[i] = schemas.Record{Dataset: schemas.DatasetFlow, Kind: "event", Key: string(schemas.EventIDOf(d)), JSON: d, Time: time.Now()}
	}
	for len(recs) > 0 {
		n := min(len(recs), 500)
		if err := s.Write(ctx, recs[:n]); err != nil {
			t.Fatal(err)
		}
		recs = recs[n:]
	}
}

// secureYAML is a collector.yaml reading topic over TLS (with a client
// certificate when cert is set, SCRAM when user is) into PostgreSQL over
// verified TLS.
func secureYAML(broker, topic, ca, cert, key, user, pass, dsn string) string {
	y := fmt.Sprintf(`kafka:
  brokers: [%q]
  group_id: %s
  topics: [%s]
  session_timeout: 6s
  tls:
    enabled: true
    ca: %q
`, broker, randName("ps-group-"), topic, ca)
	if cert != "" {
		y += fmt.Sprintf("    cert: %q\n    key: %q\n", cert, key)
	}
	if user != "" {
		y += fmt.Sprintf("  sasl:\n    mechanism: SCRAM-SHA-512\n    username: %s\n    password: %q\n", user, pass)
	}
	return y + fmt.Sprintf(`batch: {max_records: 500, max_wait: 100ms}
retry_max: 1s
outputs:
  - type: store
    driver: postgres
    dsn: %q
    tls:
      ca: %q
`, dsn, ca)
}

// Sensor → Kafka → collector → PostgreSQL with every hop encrypted: mTLS,
// or SCRAM-SHA-512 over TLS, to Kafka on both sides, and verified TLS to
// PostgreSQL; every event is stored once.
func TestCollectorOverTLS(t *testing.T) {
	v := secureEnv(t, "PS_TEST_KAFKA_MTLS", "PS_TEST_KAFKA_SASL_TLS", "PS_TEST_CA", "PS_TEST_CLIENT_CERT", "PS_TEST_CLIENT_KEY", "PS_TEST_KAFKA_USER", "PS_TEST_KAFKA_PASS", "PS_TEST_PG")
	ca, cert, key, user, pass, pg := v[2], v[3], v[4], v[5], v[6], v[7]
	for _, tc := range []struct {
		name, broker, cert, key, user, pass string
	}{
		{"mtls", v[0], cert, key, "", ""},
		{"scram-over-tls", v[1], "", "", user, pass},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsn := storetest.PGSchema(t, pg)
			topic := randName("ps-secure-")
			kc := kafka.Config{Brokers: []string{tc.broker}, Topic: topic,
				TLS: kafka.TLSConfig{Enabled: true, CA: ca, Cert: tc.cert, Key: tc.key}}
			if tc.user != "" {
				kc.SASL = kafka.SASLConfig{Mechanism: "SCRAM-SHA-512", Username: tc.user, Password: outputs.Secret(tc.pass)}
			}
			docs := flowEvents(t, "edge-"+tc.name, 1500)
			publish(t, kc, docs)
			c, err := New(loadYAML(t, secureYAML(tc.broker, topic, ca, tc.cert, tc.key, tc.user, tc.pass, dsn)), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- c.Run(ctx) }()
			waitFor(t, dsn, len(docs), time.Minute)
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A wrong password, or no client certificate where the broker wants one,
// stops the collector at once with an error that names the keys to check,
// instead of retrying for ever.
func TestCollectorSetupErrorsStopIt(t *testing.T) {
	v := secureEnv(t, "PS_TEST_KAFKA_MTLS", "PS_TEST_KAFKA_SASL_TLS", "PS_TEST_CA", "PS_TEST_KAFKA_USER", "PS_TEST_KAFKA_PASS", "PS_TEST_PG")
	for _, tc := range []struct{ name, y string }{
		{"wrong password", secureYAML(v[1], "t", v[2], "", "", v[3], "not-"+v[4], v[5])},
		{"no client certificate", secureYAML(v[0], "t", v[2], "", "", "", "", v[5])},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(loadYAML(t, tc.y), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err = c.Run(ctx)
			if err == nil || ctx.Err() != nil {
				t.Fatalf("Run: %v (ctx %v): the set-up mistake was retried", err, ctx.Err())
			}
			if !strings.Contains(err.Error(), "kafka.tls and kafka.sasl") || strings.Contains(err.Error(), "not-"+v[4]) {
				t.Errorf("error: %v", err)
			}
			t.Logf("stopped: %v", err)
		})
	}
}
