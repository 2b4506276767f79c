package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/enrich"
	"github.com/packetsleuth/packetsleuth/fleet"
	"github.com/packetsleuth/packetsleuth/internal/yamlsyntax"
	"github.com/packetsleuth/packetsleuth/outputs"
	phttp "github.com/packetsleuth/packetsleuth/parsers/http"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
	"github.com/packetsleuth/packetsleuth/sensor/identity"
	"github.com/packetsleuth/packetsleuth/sensor/source"
	"github.com/packetsleuth/packetsleuth/web"
	"go.yaml.in/yaml/v3"
)

// Config is sensor.yaml. Every key is documented in sensor.yaml.example;
// unknown keys are errors naming the file and line.
type Config struct {
	// Sensor is who this sensor is in a fleet: observer.name, site, tags, agent.id.
	Sensor          identity.Config      `yaml:"sensor"`
	Workers         int                  `yaml:"workers"`
	BPF             string               `yaml:"bpf"`
	CommunityIDSeed uint16               `yaml:"community_id_seed"`
	Flow            flow.Config          `yaml:"flow"`
	Defrag          DefragConfig         `yaml:"defrag"`
	Limits          LimitsConfig         `yaml:"limits"`
	HTTP            HTTPConfig           `yaml:"http"`
	Files           FilesConfig          `yaml:"files"`
	Enrich          enrich.Config        `yaml:"enrich"`
	Hosts           HostsConfig          `yaml:"hosts"`
	Outputs         []outputs.SinkConfig `yaml:"outputs"`

	// Live capture (sensor run).
	Interfaces     []InterfaceConfig `yaml:"interfaces"`
	Capture        CaptureConfig     `yaml:"capture"`
	Stats          StatsConfig       `yaml:"stats"`
	Rules          RulesConfig       `yaml:"rules"`
	DropPrivileges string            `yaml:"drop_privileges"`
	// Peaks emits traffic-peak events while capturing (sensor run).
	Peaks PeaksConfig `yaml:"peaks"`
	// Web serves the UI, REST API and /metrics inside sensor run.
	Web web.Settings `yaml:"web"`
	// ShutdownTimeout bounds how long outputs may take to deliver what they
	// hold at shutdown (default 30s).
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// Fleet follows the rules and intel sets published for the whole fleet
	// (sensor fleet publish) on a compacted Kafka topic.
	Fleet fleet.Config `yaml:"fleet"`

	root *yaml.Node // the parsed file, for the line numbers of later errors
	path string
}

// CaptureConfig holds the capture settings; under capture: they are the
// defaults of every interface, and an interface may set its own.
type CaptureConfig struct {
	Engine      string           `yaml:"engine"`       // auto, pcap or afpacket
	Snaplen     int              `yaml:"snaplen"`      // bytes kept per frame
	Promisc     *bool            `yaml:"promisc"`      // promiscuous mode (default true)
	BufferSize  outputs.ByteSize `yaml:"buffer_size"`  // kernel buffer or ring
	ReadTimeout time.Duration    `yaml:"read_timeout"` // longest wait of one read
	Fanout      int              `yaml:"fanout"`       // AF_PACKET sockets per interface (default 1)
	// PcapRing keeps the packets on disk (sensor run; not per interface).
	PcapRing *PcapRingConfig `yaml:"pcap_ring"`
}

// InterfaceConfig is one interface to capture on. In YAML it is a mapping,
// or just the interface name.
type InterfaceConfig struct {
	Name          string `yaml:"name"`
	BPF           string `yaml:"bpf"` // replaces the top-level bpf for this interface
	CaptureConfig `yaml:",inline"`
}

var interfaceKeys = []string{"name", "bpf", "engine", "snaplen", "promisc", "buffer_size", "read_timeout", "fanout"}

// UnmarshalYAML accepts "eth0" or a mapping with the keys above (unknown
// keys are errors with their line).
func (c *InterfaceConfig) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		c.Name = n.Value
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: an interface is a name or a mapping", n.Line)
	}
	var errs []error
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !slices.Contains(interfaceKeys, k.Value) {
			errs = append(errs, fmt.Errorf("line %d: unknown interface key %q (known: %s)", k.Line, k.Value, strings.Join(interfaceKeys, ", ")))
		}
	}
	if len(errs) > 0 {
		te := &yaml.TypeError{}
		for _, e := range errs {
			te.Errors = append(te.Errors, e.Error())
		}
		return te // a TypeError lets the decoder go on and report the rest
	}
	type plain InterfaceConfig
	return n.Decode((*plain)(c))
}

