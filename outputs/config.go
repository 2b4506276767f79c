package outputs

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"go.yaml.in/yaml/v3"
)

// Policy says what Enqueue does when a sink's memory queue is full.
type Policy string

// Full-queue policies.
const (
	PolicyBlock Policy = "block" // wait for room (back-pressure on the workers)
	PolicySpool Policy = "spool" // append the records to the disk spool
	PolicyDrop  Policy = "drop"  // drop the incoming records, counted in Stats.Dropped
)

// Defaults used when a SinkConfig field is zero.
const (
	DefaultQueueSize     = 10000
	DefaultQueueBytes    = 64 << 20
	DefaultBatchSize     = 500
	DefaultBatchBytes    = 1 << 20
	DefaultFlushInterval = time.Second
	DefaultRetryMin      = 100 * time.Millisecond
	DefaultRetryMax      = 30 * time.Second
	DefaultSpoolAfter    = 30 * time.Second
	DefaultSpoolMaxBytes = 1 << 30
	DefaultWriteTimeout  = 30 * time.Second
)

// SinkConfig is one entry of the `outputs:` list in sensor.yaml (or one
// --output flag). The runner keys below sit next to the sink's own keys in
// the same YAML mapping; every key the runner does not know is kept in
// Options and decoded strictly by the sink's factory (see DecodeOptions).
//
//	outputs:
//	  - type: syslog
//	    name: siem
//	    queue_size: 20000
//	    on_full: spool
//	    spool_dir: /var/lib/packetsleuth/spool/siem
//	    network: tls          # syslog's own keys
//	    address: siem.example.org:6514
type SinkConfig struct {
	Type          string        `yaml:"type"`           // registry name: file, syslog, splunk, kafka, ...
	Name          string        `yaml:"name"`           // unique per sensor; defaults to Type
	QueueSize     int           `yaml:"queue_size"`     // records held in memory
	QueueBytes    ByteSize      `yaml:"queue_bytes"`    // memory the queued records hold, the batch in flight included (block.cost)
	BatchSize     int           `yaml:"batch_size"`     // records per Write
	BatchBytes    ByteSize      `yaml:"batch_bytes"`    // JSON bytes per Write (a single larger record is sent alone)
	FlushInterval time.Duration `yaml:"flush_interval"` // the longest a record waits for its batch to fill
	OnFull        Policy        `yaml:"on_full"`        // block (default), spool or drop
	RetryMin      time.Duration `yaml:"retry_min"`      // first backoff
	RetryMax      time.Duration `yaml:"retry_max"`      // backoff cap
	SpoolAfter    time.Duration `yaml:"spool_after"`    // failing this long moves the queue to the spool
	SpoolDir      string        `yaml:"spool_dir"`      // empty = no disk spool; one directory per sink
	SpoolMaxBytes ByteSize      `yaml:"spool_max_bytes"`
	DeadLetter    string        `yaml:"dead_letter"`   // NDJSON file for permanently rejected records; empty = log them
	WriteTimeout  time.Duration `yaml:"write_timeout"` // deadline of one Connect or Write call

	// Routing (see Route): which records this output receives.
	Datasets    []string `yaml:"datasets"`     // event.dataset globs; empty = all
	MinSeverity string   `yaml:"min_severity"` // alerts below it are left out (low, medium, high, critical)
	Rules       []string `yaml:"rules"`        // rule.id globs of the alerts sent; empty = all

	// Flag is the --output flag this config came from ("" = sensor.yaml):
	// errors name it instead of a YAML line.
	Flag string `yaml:"-"`

	// Options holds the sink's own keys as a YAML mapping (with their line
	// numbers). Decode it with DecodeOptions.
	Options yaml.Node `yaml:"-"`
}

// runnerKeys are the YAML keys SinkConfig itself owns.
var runnerKeys = yamlKeys(reflect.TypeFor[SinkConfig]())

// UnmarshalYAML splits a mapping into the runner keys and the sink's Options.
func (c *SinkConfig) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d:%d: an output must be a mapping", n.Line, n.Column)
	}
	own := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
	opts := yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if slices.Contains(runnerKeys, k.Value) {
			own.Content = append(own.Content, k, v)
		} else {
			opts.Content = append(opts.Content, k, v)
		}
	}
	type plain SinkConfig // no UnmarshalYAML method
	var p plain
	if err := own.Decode(&p); err != nil {
		return err
	}
	*c = SinkConfig(p)
	c.Options = opts
	return nil
}

