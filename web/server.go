// Package web serves PacketSleuth's REST API (/api/v1/..., described in
// openapi.yaml), the web UI embedded in the binary, /metrics and /healthz.
//
// The same Server runs in `sensor serve` (history only: a store, no live
// state) and inside `sensor run` (a store and the live pipeline). Every
// source is optional: an endpoint whose source is missing answers 503 with
// a JSON error that says so.
//
// Security: every route but /healthz, the login page and the UI's static
// files needs a bearer token or a session cookie from POST /api/v1/login
// (user and bcrypt password hash, or the token). State-changing requests
// authenticated by cookie need the X-PacketSleuth-CSRF header and, when the
// browser sends Origin or Sec-Fetch-Site, a same-origin request; the server
// answers no CORS requests, so no other origin can add that header. Every
// response carries a strict Content-Security-Policy (no inline scripts or
// styles), X-Content-Type-Options: nosniff and X-Frame-Options: DENY.
// Failed logins and bearer tokens are throttled per client address and
// user (throttle.go); Host headers are checked against DNS rebinding
// (host.go).
package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/packetsleuth/packetsleuth/files"
	"github.com/packetsleuth/packetsleuth/metrics"
	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/rules"
	"github.com/packetsleuth/packetsleuth/sensor/pipeline"
	"github.com/packetsleuth/packetsleuth/store"
)

// LiveState is the running capture: *pipeline.Pipeline satisfies it. Both
// methods are called from HTTP handlers, concurrently with the hot path.
type LiveState interface {
	// ActiveFlows lists the connections that have not ended yet.
	ActiveFlows(ctx context.Context) ([]pipeline.ActiveFlow, error)
	// Snapshot returns the pipeline's running totals.
	Snapshot() pipeline.Stats
}

// Config says what the server serves and how it is protected. Zero fields
// take defaults; nil sources turn their endpoints into 503 answers.
type Config struct {
	// Store is the history (nil: no history endpoints).
	Store *store.Store
	// Live is the running pipeline; nil when serving history only.
	Live LiveState
	// Metrics serves /metrics (metrics.Handler(registry)); nil: 503.
	Metrics http.Handler
	// Files is the extraction store (files.store) for /api/v1/files (nil:
	// 404).
	Files *files.Store
	// Rules is the loaded rule set for /api/v1/rules (nil: an empty list).
	Rules *rules.Set
	// RulesFunc, when set, is called instead of reading Rules, so a rule
	// reload (SIGHUP in sensor run) shows at once.
	RulesFunc func() *rules.Set
	// Outputs gives one Stats per output runner (outputs.Fanout.Stats).
	Outputs func() []outputs.Stats
	// Interfaces gives the capture interfaces' receive and drop counters.
	Interfaces func() []metrics.InterfaceStats
	// Auth says who may use the API and UI.
	Auth Auth
	// Hostnames are the names (besides localhost and IP literals) the
	// server answers to in the Host header; any other name gets 421, which
	// defeats DNS rebinding.
	Hostnames []string
	// TLSCert and TLSKey are PEM files; both set: Serve speaks HTTPS only.
	TLSCert, TLSKey string
	// Version is reported by /api/v1/status.
	Version string
	// Log receives request errors and the server's start and stop.
	Log *slog.Logger
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// SessionTTL is how long a login lasts; default 12h.
	SessionTTL time.Duration
	// Pcap says where the packets of the flows are (the pcap download).
	Pcap PcapSource
}

// Auth configures authentication. Unless Disabled, at least one of Token
// and User/PasswordHash must be set.
type Auth struct {
	// Token is accepted as "Authorization: Bearer TOKEN" and, in the
	// login form, as the password of any user name.
	Token outputs.Secret `yaml:"token"`
	// User and PasswordHash (bcrypt, e.g. from `sensor serve hash-password`)
	// log in through the form.
	User         string         `yaml:"user"`
	PasswordHash outputs.Secret `yaml:"password_hash"`
	// ViewerToken, ViewerUser and ViewerPasswordHash are the same for the
	// read-only viewer role (the ones above are analysts, who may also
	// acknowledge alerts and read the audit trail).
	ViewerToken        outputs.Secret `yaml:"viewer_token"`
	ViewerUser         string         `yaml:"viewer_user"`
	ViewerPasswordHash outputs.Secret `yaml:"viewer_password_hash"`
	// Disabled serves without authentication (only sensible on loopback).
	Disabled bool `yaml:"disabled"`
	// MetricsPublic lets /metrics be scraped without credentials.
	MetricsPublic bool `yaml:"metrics_public"`
	// Throttle slows down password and token guessing.
	Throttle Throttle `yaml:"throttle"`
}