// DefragConfig bounds IP fragment reassembly, per capture source; zero
// values take decode.DefaultDefragConfig's.
type DefragConfig struct {
	Timeout      time.Duration    `yaml:"timeout"`
	MaxDatagrams int              `yaml:"max_datagrams"`
	MaxBytes     outputs.ByteSize `yaml:"max_bytes"`
	MaxFragments int              `yaml:"max_fragments"`
}

func (d DefragConfig) decode() decode.DefragConfig {
	return decode.DefragConfig{Timeout: d.Timeout, MaxDatagrams: d.MaxDatagrams, MaxBytes: int64(d.MaxBytes), MaxFragments: d.MaxFragments}
}

// HTTPConfig tunes the HTTP parser.
type HTTPConfig struct {
	// DecodeBodies decodes gzip/deflate bodies to count their decoded size
	// (default false: an encoded body is counted on the wire and noted).
	DecodeBodies bool `yaml:"decode_bodies"`
	// MaxDecoded caps the decoded bytes counted per body (0: 10 MiB).
	MaxDecoded outputs.ByteSize `yaml:"max_decoded"`
	// MaxDecoders bounds the bodies decoded at once per worker (0: 64).
	MaxDecoders int `yaml:"max_decoders"`
	// Headers are the headers HTTP events keep (names, case-insensitive;
	// "*" all; unset: app.DefaultHTTPHeaders). Credentials never are.
	Headers []string `yaml:"headers"`
}

func (h HTTPConfig) parser() phttp.Config {
	c := phttp.Config{MaxDecoded: int64(h.MaxDecoded), MaxDecoders: h.MaxDecoders}
	if h.DecodeBodies {
		c.DecodeBodies = phttp.On
	}
	return c
}

// StatsConfig sets the periodic capture-health reports.
type StatsConfig struct {
	// Interval between packetsleuth.stats events (default 60s; 0 = default).
	Interval time.Duration `yaml:"interval"`
	// Heartbeat is the interval between heartbeat log lines (default 60s).
	Heartbeat time.Duration `yaml:"heartbeat"`
}

// RulesConfig selects the detection rules.
type RulesConfig struct {
	Disabled bool     `yaml:"disabled"` // evaluate no rules
	Paths    []string `yaml:"paths"`    // files or directories loaded over the shipped rulesets
	// MaxStateBytes bounds one rule's threshold and suppression state
	// (default 64 MiB); it also draws on the memory budget.
	MaxStateBytes outputs.ByteSize `yaml:"max_state_bytes"`
}

// Defaults of the live settings.
const (
	defaultStatsInterval   = 60 * time.Second
	defaultShutdownTimeout = 30 * time.Second
)

// liveConfig is the capture setup of interface i: its own settings over
// capture:, over the defaults.
func (c *Config) liveConfig(i int) source.LiveConfig {
	ic := c.Interfaces[i]
	pick := func(own, def CaptureConfig) CaptureConfig {
		if own.Engine == "" {
			own.Engine = def.Engine
		}
		if own.Snaplen == 0 {
			own.Snaplen = def.Snaplen
		}
		if own.Promisc == nil {
			own.Promisc = def.Promisc
		}
		if own.BufferSize == 0 {
			own.BufferSize = def.BufferSize
		}
		if own.ReadTimeout == 0 {
			own.ReadTimeout = def.ReadTimeout
		}
		if own.Fanout == 0 {
			own.Fanout = def.Fanout
		}
		return own
	}
	cc := pick(ic.CaptureConfig, c.Capture)
	lc := source.LiveConfig{
		Interface: ic.Name, Engine: cc.Engine, Snaplen: cc.Snaplen, Promisc: cc.Promisc == nil || *cc.Promisc,
		BufferSize: int(cc.BufferSize), BPF: c.BPF, ReadTimeout: cc.ReadTimeout, Fanout: cc.Fanout,
	}
	if ic.BPF != "" {
		lc.BPF = ic.BPF
	}
	return lc.WithDefaults()
}

