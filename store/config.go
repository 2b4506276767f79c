package store

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// Config is the store's part of sensor.yaml: the options of an output of
// type `store` (and of `storage:`).
//
//	outputs:
//	  - type: store
//	    driver: sqlite            # or postgres
//	    path: packetsleuth.db     # sqlite: the file (default next to the config)
//	    # dsn: env:PS_PG_DSN      # postgres: a DSN, env:NAME or file:PATH
//	    datasets: [flow, alert, dns, http, tls, smb, kerberos, dcerpc, timeseries]
//	    retention: {1s: 24h, 1m: 30d, 1h: 1y, flow: 90d, sensors: 30d}
//	    max_sensors: 1000
//	    prune_interval: 1m
//	    writers: 2                # postgres: connections writing a batch at once
type Config struct {
	Driver string         `yaml:"driver"` // sqlite (default), postgres or mysql (MySQL/MariaDB)
	Path   string         `yaml:"path"`   // SQLite file; default packetsleuth.db
	DSN    outputs.Secret `yaml:"dsn"`    // PostgreSQL DSN (URL or key=value) or MySQL DSN (user:pw@tcp(host:port)/db), never logged
	// Datasets to keep, by short name (flow, alert, the EventDatasets dns,
	// http, tls, smb, kerberos, dcerpc, timeseries, stats: the sensors'
	// health reports, kept as the newest per sensor, hosts: the DHCP leases
	// of packetsleuth.dhcp events, kept as the newest per sensor and
	// address) or full event.dataset. Empty: all eleven. Records of other
	// datasets are skipped and counted.
	// A --output flag gives them space-separated: "store:datasets=flow alert".
	Datasets List `yaml:"datasets"`
	// Retention per kept level: 1s, 1m, 1h (traffic buckets) and flow,
	// alert, each of EventDatasets, the web audit trail (audit), the
	// sensors not heard from (sensors: by their newest report) and the
	// leases not granted again (hosts: by their newest grant). Zero or
	// absent keeps forever, except the series levels, which default to 1s:
	// 24h, 1m: 30d, 1h: 1y, audit: 1y (failed logins add to it),
	// sensors: 30d (agent ids a producer invents add to it) and hosts: 30d
	// (addresses a spoofed DHCP server or a producer invents add to it).
	Retention map[string]Duration `yaml:"retention"`
	// MaxSensors bounds the sensors table (default DefaultMaxSensors): the
	// stats report of a sensor it does not hold yet is refused once it
	// holds that many, and counted (InsertStats.SensorsRefused); the
	// sensor's events are still stored.
	MaxSensors int `yaml:"max_sensors"`
	// TLS, when set, makes the connection to PostgreSQL or MySQL/MariaDB
	// TLS only (never a plaintext fallback), verified against its CA (the
	// system roots without one), with a client certificate when cert and
	// key are given. Without it the DSN decides (PostgreSQL: sslmode,
	// sslrootcert; MySQL: tls=true).
	TLS *outputs.ClientTLS `yaml:"tls"`
	// PruneInterval is how often the sink prunes, in event time (the newest
	// record time it has stored, stats reports aside), so replayed captures
	// are pruned relative to their own time. Default 1m; negative disables automatic pruning.
	PruneInterval Duration `yaml:"prune_interval"`
	// Writers is how many connections write a large batch at once
	// (PostgreSQL; default 1): its rows are split by event.id among them,
	// each part in its own transaction, so the server's side of a batch
	// runs on that many cores. A batch is then committed in parts: a
	// failed one is retried whole, and the parts stored already are
	// dropped by event.id (a record without one could be stored twice).
	Writers int `yaml:"writers"`
}

// Default retention of the traffic series levels.
var DefaultRetention = map[string]time.Duration{
	"1s":      24 * time.Hour,
	"1m":      30 * 24 * time.Hour,
	"1h":      365 * 24 * time.Hour,
	"audit":   365 * 24 * time.Hour,
	"sensors": 30 * 24 * time.Hour,
	"hosts":   30 * 24 * time.Hour,
}

// DefaultMaxSensors is the default bound of the sensors table: far more
// sensors than a fleet has, far fewer than a producer inventing agent ids
// would leave on the Sensors page.
const DefaultMaxSensors = 1000

// EventDatasets are the protocol datasets the events table keeps (one
// row per event, the document as received), by short name.
var EventDatasets = []string{"dns", "http", "tls", "smb", "kerberos", "dcerpc"}

// retentionKeys are the keys Retention accepts.
var retentionKeys = append([]string{"1s", "1m", "1h", "alert", "audit", "flow", "hosts", "sensors"}, EventDatasets...)

// datasetNames maps the short names to event.dataset values.
var datasetNames = map[string]string{
	"flow":       schemas.DatasetFlow,
	"alert":      schemas.DatasetAlert,
	"dns":        schemas.DatasetDNS,
	"http":       schemas.DatasetHTTP,
	"tls":        schemas.DatasetTLS,
	"smb":        schemas.DatasetSMB,
	"kerberos":   schemas.DatasetKerberos,
	"dcerpc":     schemas.DatasetDCERPC,
	"timeseries": schemas.DatasetTimeseries,
	"stats":      schemas.DatasetStats,
	"hosts":      schemas.DatasetDHCP,
}

// isEventDataset tells whether the event.dataset ds goes to the events
// table.
func isEventDataset(ds string) bool {
	return slices.ContainsFunc(EventDatasets, func(n string) bool { return datasetNames[n] == ds })
}

