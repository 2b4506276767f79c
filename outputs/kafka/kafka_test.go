package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	kgo "github.com/segmentio/kafka-go"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/outputs/outputstest"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// ---- helpers ----

func env(t testing.TB, names ...string) []string {
	t.Helper()
	var vals []string
	for _, n := range names {
		v := os.Getenv(n)
		if v == "" {
			t.Skipf("%s is not set: start Kafka with eval \"$(../../../shared/services/start-kafka.sh)\"", n)
		}
		vals = append(vals, v)
	}
	return vals
}

var datasets = []string{schemas.DatasetFlow, schemas.DatasetDNS, schemas.DatasetTLS, schemas.DatasetHTTP}

// makeRecords builds n encoded events of four datasets; every 3 consecutive
// events share one connection (community id), and some have no key at all.
func makeRecords(t testing.TB, run string, n int) []schemas.Record {
	t.Helper()
	recs := make([]schemas.Record, n)
	base := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	for i := range recs {
		ev := schemas.Event{Timestamp: base.Add(time.Duration(i) * time.Millisecond), ECS: schemas.ECS{Version: schemas.ECSVersion}}
		ev.Event.ID = run + "-" + strconv.Itoa(i)
		ev.Event.Kind = "event"
		ev.Event.Category = []string{"network"}
		ev.Event.Dataset = datasets[i%len(datasets)]
		if i%10 != 9 {
			ev.Network.CommunityID = fmt.Sprintf("1:%s/conn%04d=", run, i/3)
		}
		ev.Source.IP = fmt.Sprintf("192.0.2.%d", i%250+1)
		ev.Source.Port = 1024 + i%60000
		ev.Destination.IP = "198.51.100.7"
		ev.Destination.Port = 443
		ev.Network.Transport = "tcp"
		ev.Sensor.Notes = []string{strings.Repeat("x", i%50)}
		r, err := schemas.NewRecord(&ev)
		if err != nil {
			t.Fatal(err)
		}
		recs[i] = r
	}
	return recs
}

func eventID(t testing.TB, doc []byte) string {
	var ev schemas.Event
	if err := json.Unmarshal(doc, &ev); err != nil {
		t.Fatalf("consumed value is not an event: %v: %q", err, doc)
	}
	return ev.Event.ID
}

type consumed struct {
	topic     string
	partition int
	key       string
	value     []byte
	time      time.Time
}

// consume reads every partition of the topics until want distinct event ids
// were seen (or the deadline passes) and returns all messages by id.
func consume(t *testing.T, addr string, dialer *kgo.Dialer, topics []string, want int) map[string][]consumed {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	transport := &kgo.Transport{TLS: dialer.TLS, SASL: dialer.SASLMechanism}
	client := &kgo.Client{Addr: kgo.TCP(addr), Transport: transport}
	meta, err := client.Metadata(ctx, &kgo.MetadataRequest{Topics: topics})
	if err != nil {
		t.Fatalf("metadata: %v", err)
	}
	var mu sync.Mutex
	got := map[string][]consumed{}
	var wg sync.WaitGroup
	rctx, rcancel := context.WithCancel(ctx)
	defer rcancel()
	for _, tp := range meta.Topics {
		if tp.Error != nil {
			t.Fatalf("topic %s: %v", tp.Name, tp.Error)
		}
		for _, p := range tp.Partitions {
			r := kgo.NewReader(kgo.ReaderConfig{Brokers: []string{addr}, Topic: tp.Name, Partition: p.ID, Dialer: dialer,
				MinBytes: 1, MaxBytes: 10e6, MaxWait: 100 * time.Millisecond})
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer r.Close()
				for {
					m, err := r.ReadMessage(rctx)
					if err != nil {
						return
					}
					id := eventID(t, m.Value)
					mu.Lock()
					got[id] = append(got[id], consumed{m.Topic, m.Partition, string(m.Key), m.Value, m.Time})
					n := len(got)
					mu.Unlock()
					if n >= want {
						rcancel()
					}
				}
			}()
		}
	}
	wg.Wait()
	return got
}

