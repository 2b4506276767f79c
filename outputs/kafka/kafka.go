// Package kafka is the Kafka output: it produces each record to a topic per
// dataset (or one topic), keyed by network.community_id so that every event
// of one connection lands in the same partition and stays in order.
//
// The sink only talks to the brokers. Batching, retries with backoff and the
// disk spool belong to the shared outputs Runner: Write sends one batch
// synchronously (acks=all by default) and says exactly which records failed.
package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	kgo "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
)

func init() {
	outputs.Register("kafka", func(sc outputs.SinkConfig) (outputs.Sink, error) {
		var c Config
		if err := sc.DecodeOptions(&c); err != nil {
			return nil, err
		}
		return New(c)
	}, Config{})
}

var compressions = map[string]compress.Compression{
	"none":   0,
	"gzip":   compress.Gzip,
	"snappy": compress.Snappy,
	"lz4":    compress.Lz4,
	"zstd":   compress.Zstd,
}

// ErrMessageTooLarge marks a record larger than max_message_bytes; it is
// reported as a permanent failure.
var ErrMessageTooLarge = errors.New("kafka: record larger than max_message_bytes")

// Sink produces records to Kafka. It implements outputs.Sink; Write and
// Close must not be called concurrently (the Runner never does).
type Sink struct {
	cfg   Config
	mech  sasl.Mechanism
	tls   bool
	codec compress.Compression
	// worked: a Connect has succeeded once, so a broker that hangs up is
	// restarting, not asking for TLS or SASL
	worked bool

	transport *kgo.Transport
	writer    *kgo.Writer

	topics map[string]string // dataset → topic ("" when invalid)

	// Reused per Write. The client may keep using them after a cancelled
	// Write returns, so they are dropped (not reused) in that case.
	msgs  []kgo.Message
	arena []byte
	index []int // msgs[j] is batch[index[j]]
}

var _ outputs.Sink = (*Sink)(nil)

// New checks cfg and returns an unconnected sink.
func New(cfg Config) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.defaults()
	cfg.Compression = strings.ToLower(cfg.Compression)
	s := &Sink{cfg: cfg, codec: compressions[cfg.Compression], topics: map[string]string{}, tls: cfg.TLS.Enabled}
	var err error
	if _, s.mech, err = Security(cfg.TLS, cfg.SASL); err != nil {
		return nil, err
	}
	return s, nil
}

// Security builds the TLS configuration (nil when off) and the SASL
// mechanism (nil when none) of a Kafka client, for the output and for the
// collector's consumer.
func Security(t TLSConfig, sc SASLConfig) (*tls.Config, sasl.Mechanism, error) {
	tlsCfg, err := t.tlsConfig()
	if err != nil {
		return nil, nil, err
	}
	switch strings.ToUpper(sc.Mechanism) {
	case "PLAIN":
		return tlsCfg, plain.Mechanism{Username: sc.Username, Password: sc.Password.Value()}, nil
	case "SCRAM-SHA-256", "SCRAM-SHA-512":
		algo := scram.SHA256
		if strings.ToUpper(sc.Mechanism) == "SCRAM-SHA-512" {
			algo = scram.SHA512
		}
		m, err := scram.Mechanism(algo, sc.Username, sc.Password.Value())
		if err != nil {
			return nil, nil, fmt.Errorf("sasl: %w", err)
		}
		return tlsCfg, m, nil
	}
	return tlsCfg, nil, nil
}

// Topic returns the topic a record of this dataset goes to, or "" when the
// dataset makes an invalid topic name.
func (s *Sink) Topic(dataset string) string {
	if t, ok := s.topics[dataset]; ok {
		return t
	}
	t := s.cfg.Topic
	if strings.Contains(t, "{dataset}") {
		t = strings.ReplaceAll(t, "{dataset}", strings.TrimPrefix(dataset, "packetsleuth."))
	}
	if !validTopic(t) {
		t = ""
	}
	if len(s.topics) < 1024 { // datasets are few; never grow without bound
		s.topics[dataset] = t
	}
	return t
}