// WithDefaults fills the zero fields.
func (c Config) WithDefaults() Config {
	if c.Driver == "" {
		c.Driver = SQLite
	}
	if c.Driver == SQLite && c.Path == "" {
		c.Path = DefaultPath
	}
	if len(c.Datasets) == 0 {
		c.Datasets = append(append([]string{"flow", "alert"}, EventDatasets...), "timeseries", "stats", "hosts")
	}
	r := make(map[string]Duration, len(retentionKeys))
	for k, v := range DefaultRetention {
		r[k] = Duration(v)
	}
	for k, v := range c.Retention {
		r[k] = v
	}
	c.Retention = r
	if c.PruneInterval == 0 {
		c.PruneInterval = Duration(time.Minute)
	}
	if c.MaxSensors == 0 {
		c.MaxSensors = DefaultMaxSensors
	}
	if c.Writers == 0 {
		c.Writers = 1
	}
	return c
}

// Validate checks the config; every problem is reported.
func (c Config) Validate() error {
	var errs []error
	switch c.Driver {
	case SQLite:
		if c.Path == "" {
			errs = append(errs, errors.New("store: path: must not be empty for sqlite"))
		}
		if c.DSN != "" {
			errs = append(errs, errors.New("store: dsn is for driver postgres (sqlite uses path)"))
		}
		if c.TLS != nil {
			errs = append(errs, errors.New("store: tls is for drivers postgres and mysql (sqlite is a local file)"))
		}
	case Postgres, MySQL:
		if c.DSN == "" {
			errs = append(errs, fmt.Errorf("store: dsn: must not be empty for %s", c.Driver))
		}
		if c.Path != "" {
			errs = append(errs, fmt.Errorf("store: path is for driver sqlite (%s uses dsn)", c.Driver))
		}
	default:
		errs = append(errs, fmt.Errorf("store: driver: %q is not sqlite, postgres or mysql", c.Driver))
	}
	if c.Writers < 0 || c.Writers > maxWriters {
		errs = append(errs, fmt.Errorf("store: writers: %d is not between 1 and %d", c.Writers, maxWriters))
	} else if c.Writers > 1 && c.Driver != Postgres {
		errs = append(errs, fmt.Errorf("store: writers is for driver postgres (%s writes on one connection)", c.Driver))
	}
	for _, d := range c.Datasets {
		if datasetOf(d) == "" {
			errs = append(errs, fmt.Errorf("store: datasets: unknown dataset %q (known: %s)", d, strings.Join(slices.Sorted(maps.Keys(datasetNames)), ", ")))
		}
	}
	if c.MaxSensors < 0 {
		errs = append(errs, errors.New("store: max_sensors: must not be negative"))
	}
	for k, v := range c.Retention {
		if !slices.Contains(retentionKeys, k) {
			errs = append(errs, fmt.Errorf("store: retention: unknown key %q (known: %s)", k, strings.Join(retentionKeys, ", ")))
		}
		if v < 0 {
			errs = append(errs, fmt.Errorf("store: retention: %s: must not be negative", k))
		}
	}
	return errors.Join(errs...)
}

// datasetOf returns the event.dataset a short or full name stands for, or "".
func datasetOf(name string) string {
	if d, ok := datasetNames[name]; ok {
		return d
	}
	for _, d := range datasetNames {
		if d == name {
			return d
		}
	}
	return ""
}

// Duration is a time.Duration that YAML and flags may also write with d
// (days), w (weeks) and y (365 days) units: "90d", "1y", "36h".
type Duration time.Duration

// ParseDuration parses a Go duration or a whole number of d, w or y.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if len(s) > 1 {
		unit := map[byte]time.Duration{'d': 24 * time.Hour, 'w': 7 * 24 * time.Hour, 'y': 365 * 24 * time.Hour}[s[len(s)-1]]
		if unit != 0 {
			n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
			if err != nil || n < 0 || n > int64((1<<63-1)/unit) {
				return 0, fmt.Errorf("%q is not a duration (e.g. 36h, 30d, 1y)", s)
			}
			return time.Duration(n) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (e.g. 36h, 30d, 1y)", s)
	}
	return d, nil
}

// UnmarshalYAML accepts "90d" and the like.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d:%d: %w", n.Line, n.Column, err)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) String() string { return time.Duration(d).String() }

// List is a YAML sequence of strings, or one scalar of comma- or
// space-separated names (as a --output flag can carry one name).
type List []string

// UnmarshalYAML accepts a sequence or a scalar.
func (l *List) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = strings.FieldsFunc(n.Value, func(r rune) bool { return r == ',' || r == ' ' })
		return nil
	}
	var v []string
	if err := n.Decode(&v); err != nil {
		return err
	}
	*l = v
	return nil
}

// MySQLScheme marks a MySQL/MariaDB DSN given where a URL is expected
// (--store, --dsn): mysql://user:pw@tcp(host:3306)/db.
const MySQLScheme = "mysql://"

// DSNConfig is the config of a store given by a DSN alone: MySQL for a
// mysql:// DSN (the scheme dropped), PostgreSQL otherwise.
func DSNConfig(dsn string) Config {
	if rest, ok := strings.CutPrefix(dsn, MySQLScheme); ok {
		return Config{Driver: MySQL, DSN: outputs.Secret(rest)}
	}
	return Config{Driver: Postgres, DSN: outputs.Secret(dsn)}
}
