package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	kgo "github.com/segmentio/kafka-go"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/outputs/kafka"
)

// DefaultTopic is the compacted topic of the fleet's sets.
const DefaultTopic = "packetsleuth-fleet-config"

// DefaultDir is where a sensor keeps its sets.
const DefaultDir = "/var/lib/packetsleuth/fleet"

// setKey is the key of every set: compaction keeps the newest.
const setKey = "set"

// Config is the fleet: section of sensor.yaml.
type Config struct {
	// Brokers of the Kafka cluster that holds the sets (empty: no fleet
	// configuration).
	Brokers outputs.StringList `yaml:"brokers"`
	// Topic holding the sets (default DefaultTopic), compacted.
	Topic string `yaml:"topic"`
	// Dir keeps the sets (default DefaultDir).
	Dir  string           `yaml:"dir"`
	TLS  kafka.TLSConfig  `yaml:"tls"`
	SASL kafka.SASLConfig `yaml:"sasl"`
}

// Enabled reports whether the sensor follows a fleet configuration.
func (c Config) Enabled() bool { return len(c.Brokers) > 0 }

// WithDefaults fills the unset keys.
func (c Config) WithDefaults() Config {
	if c.Topic == "" {
		c.Topic = DefaultTopic
	}
	if c.Dir == "" {
		c.Dir = DefaultDir
	}
	return c
}

// Validate reports every problem of the section.
func (c Config) Validate() error {
	if !c.Enabled() {
		return nil
	}
	var errs []error
	for i, b := range c.Brokers {
		if _, port, err := net.SplitHostPort(b); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("fleet.brokers[%d]: %q is not host:port", i, b))
		}
	}
	if _, _, err := kafka.Security(c.TLS, c.SASL); err != nil {
		errs = append(errs, fmt.Errorf("fleet: %w", err))
	}
	return errors.Join(errs...)
}

func (c Config) dialer() (*kgo.Dialer, error) {
	t, mech, err := kafka.Security(c.TLS, c.SASL)
	if err != nil {
		return nil, err
	}
	return &kgo.Dialer{Timeout: 10 * time.Second, ClientID: "packetsleuth-fleet", TLS: t, SASLMechanism: mech, DualStack: true}, nil
}

// Status is what a sensor reports of its fleet configuration.
type Status struct {
	Version string // the set in force
	Error   string // why the newest set published was refused ("" when it is in force)
}

// Syncer keeps a sensor's directory on the newest good set of the topic.
type Syncer struct {
	cfg      Config
	dir      Dir
	check    Checker
	log      *slog.Logger
	onChange func() // a new set is in force: reload

	mu     sync.Mutex
	status Status
}

// NewSyncer makes the directory ready (the last good set, or the empty
// one) for a sensor that loads cfg's paths.
func NewSyncer(cfg Config, check Checker, onChange func(), log *slog.Logger) (*Syncer, error) {
	cfg = cfg.WithDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := Dir(cfg.Dir)
	if err := d.Ensure(); err != nil {
		return nil, err
	}
	s := &Syncer{cfg: cfg, dir: d, check: check, log: log, onChange: onChange}
	s.status.Version = d.Current()
	return s, nil
}

// Dir is the sensor's fleet directory.
func (s *Syncer) Dir() Dir { return s.dir }

// Status is the set in force and the last refusal.
func (s *Syncer) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// Apply installs a published set, or keeps the one in force and says why.
func (s *Syncer) Apply(data []byte) {
	b, err := Decode(data)
	version := ""
	if err == nil {
		version = b.Version()
		if version == s.dir.Current() {
			s.setStatus(Status{Version: version})
			return
		}
		_, err = s.dir.Install(b, s.check)
	}
	if err != nil {
		s.mu.Lock()
		s.status.Error = fmt.Sprintf("set %s refused: %v", orUnknown(version), err)
		s.mu.Unlock()
		s.log.Error("fleet: set refused; the set in force stays", "refused", orUnknown(version), "in_force", s.dir.Current(), "err", err)
		return
	}
	s.setStatus(Status{Version: version})
	s.log.Info("fleet: new set in force", "version", version, "rules", len(b.Rules), "intel", len(b.Intel))
	if s.onChange != nil {
		s.onChange()
	}
}

