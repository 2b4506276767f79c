package elasticsearch

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
)

// Modes of writing.
const (
	ModeDataStream = "data_stream" // op_type create into logs-packetsleuth.<dataset>-default
	ModeIndex      = "index"       // dated indices packetsleuth-<dataset>-2026.11.26
)

// Default index names per mode. {dataset} is the part of event.dataset
// after "packetsleuth."; {date} is the event's UTC day as yyyy.MM.dd.
const (
	DefaultDataStream = "logs-packetsleuth.{dataset}-default"
	DefaultIndex      = "packetsleuth-{dataset}-{date}"
)

// Config is the `elasticsearch` output section of sensor.yaml.
type Config struct {
	// Hosts are the node URLs, e.g. https://es1:9200. Required.
	Hosts outputs.StringList `yaml:"hosts"`
	// Mode: data_stream (default) or index.
	Mode string `yaml:"mode"`
	// Index is the target name template (default by mode, see above).
	Index string `yaml:"index"`
	// Pipeline is an ingest pipeline to run on every document.
	Pipeline string `yaml:"pipeline"`

	Username string         `yaml:"username"`
	Password outputs.Secret `yaml:"password"`
	// APIKey is the base64 "id:key" form Elasticsearch returns as `encoded`.
	APIKey outputs.Secret `yaml:"api_key"`

	TLS TLSConfig `yaml:"tls"`

	// Compression gzips request bodies (default true).
	Compression *bool `yaml:"compression"`
	// Timeout bounds one request (default 30s).
	Timeout time.Duration `yaml:"timeout"`
}

// TLSConfig for https hosts: CA to trust, optional client certificate.
// Its keys (ca, cert, key, server_name, insecure_skip_verify) are the
// shared client ones.
type TLSConfig = outputs.ClientTLS

func (c *Config) defaults() {
	if c.Mode == "" {
		c.Mode = ModeDataStream
	}
	if c.Index == "" {
		c.Index = DefaultDataStream
		if c.Mode == ModeIndex {
			c.Index = DefaultIndex
		}
	}
	if c.Compression == nil {
		t := true
		c.Compression = &t
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
}

// Validate reports every problem of the section, each naming its key.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, a...)))
	}
	if len(c.Hosts) == 0 {
		bad("hosts", "must not be empty")
	}
	for i, h := range c.Hosts {
		u, err := url.Parse(h)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(fmt.Sprintf("hosts[%d]", i), "%q is not an http(s)://host:port URL", h)
		}
	}
	switch c.Mode {
	case "", ModeDataStream, ModeIndex:
	default:
		bad("mode", "%q is not one of data_stream, index", c.Mode)
	}
	if c.Index != "" {
		if err := checkIndexTemplate(c.Index); err != nil {
			bad("index", "%v", err)
		} else if c.Mode != ModeIndex && strings.Contains(c.Index, "{date}") {
			bad("index", "{date} is for mode: index; a data stream rolls over by itself")
		}
	}
	if c.APIKey != "" && (c.Username != "" || c.Password != "") {
		bad("api_key", "use either api_key or username/password, not both")
	}
	if (c.Username == "") != (c.Password == "") {
		bad("username", "username and password must be set together")
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		bad("tls.cert", "tls.cert and tls.key must be set together")
	}
	if c.Timeout < 0 {
		bad("timeout", "must not be negative")
	}
	return errors.Join(errs...)
}

// checkIndexTemplate applies Elasticsearch's index name rules to the
// template with its placeholders filled.
func checkIndexTemplate(t string) error {
	rest := strings.NewReplacer("{dataset}", "x", "{date}", "2026.11.26").Replace(t)
	if strings.ContainsAny(rest, "{}") {
		return fmt.Errorf("%q: the placeholders are {dataset} and {date}", t)
	}
	if !validIndex(rest) {
		return fmt.Errorf("%q: an index name is lower case, at most 255 bytes, without \\ / * ? \" < > | space , # : and does not start with - _ +", t)
	}
	return nil
}

func validIndex(s string) bool {
	if s == "" || len(s) > 255 || s == "." || s == ".." || strings.ContainsAny(s[:1], "-_+") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || strings.IndexByte("\\/*?\"<>| ,#:", c) >= 0 || c < 0x20 {
			return false
		}
	}
	return true
}
