// Package collector is the central half of a fleet: `sensor collect` reads
// the events the sensors publish to Kafka, as a consumer group (collectors
// with one group id share the partitions), and writes them to the stores
// (PostgreSQL or SQLite through the store output, Elasticsearch).
//
// Exactly once into the stores on top of at-least-once Kafka: a batch is
// written to every store, synchronously, and only then are its offsets
// committed; what a crash or a rebalance delivers again, the stores drop by
// event.id (unique key, ON CONFLICT DO NOTHING; the document id in
// Elasticsearch). A store that fails is retried with backoff for as long
// as it fails, and no more than the next batch is read meanwhile
// (backpressure: the events wait in Kafka). That next batch is fetched and
// decoded while the stores write the current one; offsets are committed in
// batch order, each after the stores hold its batch. A message that is not an event, or that a store rejects
// for good, goes to the dead-letter file and the rest flows.
package collector

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	kgo "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"

	"github.com/packetsleuth/packetsleuth/internal/jsonscan"
	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/outputs/kafka"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/store"
)

// Collector consumes one consumer group's share of the topics.
type Collector struct {
	cfg   Config
	log   *slog.Logger
	sinks []*sink
	dead  *outputs.DeadLetter // nil: rejected messages are only logged and counted
	m     *Metrics

	// reader is replaced by the reading goroutine (renewReader) while the
	// writing one commits: readerMu guards the field.
	readerMu sync.Mutex
	reader   *kgo.Reader

	// hasStore: a store output decodes each message once, as its row, for
	// both routing and the store (without one, the header is all it reads).
	hasStore bool

	tls  *tls.Config
	mech sasl.Mechanism
	// readerErrs counts the reader's errors since it last delivered a
	// message: a reader that saw errors and then delivers nothing for a
	// whole stall interval is made anew (see fetch).
	readerErrs atomic.Int64
}

// sink is one store and whether it is connected.
type sink struct {
	cfg       outputs.SinkConfig
	s         outputs.Sink
	connected bool
	dups      uint64 // the sink's duplicate count at the previous batch
	refused   refusals
}

// New builds the collector: the stores (not yet connected), the dead-letter
// file and the group reader.
func New(cfg Config, m *Metrics, log *slog.Logger) (*Collector, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	c := &Collector{cfg: cfg, log: log, m: m}
	for _, sc := range cfg.Outputs {
		s, err := outputs.NewSink(sc)
		if err != nil {
			c.closeSinks()
			return nil, err
		}
		c.sinks = append(c.sinks, &sink{cfg: sc, s: s})
		if _, ok := s.(*store.Sink); ok {
			c.hasStore = true
		}
	}
	if cfg.DeadLetter != "" {
		d, err := outputs.OpenDeadLetter(cfg.DeadLetter, "collector")
		if err != nil {
			c.closeSinks()
			return nil, fmt.Errorf("dead_letter: %w", err)
		}
		c.dead = d
	}
	tlsCfg, mech, err := kafka.Security(cfg.Kafka.TLS, cfg.Kafka.SASL)
	if err != nil {
		c.close()
		return nil, err
	}
	c.tls, c.mech = tlsCfg, mech
	c.reader = c.newReader()
	return c, nil
}

// newReader makes the group reader.
func (c *Collector) newReader() *kgo.Reader {
	cfg := c.cfg
	start := kgo.FirstOffset
	if cfg.Kafka.StartOffset == "last" {
		start = kgo.LastOffset
	}
	return kgo.NewReader(kgo.ReaderConfig{
		Brokers:     cfg.Kafka.Brokers,
		GroupID:     cfg.Kafka.GroupID,
		GroupTopics: cfg.Kafka.Topics,
		Dialer:      &kgo.Dialer{Timeout: 10 * time.Second, ClientID: cfg.Kafka.ClientID, TLS: c.tls, SASLMechanism: c.mech, DualStack: true},
		MinBytes:    1,
		MaxBytes:    16 << 20,
		MaxWait:     250 * time.Millisecond,
		// commits are explicit, after the stores hold the batch
		CommitInterval:    0,
		StartOffset:       start,
		QueueCapacity:     cfg.Batch.MaxRecords,
		SessionTimeout:    cfg.Kafka.SessionTimeout,
		RebalanceTimeout:  cfg.Kafka.SessionTimeout,
		HeartbeatInterval: cfg.Kafka.SessionTimeout / 10,
		ErrorLogger: kgo.LoggerFunc(func(f string, a ...any) {
			c.readerErrs.Add(1)
			c.log.Warn("kafka", "msg", fmt.Sprintf(f, a...))
		}),
	})
}