func orUnknown(v string) string {
	if v == "" {
		return "(undecodable)"
	}
	return v
}

func (s *Syncer) setStatus(st Status) {
	s.mu.Lock()
	s.status = st
	s.mu.Unlock()
}

// Run follows the topic until ctx ends: it starts at its newest set and
// applies every set published after it. An unreachable broker or a
// missing topic is retried (with a log line); the set in force stays.
func (s *Syncer) Run(ctx context.Context) {
	d, err := s.cfg.dialer()
	if err != nil {
		s.log.Error("fleet", "err", err)
		return
	}
	backoff := time.Second
	for ctx.Err() == nil {
		err := s.follow(ctx, d)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("fleet: sets unreachable; the set in force stays", "topic", s.cfg.Topic, "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, time.Minute)
	}
}

// follow reads from the newest set on until an error.
func (s *Syncer) follow(ctx context.Context, d *kgo.Dialer) error {
	var last int64
	for _, b := range s.cfg.Brokers {
		conn, err := d.DialLeader(ctx, "tcp", b, s.cfg.Topic, 0)
		if err != nil {
			continue
		}
		last, err = conn.ReadLastOffset()
		conn.Close()
		if err != nil {
			return err
		}
		break
	}
	r := kgo.NewReader(kgo.ReaderConfig{Brokers: s.cfg.Brokers, Topic: s.cfg.Topic, Partition: 0, Dialer: d,
		MinBytes: 1, MaxBytes: 4 << 20, MaxWait: time.Second, MaxAttempts: 3})
	defer r.Close()
	if err := r.SetOffset(max(last-1, 0)); err != nil {
		return err
	}
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			return err
		}
		if string(m.Key) == setKey {
			s.Apply(m.Value)
		}
	}
}

// Publish creates the compacted topic when it is missing and publishes b
// as the fleet's set; it returns the set's version.
func Publish(ctx context.Context, cfg Config, b Bundle) (string, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return "", err
	}
	data, err := b.Encode()
	if err != nil {
		return "", err
	}
	d, err := cfg.dialer()
	if err != nil {
		return "", err
	}
	if err := createCompacted(ctx, d, cfg); err != nil {
		return "", err
	}
	return b.Version(), PublishRaw(ctx, cfg, data)
}

// PublishRaw writes data as the set, whatever it holds (tests of refusals).
func PublishRaw(ctx context.Context, cfg Config, data []byte) error {
	cfg = cfg.WithDefaults()
	d, err := cfg.dialer()
	if err != nil {
		return err
	}
	w := &kgo.Writer{Addr: kgo.TCP(cfg.Brokers...), Topic: cfg.Topic, RequiredAcks: kgo.RequireAll,
		Transport: &kgo.Transport{TLS: d.TLS, SASL: d.SASLMechanism, ClientID: d.ClientID}, AllowAutoTopicCreation: true}
	defer w.Close()
	for {
		err := w.WriteMessages(ctx, kgo.Message{Key: []byte(setKey), Value: data})
		if err == nil || ctx.Err() != nil || !errors.Is(err, kgo.LeaderNotAvailable) && !errors.Is(err, kgo.UnknownTopicOrPartition) {
			if err != nil {
				return fmt.Errorf("fleet: publish to %s: %w", cfg.Topic, err)
			}
			return nil
		}
		time.Sleep(100 * time.Millisecond) // a topic just created
	}
}

// createCompacted makes the topic: one partition (one ordered history),
// cleanup.policy=compact (Kafka keeps the newest set).
func createCompacted(ctx context.Context, d *kgo.Dialer, cfg Config) error {
	var err error
	for _, b := range cfg.Brokers {
		var conn *kgo.Conn
		if conn, err = d.DialContext(ctx, "tcp", b); err != nil {
			continue
		}
		defer conn.Close()
		err = conn.CreateTopics(kgo.TopicConfig{Topic: cfg.Topic, NumPartitions: 1, ReplicationFactor: -1,
			ConfigEntries: []kgo.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: "compact"}}})
		if errors.Is(err, kgo.TopicAlreadyExists) {
			return nil
		}
		return err
	}
	return fmt.Errorf("fleet: %w", err)
}