// Connect (re)creates the client and checks that a broker answers a metadata
// request, so a wrong address, certificate or password is reported here.
func (s *Sink) Connect(ctx context.Context) error {
	s.shutdown()
	tlsCfg, err := s.cfg.TLS.tlsConfig()
	if err != nil {
		return err
	}
	s.transport = &kgo.Transport{
		DialTimeout: s.cfg.Timeout,
		IdleTimeout: 30 * time.Second,
		MetadataTTL: 10 * time.Second,
		ClientID:    s.cfg.ClientID,
		TLS:         tlsCfg,
		SASL:        s.mech,
	}
	var bal kgo.Balancer = &kgo.Hash{}
	if s.cfg.Balancer == "murmur2" {
		bal = kgo.Murmur2Balancer{}
	}
	acks := kgo.RequireAll
	switch strings.ToLower(s.cfg.RequiredAcks) {
	case "one":
		acks = kgo.RequireOne
	case "none":
		acks = kgo.RequireNone
	}
	s.writer = &kgo.Writer{
		Addr:         kgo.TCP(s.cfg.Brokers...),
		Balancer:     bal,
		MaxAttempts:  s.cfg.MaxAttempts,
		BatchSize:    1000, // per partition; more records make more produce batches (kafka-go preallocates this many)
		BatchBytes:   int64(s.cfg.MaxMessageBytes) + 1024,
		BatchTimeout: time.Microsecond, // flush as soon as one Write's records are queued
		ReadTimeout:  s.cfg.Timeout,
		WriteTimeout: s.cfg.Timeout,
		RequiredAcks: acks,
		Compression:  kgo.Compression(s.codec),
		Transport:    s.transport,

		AllowAutoTopicCreation: !s.cfg.DisableAutoTopicCreation,
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	// A plain dial first: it reports TLS and SASL failures as such (the
	// pooled transport only sees the broker hang up).
	dialer := &kgo.Dialer{Timeout: s.cfg.Timeout, ClientID: s.cfg.ClientID, TLS: tlsCfg, SASLMechanism: s.mech}
	var dialErr error
	for _, b := range s.cfg.Brokers {
		conn, err := dialer.DialContext(ctx, "tcp", b)
		if err == nil {
			conn.Close()
			dialErr = nil
			break
		}
		if dialErr == nil {
			dialErr = err
		}
	}
	if dialErr != nil {
		s.shutdown()
		return s.describe("connect", dialErr)
	}
	client := &kgo.Client{Addr: kgo.TCP(s.cfg.Brokers...), Transport: s.transport, Timeout: s.cfg.Timeout}
	if _, err := client.Metadata(ctx, &kgo.MetadataRequest{}); err != nil {
		s.shutdown()
		return s.describe("connect", err)
	}
	s.worked = true
	return nil
}

// describe wraps a client error with the brokers and, for the usual set-up
// mistakes, a hint.
func (s *Sink) describe(op string, err error) error {
	hint := ""
	switch {
	case errors.Is(err, kgo.SASLAuthenticationFailed):
		hint = " (SASL " + strings.ToUpper(s.cfg.SASL.Mechanism) + " authentication failed: check sasl.username and sasl.password)"
	case errors.Is(err, kgo.UnsupportedSASLMechanism):
		hint = " (the broker does not offer sasl.mechanism " + s.cfg.SASL.Mechanism + ")"
	case errors.Is(err, kgo.IllegalSASLState):
		hint = " (SASL failed: check sasl.mechanism)"
	case (op != "connect" || s.worked) && isConnErr(err):
		// the set-up worked before: a broker restart or outage
		hint = " (the broker is unreachable or restarting; it worked before: retrying)"
	case isEOF(err) && s.mech == nil && !s.tls:
		hint = " (the broker closed the connection: does it want TLS or SASL?)"
	case isEOF(err) && s.tls:
		hint = " (the broker closed the TLS connection: does it want a client certificate?)"
	}
	return fmt.Errorf("kafka: %s %s: %w%s", op, strings.Join(s.cfg.Brokers, ","), err, hint)
}

// Write produces the batch and waits for the brokers' acknowledgements.
// Records too large or with an unusable topic are Permanent; records the
// brokers did not take are Failed; a lost connection is ErrNotConnected.
func (s *Sink) Write(ctx context.Context, batch []schemas.Record) error {
	if s.writer == nil {
		return outputs.ErrNotConnected
	}
	var be outputs.BatchError
	size := 0
	for i := range batch {
		size += len(batch[i].JSON) + len(batch[i].Key)
	}
	if cap(s.arena) < size {
		s.arena = make([]byte, 0, size)
	}
	arena := s.arena[:0]
	msgs, index := s.msgs[:0], s.index[:0]
	now := time.Now()
	for i := range batch {
		r := &batch[i]
		if len(r.JSON)+len(r.Key) > s.cfg.MaxMessageBytes {
			be.Permanent = append(be.Permanent, i)
			continue
		}
		topic := s.Topic(r.Dataset)
		if topic == "" {
			be.Permanent = append(be.Permanent, i)
			continue
		}
		// Copy key and value: the client may hold them past a cancelled Write.
		var key []byte
		if r.Key != "" {
			start := len(arena)
			arena = append(arena, r.Key...)
			key = arena[start:len(arena):len(arena)]
		}
		start := len(arena)
		arena = append(arena, r.JSON...)
		ts := now
		if s.cfg.Timestamp == TimestampEvent {
			ts = r.Time
		}
		msgs = append(msgs, kgo.Message{Topic: topic, Key: key, Value: arena[start:len(arena):len(arena)], Time: ts})
		index = append(index, i)
	}
	s.arena, s.msgs, s.index = arena, msgs, index
	reasons := make([]error, 0, len(be.Permanent))
	for _, i := range be.Permanent {
		if s.Topic(batch[i].Dataset) == "" {
			reasons = append(reasons, fmt.Errorf("kafka: dataset %q gives no valid topic from %q", batch[i].Dataset, s.cfg.Topic))
		} else {
			reasons = append(reasons, fmt.Errorf("%w: %d bytes", ErrMessageTooLarge, len(batch[i].JSON)+len(batch[i].Key)))
		}
	}

	var err error
	if len(msgs) > 0 {
		err = s.writer.WriteMessages(ctx, msgs...)
	}
	if err != nil && ctx.Err() != nil {
		// The client may still be sending from msgs and arena.
		s.msgs, s.arena, s.index = nil, nil, nil
		return ctx.Err()
	}
	var werrs kgo.WriteErrors
	switch {
	case err == nil:
	case errors.As(err, &werrs) && len(werrs) == len(msgs):
		var failed []error
		conn, ok := 0, 0
		for j, e := range werrs {
			if e == nil {
				ok++
				continue
			}
			if isConnErr(e) {
				conn++
			}
			if permanent(e) {
				be.Permanent = append(be.Permanent, index[j])
				reasons = append(reasons, s.describe("produce", e))
				continue
			}
			be.Failed = append(be.Failed, index[j])
			failed = append(failed, s.describe("produce", e))
		}
		if ok == 0 && conn > 0 && len(be.Permanent) == 0 {
			return fmt.Errorf("%w: %v", outputs.ErrNotConnected, s.describe("produce", firstErr(werrs)))
		}
		// Reasons go in Failed-then-Permanent order.
		be.Reasons = append(failed, reasons...)
		return &be
	default:
		if isConnErr(err) {
			return fmt.Errorf("%w: %v", outputs.ErrNotConnected, s.describe("produce", err))
		}
		return s.describe("produce", err)
	}
	if len(be.Permanent) > 0 {
		be.Reasons = reasons
		return &be
	}
	return nil
}

// Close flushes nothing (Write is synchronous) and releases the connections.
func (s *Sink) Close(ctx context.Context) error {
	return s.shutdown()
}

func (s *Sink) shutdown() error {
	var err error
	if s.writer != nil {
		err = s.writer.Close()
		s.writer = nil
	}
	if s.transport != nil {
		s.transport.CloseIdleConnections()
		s.transport = nil
	}
	return err
}

func firstErr(errs []error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// permanent reports produce errors that retrying the same record cannot fix.
func permanent(err error) bool {
	var ke kgo.Error
	if errors.As(err, &ke) {
		switch ke {
		case kgo.MessageSizeTooLarge, kgo.InvalidMessage, kgo.InvalidMessageSize, kgo.InvalidTopic, kgo.RecordListTooLarge:
			return true
		}
	}
	var mtl kgo.MessageTooLargeError
	return errors.As(err, &mtl)
}

func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

// isConnErr reports errors that mean the broker cannot be reached: the
// Runner should reconnect (and back off) rather than resend at once.
func isConnErr(err error) bool {
	if isEOF(err) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrClosedPipe) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// SetupError reports errors that retrying cannot fix: a refused password
// or SASL mechanism, a server certificate that does not verify, a TLS
// alert from the broker (a client certificate it wants or refuses).
func SetupError(err error) bool {
	if errors.Is(err, kgo.SASLAuthenticationFailed) || errors.Is(err, kgo.UnsupportedSASLMechanism) || errors.Is(err, kgo.IllegalSASLState) {
		return true
	}
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	if errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error" // a TLS alert
}
