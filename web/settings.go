package web

import (
	"os"

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
//	  tls_cert: /etc/packetsleuth/web.crt   # both set: HTTPS only
//	  tls_key: /etc/packetsleuth/web.key
//	  auth:
//	    token: env:PS_WEB_TOKEN     # bearer token (>= 16 chars); env:NAME or file:PATH
//	    user: admin                 # login form user ...
//	    password_hash: file:/etc/packetsleuth/web.bcrypt   # ... and its bcrypt hash
//	    metrics_public: false       # let Prometheus scrape /metrics without a token
//	    disabled: false             # no authentication at all (loopback only!)
type Settings struct {
	Enabled bool   `yaml:"enabled"`
	Listen  string `yaml:"listen"`
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	Auth    Auth   `yaml:"auth"`
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

// Apply copies the listen-independent settings (TLS, auth) into cfg.
func (s Settings) Apply(cfg Config) Config {
	cfg.TLSCert, cfg.TLSKey, cfg.Auth = s.TLSCert, s.TLSKey, s.Auth
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