// checkDelivered compares every consumed message with the record sent.
func checkDelivered(t *testing.T, s *Sink, recs []schemas.Record, got map[string][]consumed) {
	t.Helper()
	if len(got) != len(recs) {
		t.Errorf("consumed %d distinct events, want %d", len(got), len(recs))
	}
	partOfKey := map[string]int{}
	for _, r := range recs {
		id := eventID(t, r.JSON)
		ms := got[id]
		if len(ms) == 0 {
			t.Errorf("event %s never arrived", id)
			continue
		}
		for _, m := range ms {
			if string(m.value) != string(r.JSON) {
				t.Errorf("event %s: value\n got %s\nwant %s", id, m.value, r.JSON)
			}
			if m.key != r.Key {
				t.Errorf("event %s: key %q, want %q", id, m.key, r.Key)
			}
			if want := s.Topic(r.Dataset); m.topic != want {
				t.Errorf("event %s: topic %q, want %q", id, m.topic, want)
			}
			if r.Key == "" {
				continue
			}
			if p, ok := partOfKey[r.Key]; ok && p != m.partition {
				t.Errorf("key %s in partitions %d and %d", r.Key, p, m.partition)
			}
			partOfKey[r.Key] = m.partition
		}
	}
}

func runID() string { return strconv.FormatInt(time.Now().UnixNano(), 36) }

func topicsOf(s *Sink) []string {
	var ts []string
	for _, d := range datasets {
		ts = append(ts, s.Topic(d))
	}
	return ts
}

func dialerFor(cfg Config) *kgo.Dialer {
	d := &kgo.Dialer{Timeout: 10 * time.Second}
	s, err := New(cfg)
	if err != nil {
		panic(err)
	}
	d.SASLMechanism = s.mech
	d.TLS, _ = cfg.TLS.tlsConfig()
	return d
}

// roundTrip writes recs through a new sink and reads them back.
func roundTrip(t *testing.T, cfg Config, n int) {
	t.Helper()
	run := runID()
	cfg.Topic = "pstest-" + run + "-{dataset}"
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Connect(ctx); err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer s.Close(ctx)
	recs := makeRecords(t, run, n)
	for i := 0; i < len(recs); i += 100 {
		if err := s.Write(ctx, recs[i:min(i+100, len(recs))]); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	got := consume(t, cfg.Brokers[0], dialerFor(cfg), topicsOf(s), len(recs))
	checkDelivered(t, s, recs, got)
}

// ---- unit tests (no broker) ----

func TestValidateNamesKeys(t *testing.T) {
	cases := []struct {
		cfg  Config
		keys []string
	}{
		{Config{}, []string{"brokers:"}},
		{Config{Brokers: []string{"kafka1"}}, []string{"brokers[0]:"}},
		{Config{Brokers: []string{"k:9092"}, Topic: "ps-{kind}"}, []string{"topic:"}},
		{Config{Brokers: []string{"k:9092"}, Topic: "ps topic"}, []string{"topic:"}},
		{Config{Brokers: []string{"k:9092"}, Compression: "brotli", RequiredAcks: "2", Balancer: "crc"}, []string{"compression:", "required_acks:", "balancer:"}},
		{Config{Brokers: []string{"k:9092"}, TLS: TLSConfig{CA: "ca.pem"}}, []string{"tls.enabled:"}},
		{Config{Brokers: []string{"k:9092"}, TLS: TLSConfig{Enabled: true, Cert: "c.pem"}}, []string{"tls.cert:"}},
		{Config{Brokers: []string{"k:9092"}, SASL: SASLConfig{Mechanism: "GSSAPI"}}, []string{"sasl.mechanism:"}},
		{Config{Brokers: []string{"k:9092"}, SASL: SASLConfig{Mechanism: "SCRAM-SHA-512"}}, []string{"sasl.username:", "sasl.password:"}},
		{Config{Brokers: []string{"k:9092"}, SASL: SASLConfig{Username: "u"}}, []string{"sasl.mechanism:"}},
		{Config{Brokers: []string{"k:9092"}, MaxAttempts: -1, Timeout: -1}, []string{"max_attempts:", "timeout:"}},
	}
	for _, c := range cases {
		err := c.cfg.Validate()
		if err == nil {
			t.Errorf("%+v: no error", c.cfg)
			continue
		}
		for _, k := range c.keys {
			if !strings.Contains(err.Error(), k) {
				t.Errorf("%+v: error %q does not name %s", c.cfg, err, k)
			}
		}
		if _, err := New(c.cfg); err == nil {
			t.Errorf("New accepted %+v", c.cfg)
		}
	}
	ok := Config{Brokers: []string{"127.0.0.1:9092", "[::1]:9093"}, Compression: "zstd", SASL: SASLConfig{Mechanism: "PLAIN", Username: "u", Password: "p"}}
	if err := ok.Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

func TestPasswordNeverPrinted(t *testing.T) {
	cfg := Config{Brokers: []string{"k:9092"}, SASL: SASLConfig{Mechanism: "PLAIN", Username: "u", Password: "hunter2-very-secret"}}
	for _, out := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%s %q", cfg.SASL.Password, cfg.SASL.Password)} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("password printed: %s", out)
		}
	}
	b, _ := json.Marshal(cfg)
	if strings.Contains(string(b), "hunter2") {
		t.Errorf("password marshalled: %s", b)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.describe("connect", kgo.SASLAuthenticationFailed); strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "sasl.password") {
		t.Errorf("auth error %q", err)
	}
}