// loadConfig reads a config file strictly and checks its values; the error
// lists every problem, each with the file and line. An empty path gives the
// defaults.
func loadConfig(path string) (Config, error) {
	var c Config
	if path == "" {
		return c, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	c.path = path
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		return c, yamlsyntax.Explain(path, raw, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var errs []error
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return c, fmt.Errorf("%s: %w", path, err)
		}
		// The decoder went on past these: check the rest too.
		for _, e := range te.Errors {
			errs = append(errs, fmt.Errorf("%s: %s", path, e))
		}
	}
	c.root, c.path = &root, path
	if err := c.validate(); err != nil {
		errs = append(errs, unjoin(err)...)
	}
	return c, sortByLine(errs)
}

// sortByLine joins errs ordered by their "line N" (stable otherwise).
func sortByLine(errs []error) error {
	lineOf := func(e error) int {
		s := e.Error()
		i := strings.Index(s, "line ")
		if i < 0 {
			return 1 << 30
		}
		n := 0
		for _, r := range s[i+5:] {
			if r < '0' || r > '9' {
				break
			}
			n = n*10 + int(r-'0')
		}
		return n
	}
	slices.SortStableFunc(errs, func(a, b error) int { return lineOf(a) - lineOf(b) })
	return errors.Join(errs...)
}

// errAt is an error about the value at key path (mapping keys, or sequence
// indexes), with its line when the file has it.
func (c *Config) errAt(msg string, path ...any) error {
	name := keyPath(path)
	if line := c.lineOf(path...); line > 0 {
		return fmt.Errorf("%s: line %d: %s: %s", c.path, line, name, msg)
	}
	if c.path == "" {
		return fmt.Errorf("%s: %s", name, msg)
	}
	return fmt.Errorf("%s: %s: %s", c.path, name, msg)
}

func keyPath(path []any) string {
	var b strings.Builder
	for i, p := range path {
		switch p := p.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(p) + "]")
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, p)
		}
	}
	return b.String()
}

// lineOf finds the line of the value at path (0 when absent).
func (c *Config) lineOf(path ...any) int {
	if c.root == nil {
		return 0
	}
	n := c.root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, p := range path {
		var next *yaml.Node
		switch p := p.(type) {
		case int:
			if n.Kind == yaml.SequenceNode && p < len(n.Content) {
				next = n.Content[p]
			}
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == p {
						next = n.Content[i+1]
						break
					}
				}
			}
		}
		if next == nil {
			return line
		}
		n, line = next, next.Line
	}
	return line
}

// workers is the worker count to run: the configured one, else one per CPU
// (events are the same whatever the count; only their order differs).
func (c *Config) workers() int {
	if c.Workers > 0 {
		return c.Workers
	}
	return runtime.NumCPU()
}