// DecodeOptions decodes the sink's own keys into v (a pointer to a struct
// with yaml tags). Unknown keys are errors that name the key, its line and
// the known keys; an empty Options leaves v untouched.
func (c *SinkConfig) DecodeOptions(v any) error {
	if c.Options.Kind == 0 || len(c.Options.Content) == 0 {
		return nil
	}
	rt := reflect.TypeOf(v)
	if rt.Kind() != reflect.Pointer || rt.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("outputs: DecodeOptions needs a pointer to a struct, got %T", v)
	}
	known := yamlKeys(rt.Elem())
	var errs []error
	for i := 0; i+1 < len(c.Options.Content); i += 2 {
		k := c.Options.Content[i]
		if !slices.Contains(known, k.Value) {
			all := append(slices.Clone(runnerKeys), known...)
			slices.Sort(all)
			errs = append(errs, fmt.Errorf("%s: %sunknown key %q (known: %s)",
				c.label(), c.at(k), k.Value, strings.Join(all, ", ")))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := c.Options.Decode(v); err != nil {
		if c.Flag != "" {
			return fmt.Errorf("%s: %s", c.label(), flagKeyError(&c.Options, err, func(m *yaml.Node) error {
				return m.Decode(reflect.New(rt.Elem()).Interface())
			}))
		}
		return fmt.Errorf("%s: %w", c.label(), err)
	}
	return nil
}

// at is where key k stands in sensor.yaml ("" for a --output flag).
func (c *SinkConfig) at(k *yaml.Node) string {
	if c.Flag != "" {
		return ""
	}
	return fmt.Sprintf("line %d:%d: ", k.Line, k.Column)
}

// noLines drops the "line 0: " and "line 0:0: " a flag's YAML nodes give
// decode errors (they have no line).
func noLines(err error) string {
	return strings.ReplaceAll(strings.ReplaceAll(err.Error(), "line 0:0: ", ""), "line 0: ", "")
}

// flagKeyError words err, from decoding the mapping m a --output flag
// made, as "KEY: what is wrong": a flag's YAML has no line to point at, so
// each key is decoded alone to find the one at fault.
func flagKeyError(m *yaml.Node, err error, decode func(*yaml.Node) error) string {
	msg := func(err error) string {
		return strings.TrimPrefix(noLines(err), "yaml: unmarshal errors:\n  ")
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "type" {
			continue
		}
		one := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: m.Content[i : i+2]}
		if e := decode(one); e != nil {
			return m.Content[i].Value + ": " + msg(e)
		}
	}
	return msg(err)
}

// flagError is an error about a --output flag, worded to name the flag.
type flagError struct {
	msg string
	err error
}

func (e *flagError) Error() string { return e.msg }
func (e *flagError) Unwrap() error { return e.err }

// named rewords a sink's error about a config from a --output flag so that
// each line names the flag: sinks name themselves "outputs.TYPE" (a
// sensor.yaml path), and a flag's YAML nodes have no line.
func (c *SinkConfig) named(err error) error {
	if err == nil || c.Flag == "" {
		return err
	}
	prefixes := []string{"outputs." + c.Type + "[" + c.Name + "]: ", "outputs." + c.Type + ": ", "outputs: "}
	lines := strings.Split(noLines(err), "\n")
	for i, l := range lines {
		if strings.Contains(l, "--output") || strings.HasPrefix(l, " ") {
			continue
		}
		for _, p := range prefixes {
			l = strings.TrimPrefix(l, p)
		}
		lines[i] = c.label() + ": " + l
	}
	return &flagError{msg: strings.Join(lines, "\n"), err: err}
}

func (c *SinkConfig) label() string {
	if c.Flag != "" {
		return fmt.Sprintf("--output %s", c.Flag)
	}
	if c.Name != "" && c.Name != c.Type {
		return "outputs." + c.Type + "[" + c.Name + "]"
	}
	return "outputs." + c.Type
}

func yamlKeys(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		tag := f.Tag.Get("yaml")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		keys = append(keys, name)
	}
	return keys
}

// SetOption adds (or replaces) one of the sink's own keys as a plain scalar,
// as a --output flag does.
func (c *SinkConfig) SetOption(key, value string) {
	if c.Options.Kind == 0 {
		c.Options = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	}
	for i := 0; i+1 < len(c.Options.Content); i += 2 {
		if c.Options.Content[i].Value == key {
			c.Options.Content[i+1] = plainScalar(value)
			return
		}
	}
	c.Options.Content = append(c.Options.Content, plainScalar(key), plainScalar(value))
}

// ParseFlag parses a --output flag: `TYPE` or `TYPE:key=value,key=value`,
// for example `file:path=-` or `syslog:network=tcp,address=127.0.0.1:514,queue_size=5000`.
// Runner keys and the sink's keys may be mixed; values cannot contain commas.
func ParseFlag(s string) (SinkConfig, error) {
	typ, rest, _ := strings.Cut(s, ":")
	if typ == "" {
		return SinkConfig{}, fmt.Errorf("--output %s: missing the output type", s)
	}
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	m.Content = append(m.Content, plainScalar("type"), plainScalar(typ))
	if rest != "" {
		for kv := range strings.SplitSeq(rest, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return SinkConfig{}, fmt.Errorf("--output %s: %q is not key=value", s, kv)
			}
			m.Content = append(m.Content, plainScalar(k), plainScalar(v))
		}
	}
	var c SinkConfig
	if err := c.UnmarshalYAML(m); err != nil {
		return SinkConfig{}, fmt.Errorf("--output %s: %s", s, flagKeyError(m, err, func(one *yaml.Node) error {
			var c SinkConfig
			return c.UnmarshalYAML(one)
		}))
	}
	c.Flag = s
	return c, nil
}

func plainScalar(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }

// WithDefaults returns c with every zero field set to its default.
func (c SinkConfig) WithDefaults() SinkConfig {
	if c.Name == "" {
		c.Name = c.Type
	}
	if c.QueueSize <= 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.QueueBytes <= 0 {
		c.QueueBytes = DefaultQueueBytes
	}
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.BatchSize > c.QueueSize {
		c.BatchSize = c.QueueSize
	}
	if c.BatchBytes <= 0 {
		c.BatchBytes = DefaultBatchBytes
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = DefaultFlushInterval
	}
	if c.OnFull == "" {
		c.OnFull = PolicyBlock
	}
	if c.RetryMin <= 0 {
		c.RetryMin = DefaultRetryMin
	}
	if c.RetryMax <= 0 {
		c.RetryMax = DefaultRetryMax
	}
	if c.RetryMax < c.RetryMin {
		c.RetryMax = c.RetryMin
	}
	if c.SpoolAfter <= 0 {
		c.SpoolAfter = DefaultSpoolAfter
	}
	if c.SpoolMaxBytes <= 0 {
		c.SpoolMaxBytes = DefaultSpoolMaxBytes
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	return c
}

// Validate checks the runner keys (not the sink's Options).
func (c SinkConfig) Validate() error {
	var errs []error
	if c.Type == "" {
		errs = append(errs, fmt.Errorf("outputs: type must not be empty"))
	}
	switch c.OnFull {
	case "", PolicyBlock, PolicyDrop:
	case PolicySpool:
		if c.SpoolDir == "" {
			errs = append(errs, fmt.Errorf("%s: on_full: spool needs spool_dir", c.label()))
		}
	default:
		errs = append(errs, fmt.Errorf("%s: on_full: %q is not one of block, spool, drop", c.label(), c.OnFull))
	}
	for _, f := range []struct {
		key string
		v   int64
	}{
		{"queue_size", int64(c.QueueSize)}, {"queue_bytes", int64(c.QueueBytes)},
		{"batch_size", int64(c.BatchSize)}, {"batch_bytes", int64(c.BatchBytes)},
		{"flush_interval", int64(c.FlushInterval)}, {"retry_min", int64(c.RetryMin)},
		{"retry_max", int64(c.RetryMax)}, {"spool_after", int64(c.SpoolAfter)},
		{"spool_max_bytes", int64(c.SpoolMaxBytes)}, {"write_timeout", int64(c.WriteTimeout)},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("%s: %s: must not be negative", c.label(), f.key))
		}
	}
	if _, err := NewRoute(c); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// ByteSize is a size in bytes that YAML may spell as 1048576, "1MiB" or "64MB".
type ByteSize int64

// UnmarshalYAML accepts an integer or a humanized size.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d:%d: a size must be a scalar", n.Line, n.Column)
	}
	if v, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
		*b = ByteSize(v)
		return nil
	}
	v, err := humanize.ParseBytes(n.Value)
	if err != nil || v > 1<<62 {
		return fmt.Errorf("line %d:%d: %q is not a size (e.g. 64MiB)", n.Line, n.Column, n.Value)
	}
	*b = ByteSize(v)
	return nil
}

func (b ByteSize) String() string { return humanize.IBytes(uint64(b)) }

// Secret is a string that must never appear in logs or dumps: String,
// GoString, MarshalJSON, MarshalYAML and MarshalText all print "<secret>".
// Use Value to read it.
type Secret string

const redacted = "<secret>"

// Value returns the secret itself.
func (s Secret) Value() string { return string(s) }

func (s Secret) String() string               { return redacted }
func (s Secret) GoString() string             { return redacted }
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
func (s Secret) MarshalYAML() (any, error)    { return redacted, nil }
func (s Secret) LogValue() slog.Value         { return slog.StringValue(redacted) }

// UnmarshalText reads the secret from the environment when it is written
// `env:NAME`, from a file (trimmed) when `file:PATH`, and literally otherwise.
func (s *Secret) UnmarshalText(b []byte) error {
	v := string(b)
	switch {
	case strings.HasPrefix(v, "env:"):
		name := v[len("env:"):]
		val, ok := os.LookupEnv(name)
		if !ok {
			return fmt.Errorf("secret: environment variable %s is not set", name)
		}
		*s = Secret(val)
	case strings.HasPrefix(v, "file:"):
		b, err := os.ReadFile(v[len("file:"):])
		if err != nil {
			return fmt.Errorf("secret: %w", err)
		}
		*s = Secret(strings.TrimSpace(string(b)))
	default:
		*s = Secret(v)
	}
	rememberSecret(string(*s)) // Redact removes it wherever it shows up
	return nil
}

// StringList is a list option that also accepts one string of items
// separated by semicolons or spaces, so a --output flag can give it:
// `kafka:brokers=10.0.0.1:9092;10.0.0.2:9092`.
type StringList []string

// UnmarshalYAML accepts a sequence or a scalar.
func (l *StringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = strings.FieldsFunc(n.Value, func(r rune) bool { return r == ';' || r == ' ' })
		return nil
	}
	var items []string
	if err := n.Decode(&items); err != nil {
		return err
	}
	*l = items
	return nil
}