func TestTopicTemplate(t *testing.T) {
	s, err := New(Config{Brokers: []string{"k:9092"}})
	if err != nil {
		t.Fatal(err)
	}
	for ds, want := range map[string]string{"packetsleuth.dns": "packetsleuth-dns", "packetsleuth.flow": "packetsleuth-flow", "custom": "packetsleuth-custom", "bad dataset": ""} {
		if got := s.Topic(ds); got != want {
			t.Errorf("Topic(%q) = %q, want %q", ds, got, want)
		}
	}
	one, _ := New(Config{Brokers: []string{"k:9092"}, Topic: "siem"})
	if got := one.Topic("packetsleuth.tls"); got != "siem" {
		t.Errorf("fixed topic: %q", got)
	}
}

func TestWriteBeforeConnect(t *testing.T) {
	s, _ := New(Config{Brokers: []string{"127.0.0.1:9"}})
	if err := s.Write(context.Background(), makeRecords(t, "x", 1)); !errors.Is(err, outputs.ErrNotConnected) {
		t.Errorf("Write before Connect: %v", err)
	}
}

func TestConnectRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	s, _ := New(Config{Brokers: []string{addr}, Timeout: 2 * time.Second})
	err = s.Connect(context.Background())
	if err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("Connect to a closed port: %v", err)
	}
	if err := s.Write(context.Background(), makeRecords(t, "x", 1)); !errors.Is(err, outputs.ErrNotConnected) {
		t.Errorf("Write after failed Connect: %v", err)
	}
}