// renewReader replaces a reader that stalled after errors: kafka-go's
// group reader can stay silent for good after its broker restarted
// (segmentio/kafka-go#387). The new member resumes at the committed
// offsets; a batch still being written commits on the old reader, which
// fails and is logged, and the stores drop what is read again.
func (c *Collector) renewReader() {
	c.log.Warn("kafka reader silent after errors; joining the group anew", "errors", c.readerErrs.Load())
	if err := c.reader.Close(); err != nil {
		c.log.Warn("kafka reader close", "err", err)
	}
	c.readerErrs.Store(0)
	r := c.newReader()
	c.readerMu.Lock()
	c.reader = r
	c.readerMu.Unlock()
	c.m.readerRenewals.Inc()
}

// Run consumes until ctx ends, then closes everything. It returns nil when
// ctx ended, or the error that stopped it.
func (c *Collector) Run(ctx context.Context) error {
	defer c.close()
	if err := c.preflight(ctx); err != nil {
		return err
	}
	// Two batches: the reading goroutine fetches and decodes one while
	// this one has the stores write the other and commits it.
	free, ready := make(chan *batch, 2), make(chan *batch)
	for range 2 {
		b := &batch{msgs: make([]kgo.Message, 0, c.cfg.Batch.MaxRecords)}
		if c.hasStore {
			b.rows = &store.Decoder{}
		}
		free <- b
	}
	rctx, stop := context.WithCancel(ctx)
	var reading sync.WaitGroup
	reading.Go(func() { c.read(rctx, free, ready) })
	defer func() { stop(); reading.Wait() }() // before close: the reader is the reading goroutine's
	for {
		var b *batch
		select {
		case <-ctx.Done():
			return nil
		case b = <-ready:
		}
		if ctx.Err() != nil {
			return nil
		}
		if b.err != nil {
			return fmt.Errorf("kafka: %w", b.err)
		}
		if err := c.store(ctx, b.recs); err != nil {
			if ctx.Err() != nil {
				return nil // stopped while retrying: the batch was not committed
			}
			return err
		}
		c.commit(ctx, b.msgs)
		free <- b
	}
}

// batch is one fetched batch, its records and the decoder whose rows they
// carry (nil without a store), or the error that ended reading.
type batch struct {
	msgs []kgo.Message
	recs []schemas.Record
	rows *store.Decoder
	err  error
}

// read fetches and decodes batches as free ones come back, until ctx
// ends or fetching fails (the failed batch carries the error).
func (c *Collector) read(ctx context.Context, free <-chan *batch, ready chan<- *batch) {
	for {
		var b *batch
		select {
		case <-ctx.Done():
			return
		case b = <-free:
		}
		b.msgs, b.err = c.fetch(ctx, b.msgs[:0])
		if b.err == nil {
			c.parse(b)
		}
		select {
		case <-ctx.Done():
			return
		case ready <- b:
		}
		if b.err != nil {
			return
		}
	}
}

// preflight dials the brokers once, so that a set-up mistake (a refused
// certificate, a wrong password) stops the collector with a clear error
// instead of being retried for ever; an unreachable broker is only logged
// (the reader keeps trying).
func (c *Collector) preflight(ctx context.Context) error {
	d := &kgo.Dialer{Timeout: 10 * time.Second, ClientID: c.cfg.Kafka.ClientID, TLS: c.tls, SASLMechanism: c.mech, DualStack: true}
	var last error
	for _, b := range c.cfg.Kafka.Brokers {
		conn, err := d.DialContext(ctx, "tcp", b)
		if err == nil {
			// TLS 1.3: a refused client certificate shows at the first read
			_, err = conn.ApiVersions()
			conn.Close()
			if err == nil {
				return nil
			}
		}
		if kafka.SetupError(err) {
			return fmt.Errorf("kafka: %s: %w (check kafka.tls and kafka.sasl)", b, err)
		}
		last = err
	}
	c.log.Warn("no broker reachable yet; the reader keeps trying", "err", last)
	return nil
}

