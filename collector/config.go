package collector

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/yamlsyntax"
	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/outputs/kafka"
	"github.com/packetsleuth/packetsleuth/schemas"
	"go.yaml.in/yaml/v3"
)

// Config is collector.yaml (see collector.yaml.example).
type Config struct {
	Kafka KafkaConfig `yaml:"kafka"`
	// Batch bounds what is written to the stores and committed at once.
	Batch BatchConfig `yaml:"batch"`
	// Outputs are the stores (type store: PostgreSQL or SQLite;
	// elasticsearch), written synchronously: offsets are committed only
	// once every one of them holds the batch.
	Outputs []outputs.SinkConfig `yaml:"outputs"`
	// DeadLetter is the NDJSON file for messages no store can take
	// (invalid JSON, not an event, rejected by a store).
	DeadLetter string `yaml:"dead_letter"`
	// Metrics is the address of /metrics (empty: none).
	Metrics string `yaml:"metrics"`
	// RetryMax caps the backoff between retries of a failing store.
	RetryMax time.Duration `yaml:"retry_max"`
}

// KafkaConfig is the consumer side of the sensors' kafka output.
type KafkaConfig struct {
	Brokers outputs.StringList `yaml:"brokers"`
	// GroupID is the consumer group: collectors with the same group share
	// the partitions (default packetsleuth-collector).
	GroupID string `yaml:"group_id"`
	// Topics to read (default: the kafka output's default topic of every
	// dataset, packetsleuth-flow, packetsleuth-dns, ...).
	Topics   outputs.StringList `yaml:"topics"`
	ClientID string             `yaml:"client_id"`
	// SessionTimeout: how long the group waits for a silent collector
	// before giving its partitions to the others (default 30s).
	SessionTimeout time.Duration `yaml:"session_timeout"`
	// StartOffset of a group with no committed offset: first (default) or last.
	StartOffset string           `yaml:"start_offset"`
	TLS         kafka.TLSConfig  `yaml:"tls"`
	SASL        kafka.SASLConfig `yaml:"sasl"`
}

// BatchConfig: a batch is written when it holds MaxRecords or MaxWait has
// passed since its first record.
type BatchConfig struct {
	MaxRecords int           `yaml:"max_records"`
	MaxWait    time.Duration `yaml:"max_wait"`
}

// DefaultTopics are the kafka output's default topics of every dataset.
func DefaultTopics() []string {
	var ts []string
	for ds := range schemas.DatasetGroups {
		ts = append(ts, strings.ReplaceAll(kafka.DefaultTopic, "{dataset}", strings.TrimPrefix(ds, "packetsleuth.")))
	}
	return ts
}

// WithDefaults fills the unset values.
func (c Config) WithDefaults() Config {
	if c.Kafka.GroupID == "" {
		c.Kafka.GroupID = "packetsleuth-collector"
	}
	if len(c.Kafka.Topics) == 0 {
		c.Kafka.Topics = DefaultTopics()
	}
	if c.Kafka.ClientID == "" {
		c.Kafka.ClientID = "packetsleuth-collector"
	}
	if c.Kafka.SessionTimeout <= 0 {
		c.Kafka.SessionTimeout = 30 * time.Second
	}
	if c.Kafka.StartOffset == "" {
		c.Kafka.StartOffset = "first"
	}
	if c.Batch.MaxRecords <= 0 {
		c.Batch.MaxRecords = 5000
	}
	if c.Batch.MaxWait <= 0 {
		c.Batch.MaxWait = time.Second
	}
	if c.RetryMax <= 0 {
		c.RetryMax = 30 * time.Second
	}
	for i := range c.Outputs {
		if c.Outputs[i].Name == "" {
			c.Outputs[i].Name = c.Outputs[i].Type
		}
	}
	return c
}

// Validate reports every configuration error.
func (c Config) Validate() error {
	var errs []error
	if len(c.Kafka.Brokers) == 0 {
		errs = append(errs, errors.New("kafka.brokers: at least one broker is needed"))
	}
	if s := c.Kafka.StartOffset; s != "" && s != "first" && s != "last" {
		errs = append(errs, fmt.Errorf("kafka.start_offset: %q is not first or last", s))
	}
	if len(c.Outputs) == 0 {
		errs = append(errs, errors.New("outputs: at least one store is needed (store or elasticsearch)"))
	}
	if _, _, err := kafka.Security(c.Kafka.TLS, c.Kafka.SASL); err != nil {
		errs = append(errs, fmt.Errorf("kafka: %w", err))
	}
	return errors.Join(errs...)
}

// Load reads a collector.yaml strictly: unknown keys are errors with their line.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	var c Config
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return Config{}, yamlsyntax.Explain(path, b, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