// A broker that hangs up at once: before any connect worked, the hint is
// the usual set-up mistake (TLS or SASL wanted); once one worked, it is a
// restart, and the error must not send the operator after TLS or SASL.
func TestHangUpHint(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	for _, worked := range []bool{false, true} {
		s, err := New(Config{Brokers: []string{l.Addr().String()}, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		s.worked = worked
		err = s.Connect(context.Background())
		if err == nil {
			t.Fatal("Connect to a broker that hangs up succeeded")
		}
		if tlsHint := strings.Contains(err.Error(), "TLS or SASL"); tlsHint == worked {
			t.Errorf("worked before %v: %v", worked, err)
		}
	}
}

// ---- against the kfake server (start-kafka.sh) ----

func TestRoundTripCodecs(t *testing.T) {
	addr := env(t, "PS_TEST_KAFKA")[0]
	for _, codec := range []string{"none", "gzip", "snappy", "lz4", "zstd"} {
		t.Run(codec, func(t *testing.T) {
			roundTrip(t, Config{Brokers: []string{addr}, Compression: codec}, 600)
		})
	}
}

// The outputs' Fanout uses its copies of the records again once every
// output is done with them: a message the client still sent from them
// after Write returned would carry another event's bytes.
func TestSharedCopiesReachTheBroker(t *testing.T) {
	addr := env(t, "PS_TEST_KAFKA")[0]
	run := runID()
	cfg := Config{Brokers: []string{addr}, Topic: "pstest-" + run + "-{dataset}"}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	recs := makeRecords(t, run, 3000)
	if sum := outputstest.WriteShared(t, s, outputs.SinkConfig{Name: "kafka", Type: "kafka"}, recs, 64); sum.Sent != uint64(len(recs)) {
		t.Fatalf("summary %v", sum)
	}
	checkDelivered(t, s, recs, consume(t, addr, dialerFor(cfg), topicsOf(s), len(recs)))
}

func TestRoundTripMurmur2OneTopic(t *testing.T) {
	addr := env(t, "PS_TEST_KAFKA")[0]
	roundTrip(t, Config{Brokers: []string{addr}, Balancer: "murmur2", Compression: "lz4"}, 300)
}

func TestSASL(t *testing.T) {
	v := env(t, "PS_TEST_KAFKA_SASL", "PS_TEST_KAFKA_USER", "PS_TEST_KAFKA_PASS")
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			roundTrip(t, Config{Brokers: []string{v[0]}, SASL: SASLConfig{Mechanism: mech, Username: v[1], Password: outputs.Secret(v[2])}}, 200)
		})
		t.Run(mech+"/wrong-password", func(t *testing.T) {
			s, err := New(Config{Brokers: []string{v[0]}, Timeout: 5 * time.Second, SASL: SASLConfig{Mechanism: mech, Username: v[1], Password: "not-" + outputs.Secret(v[2])}})
			if err != nil {
				t.Fatal(err)
			}
			err = s.Connect(context.Background())
			if err == nil {
				t.Fatal("wrong password accepted")
			}
			if !errors.Is(err, kgo.SASLAuthenticationFailed) || !strings.Contains(err.Error(), "sasl.password") {
				t.Errorf("unclear error: %v", err)
			}
			if strings.Contains(err.Error(), "not-"+v[2]) {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		s, _ := New(Config{Brokers: []string{v[0]}, Timeout: 5 * time.Second})
		if err := s.Connect(context.Background()); err == nil {
			t.Fatal("SASL listener accepted a client without SASL")
		} else {
			t.Logf("refused: %v", err)
		}
	})
}

func TestTLS(t *testing.T) {
	v := env(t, "PS_TEST_KAFKA_TLS", "PS_TEST_KAFKA_MTLS", "PS_TEST_KAFKA_SASL_TLS", "PS_TEST_CA", "PS_TEST_CLIENT_CERT", "PS_TEST_CLIENT_KEY", "PS_TEST_KAFKA_USER", "PS_TEST_KAFKA_PASS")
	ca, cert, key := v[3], v[4], v[5]
	t.Run("tls", func(t *testing.T) {
		roundTrip(t, Config{Brokers: []string{v[0]}, TLS: TLSConfig{Enabled: true, CA: ca}}, 200)
	})
	t.Run("mtls", func(t *testing.T) {
		roundTrip(t, Config{Brokers: []string{v[1]}, Compression: "zstd", TLS: TLSConfig{Enabled: true, CA: ca, Cert: cert, Key: key}}, 200)
	})
	t.Run("sasl-tls", func(t *testing.T) {
		roundTrip(t, Config{Brokers: []string{v[2]}, TLS: TLSConfig{Enabled: true, CA: ca},
			SASL: SASLConfig{Mechanism: "SCRAM-SHA-512", Username: v[6], Password: outputs.Secret(v[7])}}, 200)
	})
	t.Run("mtls-without-cert", func(t *testing.T) {
		s, _ := New(Config{Brokers: []string{v[1]}, Timeout: 5 * time.Second, TLS: TLSConfig{Enabled: true, CA: ca}})
		err := s.Connect(context.Background())
		if err == nil {
			t.Fatal("mTLS listener accepted a client without a certificate")
		}
		t.Logf("refused: %v", err)
	})
	t.Run("unknown-ca", func(t *testing.T) {
		s, _ := New(Config{Brokers: []string{v[0]}, Timeout: 5 * time.Second, TLS: TLSConfig{Enabled: true}})
		err := s.Connect(context.Background())
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("a server cert from an unknown CA was accepted or the error is unclear: %v", err)
		}
	})
}

