package web

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/store"
)

// DefaultListen is where the server listens unless told otherwise.
const DefaultListen = "127.0.0.1:8080"

// Settings are the `web:` part of sensor.yaml, shared by `sensor serve`
// and `sensor run`:
//
//	web:
//	  enabled: true                 # sensor run: serve the UI/API/metrics
//	  listen: 127.0.0.1:8080
//	  hostnames: [sensor.example.org]  # Host names the UI is reached by (besides localhost and IPs)
//	  tls_cert: /etc/packetsleuth/web.crt   # both set: HTTPS only
//	  tls_key: /etc/packetsleuth/web.key
//	  auth:
//	    token: env:PS_WEB_TOKEN     # bearer token (>= 16 chars); env:NAME or file:PATH
//	    user: admin                 # login form user ...
//	    password_hash: file:/etc/packetsleuth/web.bcrypt   # ... and its bcrypt hash
//	    viewer_token: env:PS_WEB_VIEWER_TOKEN  # read-only role (also viewer_user, viewer_password_hash)
//	    metrics_public: false       # let Prometheus scrape /metrics without a token
//	    disabled: false             # no authentication at all (loopback only!)
//	  pcap:                         # where GET /api/v1/flows/{id}/pcap finds packets
//	    index_dirs: [/var/lib/packetsleuth/pcapidx]  # replay --index folders (STORE.pcapidx is added by default)
//	    capture_dirs: [/var/lib/packetsleuth/pcap]   # captures, indexed (CAPTURE.psidx) or scanned
type Settings struct {
	Enabled   bool     `yaml:"enabled"`
	Listen    string   `yaml:"listen"`
	Hostnames []string `yaml:"hostnames"`
	TLSCert   string   `yaml:"tls_cert"`
	TLSKey    string   `yaml:"tls_key"`
	Auth      Auth     `yaml:"auth"`
	// Pcap says where the pcap download finds packets (besides
	// STORE.pcapidx, which a SQLite store gets by default).
	Pcap PcapSource `yaml:"pcap"`
}

// Environment variables that supply credentials not set in the config.
const (
	EnvToken        = "PS_WEB_TOKEN"
	EnvUser         = "PS_WEB_USER"
	EnvPasswordHash = "PS_WEB_PASSWORD_HASH"
)

// WithDefaults fills Listen and takes missing credentials from the
// environment (PS_WEB_TOKEN, PS_WEB_USER, PS_WEB_PASSWORD_HASH).
func (s Settings) WithDefaults() Settings {
	if s.Listen == "" {
		s.Listen = DefaultListen
	}
	if s.Auth.Token == "" {
		s.Auth.Token = outputs.Secret(os.Getenv(EnvToken))
	}
	if s.Auth.User == "" && s.Auth.PasswordHash == "" {
		s.Auth.User = os.Getenv(EnvUser)
		s.Auth.PasswordHash = outputs.Secret(os.Getenv(EnvPasswordHash))
	}
	return s
}

// SettingError is one problem of Settings, with the key it is about
// (e.g. "auth.disabled"), so a config loader can give its line.
type SettingError struct {
	Key []string
	Msg string
}

func (e *SettingError) Error() string { return strings.Join(e.Key, ".") + ": " + e.Msg }

// Validate checks the settings as they will be served (after
// WithDefaults and any --web/--listen flag): no authentication only on a
// loopback address, host names without ports or schemes, no negative
// throttle values, and, when enabled, some credential. Every problem is a
// *SettingError (joined).
func (s Settings) Validate() error {
	var errs []error
	add := func(msg string, key ...string) { errs = append(errs, &SettingError{Key: key, Msg: msg}) }
	if s.Auth.Disabled && !Loopback(s.Listen) {
		add(fmt.Sprintf("authentication may only be disabled on a loopback listen address, not %q", s.Listen), "auth", "disabled")
	}
	for _, h := range s.Hostnames {
		if h == "" || strings.ContainsAny(h, ":/ ") {
			add(fmt.Sprintf("%q: give a bare host name (no scheme, port or path)", h), "hostnames")
		}
	}
	t := s.Auth.Throttle
	if t.Delay < 0 || t.Lockout < 0 || t.MaxChecks < 0 || t.FreeFailures < -1 {
		add("delay, lockout and max_checks must not be negative (free_failures: -1 for none)", "auth", "throttle")
	}
	if s.Enabled {
		if err := s.Auth.Validate(); err != nil {
			add(strings.TrimPrefix(err.Error(), "web: auth: "), "auth")
		}
	}
	return errors.Join(errs...)
}

// Loopback says whether addr (host:port) listens on a loopback address
// only.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Apply copies the listen-independent settings (TLS, auth, host names)
// into cfg.
func (s Settings) Apply(cfg Config) Config {
	cfg.TLSCert, cfg.TLSKey, cfg.Auth, cfg.Hostnames = s.TLSCert, s.TLSKey, s.Auth, s.Hostnames
	cfg.Pcap.IndexDirs = append(cfg.Pcap.IndexDirs, s.Pcap.IndexDirs...)
	cfg.Pcap.CaptureDirs = append(cfg.Pcap.CaptureDirs, s.Pcap.CaptureDirs...)
	return cfg
}

// StoreConfig returns the options of the first output of type store, so
// the server can open the same history the sensor writes (SQLite in WAL
// mode lets it read beside the writer). ok is false when there is none.
func StoreConfig(sinks []outputs.SinkConfig) (cfg store.Config, ok bool, err error) {
	for i := range sinks {
		if sinks[i].Type != "store" {
			continue
		}
		if err := sinks[i].DecodeOptions(&cfg); err != nil {
			return cfg, true, err
		}
		return cfg, true, nil
	}
	return cfg, false, nil
}