// validate checks every value it can without opening files or devices,
// and returns every problem found.
func (c *Config) validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if c.Workers < 0 || c.Workers > 1024 {
		add(c.errAt("must be 0 (one per CPU) up to 1024", "workers"))
	}
	if c.BPF != "" {
		if _, err := source.NewFilter(c.BPF); err != nil {
			add(c.errAt(err.Error(), "bpf"))
		}
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"tcp", c.Flow.TCPTimeout}, {"tcp_syn", c.Flow.TCPHandshake}, {"tcp_closed", c.Flow.TCPClosedTimeout},
		{"udp", c.Flow.UDPTimeout}, {"icmp", c.Flow.ICMPTimeout}, {"other", c.Flow.OtherTimeout},
	} {
		if d.v < 0 {
			add(c.errAt("must not be negative", "flow", d.key))
		}
	}
	if c.Flow.Interim != 0 && c.Flow.Interim < time.Second {
		add(c.errAt("must be 0 (off) or at least 1s", "flow", "interim"))
	}
	if c.Limits.Memory != 0 && c.Limits.Memory < minMemory {
		add(c.errAt("must be 0 (a quarter of RAM) or at least 16MiB", "limits", "memory"))
	}
	if c.Flow.MaxFlows < 0 {
		add(c.errAt("must not be negative", "flow", "max_flows"))
	}
	for _, d := range []struct {
		key string
		v   int64
	}{
		{"timeout", int64(c.Defrag.Timeout)}, {"max_datagrams", int64(c.Defrag.MaxDatagrams)},
		{"max_bytes", int64(c.Defrag.MaxBytes)}, {"max_fragments", int64(c.Defrag.MaxFragments)},
	} {
		if d.v < 0 {
			add(c.errAt("must not be negative", "defrag", d.key))
		}
	}
	if c.Rules.MaxStateBytes < 0 {
		add(c.errAt("must not be negative", "rules", "max_state_bytes"))
	}
	if c.HTTP.MaxDecoded < 0 {
		add(c.errAt("must not be negative", "http", "max_decoded"))
	}
	if c.HTTP.MaxDecoders < 0 {
		add(c.errAt("must not be negative", "http", "max_decoders"))
	}
	c.validateFiles(add)
	if c.Flow.CommunityIDSeed != 0 {
		add(c.errAt("set the top-level community_id_seed instead", "flow", "community_id_seed"))
	}
	if err := c.Enrich.Validate(); err != nil {
		add(c.errAt(err.Error(), "enrich"))
	}
	if err := c.Fleet.Validate(); err != nil {
		add(c.errAt(err.Error(), "fleet"))
	}
	if key, err := c.Hosts.validate(); err != nil {
		add(c.errAt(err.Error(), "hosts", key))
	}
	switch c.Peaks.Metric {
	case "", "bytes", "packets", "flows":
	default:
		add(c.errAt("must be bytes, packets or flows", "peaks", "metric"))
	}
	if c.Peaks.Window < 0 || c.Peaks.K < 0 || c.Peaks.Absolute < 0 {
		add(c.errAt("window, k and absolute must not be negative", "peaks"))
	}
	seen := map[string]bool{}
	for i, ic := range c.Interfaces {
		if seen[ic.Name] {
			add(c.errAt(fmt.Sprintf("interface %q is listed twice", ic.Name), "interfaces", i))
		}
		seen[ic.Name] = true
		lc := c.liveConfig(i)
		if ic.BPF == "" {
			lc.BPF = "" // the top-level bpf, checked above
		}
		if err := lc.Validate(); err != nil {
			for _, e := range unjoin(err) {
				add(c.errAt(e.Error(), "interfaces", i))
			}
		}
	}
	cc := c.Capture
	lc := source.LiveConfig{Interface: "-", Engine: cc.Engine, Snaplen: cc.Snaplen, BufferSize: int(cc.BufferSize), ReadTimeout: cc.ReadTimeout, Fanout: cc.Fanout}
	if err := lc.Validate(); err != nil {
		for _, e := range unjoin(err) {
			add(c.errAt(e.Error(), "capture"))
		}
	}
	add(c.Capture.PcapRing.validate(c))
	if c.Stats.Interval != 0 && c.Stats.Interval < time.Second {
		add(c.errAt("must be at least 1s (0 = default 60s)", "stats", "interval"))
	}
	if c.Stats.Heartbeat != 0 && c.Stats.Heartbeat < time.Second {
		add(c.errAt("must be at least 1s (0 = default 60s)", "stats", "heartbeat"))
	}
	if c.ShutdownTimeout < 0 {
		add(c.errAt("must not be negative", "shutdown_timeout"))
	}
	if c.DropPrivileges != "" {
		if _, err := user.Lookup(c.DropPrivileges); err != nil {
			add(c.errAt(err.Error(), "drop_privileges"))
		}
	}
	if c.Web.Enabled || c.Web.Auth.Disabled {
		for _, e := range unjoin(c.Web.WithDefaults().Validate()) {
			var se *web.SettingError
			if errors.As(e, &se) {
				path := []any{"web"}
				for _, k := range se.Key {
					path = append(path, k)
				}
				add(c.errAt(se.Msg, path...))
			}
		}
	}
	for i, o := range c.Outputs {
		if err := o.WithDefaults().Validate(); err != nil {
			add(c.errAt(err.Error(), "outputs", i))
			continue
		}
		s, err := outputs.NewSink(o.WithDefaults())
		if err != nil {
			add(c.errAt(err.Error(), "outputs", i))
			continue
		}
		s.Close(context.Background())
	}
	return errors.Join(errs...)
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