// fetch reads one batch: it waits for a first message as long as it takes,
// then takes more until the batch is full or MaxWait has passed.
func (c *Collector) fetch(ctx context.Context, msgs []kgo.Message) ([]kgo.Message, error) {
	for {
		sctx, cancel := context.WithTimeout(ctx, c.cfg.Kafka.SessionTimeout)
		m, err := c.reader.FetchMessage(sctx)
		cancel()
		if err == nil {
			c.readerErrs.Store(0)
			msgs = append(msgs, m)
			break
		}
		if ctx.Err() != nil || sctx.Err() == nil {
			return msgs, err
		}
		// a whole session timeout without a message: idle, or stalled
		if c.readerErrs.Load() > 0 {
			c.renewReader()
		}
	}
	wctx, cancel := context.WithTimeout(ctx, c.cfg.Batch.MaxWait)
	defer cancel()
	for len(msgs) < c.cfg.Batch.MaxRecords {
		m, err := c.reader.FetchMessage(wctx)
		if err != nil {
			if wctx.Err() != nil {
				return msgs, nil // the wait is over (a message not taken stays in the reader)
			}
			return msgs, err
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// header is what the collector reads of an event to route it.
type header struct {
	Timestamp time.Time `json:"@timestamp"`
	Event     struct {
		ID      string `json:"id"`
		Kind    string `json:"kind"`
		Dataset string `json:"dataset"`
	} `json:"event"`
}

// decode reads h from doc, with jsonscan and, where jsonscan cannot
// decide, encoding/json (FuzzHeaderDecode checks they agree).
func (h *header) decode(doc []byte) error {
	*h = header{}
	s := jsonscan.New(doc)
	if s.Object(func(k []byte) bool {
		switch string(k) {
		case "@timestamp":
			return s.Time(&h.Timestamp)
		case "event":
			return s.Object(func(k []byte) bool {
				switch string(k) {
				case "id":
					return s.Str(&h.Event.ID)
				case "kind":
					return s.Str(&h.Event.Kind)
				case "dataset":
					return s.Str(&h.Event.Dataset)
				}
				return s.Other(k, "id", "kind", "dataset")
			})
		}
		return s.Other(k, "@timestamp", "event")
	}) && s.End() {
		return nil
	}
	*h = header{}
	return json.Unmarshal(doc, h)
}

// parse turns b's messages into its records; those that are not events go
// to the dead letter.
func (c *Collector) parse(b *batch) {
	recs := b.recs[:0]
	if b.rows != nil {
		b.rows.Reset()
	}
	var h header
	for i := range b.msgs {
		m := &b.msgs[i]
		rec := schemas.Record{Key: string(m.Key), JSON: m.Value}
		var reason string
		if b.rows == nil || !b.rows.Decode(m.Value, &rec) {
			// no store, or one that will reject it: the header routes it
			if err := h.decode(m.Value); err != nil {
				reason = "not JSON: " + err.Error()
			}
			rec.Dataset, rec.Kind, rec.Time = h.Event.Dataset, h.Event.Kind, h.Timestamp
		}
		if reason == "" && (rec.Dataset == "" || rec.Kind == "") {
			reason = "not an event: no event.dataset or event.kind"
		}
		if reason != "" {
			c.deadLetter(rec, fmt.Sprintf("%s (topic %s partition %d offset %d)", reason, m.Topic, m.Partition, m.Offset))
			continue
		}
		if rec.Time.IsZero() {
			rec.Time = m.Time
		}
		recs = append(recs, rec)
	}
	b.recs = recs
}

// store writes a batch's records to every store, each retried until it
// holds them.
func (c *Collector) store(ctx context.Context, recs []schemas.Record) error {
	if len(recs) == 0 {
		return nil
	}
	for _, s := range c.sinks {
		if err := c.write(ctx, s, recs); err != nil {
			return err
		}
	}
	c.m.stored.Add(float64(len(recs)))
	c.m.batches.Inc()
	return nil
}

// write delivers recs to one store: records it rejects for good are dead-
// lettered, failures are retried with backoff (the reader waits meanwhile).
func (c *Collector) write(ctx context.Context, s *sink, recs []schemas.Record) error {
	backoff := 100 * time.Millisecond
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			c.m.retries.WithLabelValues(s.cfg.Name).Inc()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, c.cfg.RetryMax)
		}
		if !s.connected {
			if err := s.s.Connect(ctx); err != nil {
				c.log.Warn("store connect failed; retrying", "output", s.cfg.Name, "err", outputs.Redact(err.Error()), "in", backoff)
				continue
			}
			s.connected = true
		}
		err := s.s.Write(ctx, recs)
		var be *outputs.BatchError
		switch {
		case err == nil:
			c.countDuplicates(s)
			return nil
		case errors.As(err, &be):
			for j, i := range be.Permanent {
				reason := "rejected by " + s.cfg.Name
				if k := len(be.Failed) + j; k < len(be.Reasons) {
					reason += ": " + be.Reasons[k].Error()
				}
				c.deadLetter(recs[i], reason)
			}
			if len(be.Failed) == 0 {
				c.countDuplicates(s)
				return nil
			}
			failed := make([]schemas.Record, 0, len(be.Failed))
			for _, i := range be.Failed {
				failed = append(failed, recs[i])
			}
			recs = failed
		case errors.Is(err, outputs.ErrNotConnected):
			s.connected = false
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.log.Warn("store write failed; retrying", "output", s.cfg.Name, "records", len(recs), "err", outputs.Redact(err.Error()), "in", backoff)
	}
}

// countDuplicates adds the records the store already held (a redelivery),
// and the sensors' reports it refused.
func (c *Collector) countDuplicates(s *sink) {
	c.countRefusedSensors(s)
	dr, ok := s.s.(outputs.DeliveryReporter)
	if !ok {
		return
	}
	d := dr.DeliveryCounts().Duplicates
	c.m.duplicates.WithLabelValues(s.cfg.Name).Add(float64(d - s.dups))
	s.dups = d
}

func (c *Collector) deadLetter(rec schemas.Record, reason string) {
	c.m.deadLettered.Inc()
	if c.dead == nil {
		c.log.Error("message rejected (no dead_letter file configured)", "dataset", rec.Dataset, "reason", reason)
		return
	}
	if err := c.dead.Write(rec, reason); err != nil {
		c.log.Error("dead_letter write failed", "reason", reason, "err", err)
	}
}

// commit commits the batch's offsets (the last message of each partition)
// and updates the lag. A failed commit (a rebalance took the partition) is
// logged: the new owner reads those messages again and the stores drop them.
func (c *Collector) commit(ctx context.Context, msgs []kgo.Message) {
	type tp struct {
		topic string
		part  int
	}
	last := map[tp]kgo.Message{}
	for _, m := range msgs {
		k := tp{m.Topic, m.Partition}
		if p, ok := last[k]; !ok || m.Offset > p.Offset {
			last[k] = m
		}
	}
	commit := make([]kgo.Message, 0, len(last))
	for _, m := range last {
		commit = append(commit, m)
	}
	c.readerMu.Lock()
	r := c.reader
	c.readerMu.Unlock()
	if err := r.CommitMessages(ctx, commit...); err != nil {
		c.m.commitErrors.Inc()
		c.log.Warn("offset commit failed; those messages will be read again and dropped by event.id", "err", err)
		return
	}
	for _, m := range commit {
		c.m.setLag(m.Topic, m.Partition, m.HighWaterMark-m.Offset-1)
	}
}

func (c *Collector) closeSinks() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, s := range c.sinks {
		if err := s.s.Close(ctx); err != nil {
			c.log.Error("store close", "output", s.cfg.Name, "err", err)
		}
	}
}

func (c *Collector) close() {
	if c.reader != nil {
		if err := c.reader.Close(); err != nil {
			c.log.Warn("kafka reader close", "err", err)
		}
	}
	c.closeSinks()
	if c.dead != nil {
		if err := c.dead.Close(); err != nil {
			c.log.Error("dead_letter close", "err", err)
		}
	}
}
