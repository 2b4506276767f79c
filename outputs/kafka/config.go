package kafka

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
)

// Message timestamps (Config.Timestamp).
const (
	TimestampIngest = "ingest"
	TimestampEvent  = "event"
)

// DefaultTopic sends each dataset to its own topic: packetsleuth.dns goes to
// packetsleuth-dns.
const DefaultTopic = "packetsleuth-{dataset}"

// Config is the `kafka` output section of sensor.yaml. The zero value of every
// optional key is replaced by its documented default in New.
type Config struct {
	// Brokers are the bootstrap brokers, host:port. Required.
	Brokers outputs.StringList `yaml:"brokers"`
	// Topic is a fixed topic name or a template; {dataset} is replaced by the
	// part of event.dataset after "packetsleuth." (default DefaultTopic).
	Topic string `yaml:"topic"`
	// Compression: none, gzip, snappy (default), lz4 or zstd.
	Compression string `yaml:"compression"`
	// RequiredAcks: all (default), one or none.
	RequiredAcks string `yaml:"required_acks"`
	// Balancer picks the partition from the key (network.community_id):
	// hash (default, FNV-1a like sarama) or murmur2 (like the Java client).
	// Records without a key are spread round-robin.
	Balancer string `yaml:"balancer"`
	// MaxAttempts is how often the client itself tries a produce request
	// before Write reports the records as failed to the Runner (default 3).
	MaxAttempts int `yaml:"max_attempts"`
	// Timeout bounds dialing and each request (default 10s).
	Timeout time.Duration `yaml:"timeout"`
	// MaxMessageBytes: larger records are rejected as permanent failures
	// instead of being sent (default 1000000, Kafka's message.max.bytes).
	MaxMessageBytes int `yaml:"max_message_bytes"`
	// DisableAutoTopicCreation stops asking the broker to create missing
	// topics (by default it is asked to).
	DisableAutoTopicCreation bool `yaml:"disable_auto_topic_creation"`
	// ClientID names the sensor to the brokers (default "packetsleuth").
	ClientID string `yaml:"client_id"`
	// Timestamp is the Kafka message timestamp: ingest (default, the time
	// the sensor sends it) or event (the event's @timestamp, packet time in
	// a replay: a replay of an old capture then falls out of a topic's
	// retention at once). The event itself always carries packet time.
	Timestamp string `yaml:"timestamp"`

	TLS  TLSConfig  `yaml:"tls"`
	SASL SASLConfig `yaml:"sasl"`
}

// TLSConfig turns on TLS to the brokers; Cert and Key add a client
// certificate (mTLS).
type TLSConfig struct {
	Enabled            bool   `yaml:"enabled"`
	CA                 string `yaml:"ca"`   // PEM file with the CAs to trust (default: system roots)
	Cert               string `yaml:"cert"` // PEM client certificate (mTLS)
	Key                string `yaml:"key"`  // PEM client key (mTLS)
	ServerName         string `yaml:"server_name"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// SASLConfig authenticates to the brokers.
type SASLConfig struct {
	// Mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (empty: no SASL).
	Mechanism string         `yaml:"mechanism"`
	Username  string         `yaml:"username"`
	Password  outputs.Secret `yaml:"password"`
}

// defaults fills the zero values.
func (c *Config) defaults() {
	if c.Topic == "" {
		c.Topic = DefaultTopic
	}
	if c.Compression == "" {
		c.Compression = "snappy"
	}
	if c.RequiredAcks == "" {
		c.RequiredAcks = "all"
	}
	if c.Balancer == "" {
		c.Balancer = "hash"
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 3
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = 1000000
	}
	if c.ClientID == "" {
		c.ClientID = "packetsleuth"
	}
	if c.Timestamp == "" {
		c.Timestamp = TimestampIngest
	}
}

// Validate reports every problem of the section, each naming its key.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, a...)))
	}
	if len(c.Brokers) == 0 {
		bad("brokers", "must not be empty")
	}
	for i, b := range c.Brokers {
		if _, port, err := net.SplitHostPort(b); err != nil || port == "" {
			bad(fmt.Sprintf("brokers[%d]", i), "%q is not host:port", b)
		}
	}
	if c.Topic != "" {
		if err := checkTopicTemplate(c.Topic); err != nil {
			bad("topic", "%v", err)
		}
	}
	if _, ok := compressions[strings.ToLower(c.Compression)]; !ok && c.Compression != "" {
		bad("compression", "%q is not one of none, gzip, snappy, lz4, zstd", c.Compression)
	}
	switch strings.ToLower(c.RequiredAcks) {
	case "", "all", "one", "none":
	default:
		bad("required_acks", "%q is not one of all, one, none", c.RequiredAcks)
	}
	switch strings.ToLower(c.Balancer) {
	case "", "hash", "murmur2":
	default:
		bad("balancer", "%q is not one of hash, murmur2", c.Balancer)
	}
	switch c.Timestamp {
	case "", TimestampIngest, TimestampEvent:
	default:
		bad("timestamp", "%q is not one of ingest, event", c.Timestamp)
	}
	if c.MaxAttempts < 0 {
		bad("max_attempts", "must not be negative")
	}
	if c.Timeout < 0 {
		bad("timeout", "must not be negative")
	}
	if c.MaxMessageBytes < 0 {
		bad("max_message_bytes", "must not be negative")
	}
	tlsOn := c.TLS.Enabled
	if !tlsOn && (c.TLS.CA != "" || c.TLS.Cert != "" || c.TLS.Key != "" || c.TLS.ServerName != "" || c.TLS.InsecureSkipVerify) {
		bad("tls.enabled", "must be true when other tls keys are set")
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		bad("tls.cert", "tls.cert and tls.key must be set together")
	}
	switch strings.ToUpper(c.SASL.Mechanism) {
	case "":
		if c.SASL.Username != "" || c.SASL.Password != "" {
			bad("sasl.mechanism", "must be set when sasl.username or sasl.password is")
		}
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		if c.SASL.Username == "" {
			bad("sasl.username", "must not be empty with sasl.mechanism %s", c.SASL.Mechanism)
		}
		if c.SASL.Password == "" {
			bad("sasl.password", "must not be empty with sasl.mechanism %s", c.SASL.Mechanism)
		}
	default:
		bad("sasl.mechanism", "%q is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512", c.SASL.Mechanism)
	}
	return errors.Join(errs...)
}

// checkTopicTemplate accepts Kafka topic characters and the one placeholder.
func checkTopicTemplate(t string) error {
	rest := strings.ReplaceAll(t, "{dataset}", "x")
	if strings.ContainsAny(rest, "{}") {
		return fmt.Errorf("%q: the only placeholder is {dataset}", t)
	}
	if !validTopic(rest) {
		return fmt.Errorf("%q: a topic is 1-249 characters of [a-zA-Z0-9._-]", t)
	}
	return nil
}

func validTopic(s string) bool {
	if len(s) == 0 || len(s) > 249 || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// tlsConfig builds the client TLS configuration, reading the PEM files
// (nil when TLS is off).
func (t TLSConfig) tlsConfig() (*tls.Config, error) {
	if !t.Enabled {
		return nil, nil
	}
	return outputs.ClientTLS{CA: t.CA, Cert: t.Cert, Key: t.Key, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}.Config("tls.")
}