func TestOversizedRecordIsPermanent(t *testing.T) {
	addr := env(t, "PS_TEST_KAFKA")[0]
	run := runID()
	s, _ := New(Config{Brokers: []string{addr}, Topic: "pstest-" + run + "-{dataset}", MaxMessageBytes: 4096})
	ctx := context.Background()
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	recs := makeRecords(t, run, 8)
	big := recs[3]
	big.JSON = append(append([]byte(nil), big.JSON[:len(big.JSON)-1]...), []byte(`,"pad":"`+strings.Repeat("y", 5000)+`"}`)...)
	recs[3] = big
	recs[5].Dataset = "no spaces allowed"
	err := s.Write(ctx, recs)
	var be *outputs.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("Write: %v, want *BatchError", err)
	}
	if len(be.Failed) != 0 || !slices.Equal(be.Permanent, []int{3, 5}) || len(be.Reasons) != 2 || !errors.Is(be.Reasons[0], ErrMessageTooLarge) {
		t.Fatalf("BatchError %+v %v", be, be.Reasons)
	}
	sent := slices.Delete(slices.Clone(recs), 5, 6)
	sent = slices.Delete(sent, 3, 4)
	checkDelivered(t, s, sent, consume(t, addr, &kgo.Dialer{}, topicsOf(s), len(sent)))
}

// TestBrokerRestart stops the Kafka server while writes are in flight and
// starts it again 2 s later. The loop below does what the Runner does
// (reconnect after ErrNotConnected, resend what a *BatchError names, keep
// the batches queued meanwhile); every event must arrive at least once.
func TestBrokerRestart(t *testing.T) {
	addr := env(t, "PS_TEST_KAFKA")[0]
	if testing.Short() {
		t.Skip("stops the shared Kafka server")
	}
	svc := filepath.Join("..", "..", "..", "shared", "services")
	if _, err := os.Stat(filepath.Join(svc, "stop-kafka.sh")); err != nil {
		t.Skipf("service scripts not found: %v", err)
	}
	run := runID()
	s, _ := New(Config{Brokers: []string{addr}, Topic: "pstest-" + run + "-{dataset}", MaxAttempts: 2, Timeout: 2 * time.Second})
	ctx := context.Background()
	defer s.Close(ctx)
	const n, size = 4000, 40
	recs := makeRecords(t, run, n)
	var queue [][]schemas.Record
	for i := 0; i < n; i += size {
		queue = append(queue, recs[i:min(i+size, n)])
	}

	var sent atomic.Int64
	chaos := make(chan error, 1)
	go func() { // stop the broker once a third is sent, start it 2 s later
		for sent.Load() < n/3 {
			time.Sleep(time.Millisecond)
		}
		if out, err := exec.Command(filepath.Join(svc, "stop-kafka.sh")).CombinedOutput(); err != nil {
			chaos <- fmt.Errorf("stop-kafka: %v %s", err, out)
			return
		}
		time.Sleep(2 * time.Second)
		out, err := exec.Command(filepath.Join(svc, "start-kafka.sh")).CombinedOutput()
		if err != nil {
			err = fmt.Errorf("start-kafka: %v %s", err, out)
		}
		chaos <- err
	}()

	var notConnected, connectFails, partial int
	var errs []string
	connected := false
	deadline := time.Now().Add(2 * time.Minute)
	for len(queue) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d batches still queued at the deadline", len(queue))
		}
		if !connected {
			if err := s.Connect(ctx); err != nil {
				errs = append(errs, err.Error())
				connectFails++
				time.Sleep(100 * time.Millisecond)
				continue
			}
			connected = true
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := s.Write(wctx, queue[0])
		cancel()
		if err != nil {
			errs = append(errs, err.Error())
		}
		var be *outputs.BatchError
		switch {
		case err == nil:
			sent.Add(int64(len(queue[0])))
			queue = queue[1:]
		case errors.Is(err, outputs.ErrNotConnected):
			notConnected++
			connected = false
			time.Sleep(50 * time.Millisecond)
		case errors.As(err, &be):
			partial++
			if len(be.Permanent) > 0 {
				t.Fatalf("permanent failures %v", be.Reasons)
			}
			var again []schemas.Record
			for _, i := range be.Failed {
				again = append(again, queue[0][i])
			}
			sent.Add(int64(len(queue[0]) - len(again)))
			queue[0] = again
			time.Sleep(50 * time.Millisecond)
		default:
			t.Logf("write error, retrying: %v", err)
			time.Sleep(50 * time.Millisecond)
		}
	}
	if err := <-chaos; err != nil {
		t.Fatal(err)
	}
	if notConnected+connectFails == 0 {
		t.Errorf("the sink never reported the broker down")
	}
	t.Logf("%d ErrNotConnected, %d failed Connects, %d partial failures", notConnected, connectFails, partial)
	for _, e := range errs {
		// a plain restart is no set-up mistake
		if strings.Contains(e, "TLS") || strings.Contains(e, "SASL") {
			t.Errorf("after a broker restart the error suggests TLS or SASL: %s", e)
		}
	}
	got := consume(t, addr, &kgo.Dialer{}, topicsOf(s), n)
	dups := 0
	for _, ms := range got {
		dups += len(ms) - 1
	}
	t.Logf("%d distinct events back, %d duplicates", len(got), dups)
	checkDelivered(t, s, recs, got)
}