// Validate checks that some credential is configured.
func (a Auth) Validate() error {
	if a.Disabled {
		return nil
	}
	if a.Token == "" && a.User == "" && a.ViewerToken == "" && a.ViewerUser == "" {
		return errors.New("web: auth: set a token or a user with a password hash (or disable auth explicitly)")
	}
	if (a.User == "") != (a.PasswordHash == "") {
		return errors.New("web: auth: user and password_hash go together")
	}
	if a.PasswordHash != "" && !strings.HasPrefix(a.PasswordHash.Value(), "$2") {
		return errors.New("web: auth: password_hash must be a bcrypt hash ($2a$/$2b$/$2y$...)")
	}
	if a.Token != "" && len(a.Token.Value()) < 16 {
		return errors.New("web: auth: token must be at least 16 characters")
	}
	if (a.ViewerUser == "") != (a.ViewerPasswordHash == "") {
		return errors.New("web: auth: viewer_user and viewer_password_hash go together")
	}
	if a.ViewerPasswordHash != "" && !strings.HasPrefix(a.ViewerPasswordHash.Value(), "$2") {
		return errors.New("web: auth: viewer_password_hash must be a bcrypt hash ($2a$/$2b$/$2y$...)")
	}
	if a.ViewerToken != "" && (len(a.ViewerToken.Value()) < 16 || a.ViewerToken == a.Token) {
		return errors.New("web: auth: viewer_token must be at least 16 characters and differ from token")
	}
	if a.ViewerUser != "" && a.ViewerUser == a.User {
		return errors.New("web: auth: viewer_user must differ from user")
	}
	return nil
}

// Server is the HTTP(S) server. Create it with New.
type Server struct {
	cfg     Config
	mux     *http.ServeMux
	routes  []string // "METHOD /path" as registered, for the OpenAPI check
	started time.Time

	smu      sync.Mutex
	sessions map[string]session

	throttle *throttle
	pcapGate pcapGate
	listenIP atomic.Value // netip.Addr the server listens on, once Serve runs

	ready chan string // receives the listen address once Serve listens (tests)
}

// New checks cfg and builds the server's routes.
func New(cfg Config) (*Server, error) {
	if err := cfg.Auth.Validate(); err != nil {
		return nil, err
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, errors.New("web: tls: set both the certificate and the key")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), started: cfg.Now(), sessions: map[string]session{},
		throttle: newThrottle(cfg.Auth.Throttle, cfg.Now)}
	s.routesInit()
	return s, nil
}

// Routes lists the registered API routes as "METHOD /path" (OpenAPI
// path templates), sorted. Static UI files are not listed.
func (s *Server) Routes() []string {
	r := slices.Clone(s.routes)
	slices.Sort(r)
	return r
}

// AuthStats returns the login counters (metrics.Sources.WebAuth).
func (s *Server) AuthStats() metrics.WebAuthStats { return s.throttle.stats() }

// Handler is the whole server as an http.Handler (security headers and
// authentication included).
func (s *Server) Handler() http.Handler { return s.secure(s.mux) }

// Serve listens on addr (host:port) and serves until ctx ends, then shuts
// down gracefully (5 s). With TLSCert/TLSKey it serves HTTPS (TLS 1.2+).
func (s *Server) Serve(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("web: listen: %w", err)
	}
	return s.ServeListener(ctx, ln)
}

// ServeListener is Serve on an open listener (closed on return).
func (s *Server) ServeListener(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.cfg.Log.Handler(), slog.LevelWarn),
	}
	tlsOn := s.cfg.TLSCert != ""
	if tlsOn {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("web: tls: %w", err)
		}
		hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	scheme := "http"
	if tlsOn {
		scheme = "https"
	}
	if ap, err := netip.ParseAddrPort(ln.Addr().String()); err == nil {
		s.listenIP.Store(ap.Addr().Unmap())
	}
	s.cfg.Log.Info("web: serving", "url", scheme+"://"+ln.Addr().String())
	if s.ready != nil {
		s.ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() {
		if tlsOn {
			errc <- hs.ServeTLS(ln, "", "")
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("web: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := hs.Shutdown(sctx)
	<-errc
	return err
}

// rules returns the rule set in force (may be nil).
func (s *Server) rules() *rules.Set {
	if s.cfg.RulesFunc != nil {
		return s.cfg.RulesFunc()
	}
	return s.cfg.Rules
}

// tlsOn says whether the server speaks HTTPS (cookies get Secure).
func (s *Server) tlsOn() bool { return s.cfg.TLSCert != "" }