// Message timestamps are the time of sending by default, so that a replay
// of an old capture does not fall out of the topic's retention at once;
// timestamp: event gives the event's time.
func TestMessageTimestamp(t *testing.T) {
	addr := env(t, "PS_TEST_KAFKA")[0]
	for _, mode := range []string{"", TimestampEvent} {
		run := runID()
		s, err := New(Config{Brokers: []string{addr}, Topic: "pstest-" + run, Timestamp: mode})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := s.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		recs := makeRecords(t, run, 3)
		before := time.Now().Add(-time.Second)
		if err := s.Write(ctx, recs); err != nil {
			t.Fatal(err)
		}
		got := consume(t, addr, &kgo.Dialer{}, topicsOf(s), len(recs))
		s.Close(ctx)
		for i, r := range recs {
			ms := got[eventID(t, r.JSON)]
			if len(ms) == 0 {
				t.Fatalf("%q: record %d not consumed", mode, i)
			}
			ts := ms[0].time
			switch mode {
			case TimestampEvent:
				if !ts.Equal(r.Time) {
					t.Errorf("timestamp event: message time %v, event time %v", ts, r.Time)
				}
			default:
				if ts.Before(before) || ts.After(time.Now().Add(time.Second)) {
					t.Errorf("default timestamp: message time %v, want the time of sending (event time %v)", ts, r.Time)
				}
			}
		}
	}
}

// BenchmarkWrite produces 500-record batches to the kfake server on
// loopback (acks=all, snappy) and reports events/s and allocations per
// record (client included).
func BenchmarkWrite(b *testing.B) {
	addr := env(b, "PS_TEST_KAFKA")[0]
	run := runID()
	s, _ := New(Config{Brokers: []string{addr}, Topic: "psbench-" + run + "-{dataset}"})
	ctx := context.Background()
	if err := s.Connect(ctx); err != nil {
		b.Fatal(err)
	}
	defer s.Close(ctx)
	const n = 500
	recs := makeRecords(b, run, n)
	size := 0
	for _, r := range recs {
		size += len(r.JSON)
	}
	if err := s.Write(ctx, recs); err != nil { // topics created
		b.Fatal(err)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Write(ctx, recs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(testing.AllocsPerRun(5, func() { _ = s.Write(ctx, recs) })/n, "allocs/record")
}
