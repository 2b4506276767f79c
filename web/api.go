package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/store"
)

// Paging limits of the list endpoints.
const (
	DefaultPage = 50
	MaxPage     = 1000
	// MaxConnections caps one page of live connections.
	MaxConnections = 10_000
)

// handle registers an API route ("METHOD /path") and remembers it.
func (s *Server) handle(pattern string, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, h)
	s.routes = append(s.routes, pattern)
}

func (s *Server) routesInit() {
	s.handle("GET /healthz", s.handleHealthz)
	s.handle("GET /metrics", s.handleMetrics)
	s.handle("POST /api/v1/login", s.handleLogin)
	s.handle("POST /api/v1/logout", s.handleLogout)
	s.handle("GET /api/v1/session", s.handleSession)
	s.handle("GET /api/v1/status", s.handleStatus)
	s.handle("GET /api/v1/connections", s.handleConnections)
	s.handle("GET /api/v1/flows", s.handleList("flow"))
	s.handle("GET /api/v1/flows/{community_id}/pcap", s.handleFlowPcap)
	s.handle("GET /api/v1/events", s.handleList(""))
	s.handle("GET /api/v1/alerts", s.handleAlerts)
	s.handle("GET /api/v1/alerts/summary", s.handleAlertSummary)
	s.handle("POST /api/v1/alerts/{id}/acknowledge", s.handleAck)
	s.handle("PUT /api/v1/alerts/{id}/acknowledge", s.handleAck)
	s.handle("GET /api/v1/top", s.handleTop)
	s.handle("GET /api/v1/series", s.handleSeries)
	s.handle("GET /api/v1/rules", s.handleRules)
	s.handle("GET /api/v1/audit", s.handleAudit)
	s.handle("GET /api/v1/searches", s.handleSearches)
	s.handle("POST /api/v1/searches", s.handleSaveSearch)
	s.handle("DELETE /api/v1/searches/{id}", s.handleDeleteSearch)
	s.handle("GET /api/v1/files", s.handleFiles)
	s.handle("GET /api/v1/files/{sha256}/download", s.handleFileDownload)
	s.handle("GET /api/v1/sensors", s.handleSensors)
	s.handle("GET /api/v1/hosts", s.handleHosts)
	static := staticHandler()
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/api/"):
			// Unknown API paths get JSON, not the UI.
			writeError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "method not allowed")
		default:
			static.ServeHTTP(w, r)
		}
	})
}

// apiError is every error body.
type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiError{Error: msg})
}

// badRequest is a client error in the query string.
type badRequest struct{ msg string }

func (e badRequest) Error() string { return e.msg }

func badf(format string, args ...any) error { return badRequest{fmt.Sprintf(format, args...)} }

// fail writes err: a badRequest is 400, a store.ErrNotFound 404, anything
// else 500 with a generic message (the details go to the log only).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var br badRequest
	switch {
	case errors.As(err, &br):
		writeError(w, http.StatusBadRequest, br.msg)
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not found")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, "request timed out")
	default:
		s.cfg.Log.Error("web: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal error (see the sensor's log)")
	}
}

func (s *Server) needStore(w http.ResponseWriter) bool {
	if s.cfg.Store == nil {
		writeError(w, http.StatusServiceUnavailable, "no history store configured")
		return false
	}
	return true
}

// ---- query parameters ----

// params reads and validates query parameters, remembering the first error.
type params struct {
	q   map[string][]string
	now time.Time
	err error
}

func (s *Server) params(r *http.Request) *params {
	return &params{q: r.URL.Query(), now: s.cfg.Now()}
}

func (p *params) str(name string) string {
	v := p.q[name]
	if len(v) == 0 {
		return ""
	}
	return strings.TrimSpace(v[0])
}

func (p *params) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

func (p *params) int(name string, def, lo, hi int) int {
	v := p.str(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.fail(badf("%s: want a whole number from %d to %d, got %q", name, lo, hi, v))
		return def
	}
	return n
}

func (p *params) bool(name string) bool {
	switch strings.ToLower(p.str(name)) {
	case "", "0", "false", "no":
		return false
	case "1", "true", "yes":
		return true
	}
	p.fail(badf("%s: want true or false", name))
	return false
}

func (p *params) float(name string, def float64) float64 {
	v := p.str(name)
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 {
		p.fail(badf("%s: want a non-negative number, got %q", name, v))
		return def
	}
	return f
}

// time reads RFC 3339, Unix seconds (with a fraction) or a duration meaning
// that long before now ("15m", "24h", "7d").
func (p *params) time(name string) time.Time {
	v := p.str(name)
	if v == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC()
	}
	if d, err := store.ParseDuration(strings.TrimPrefix(v, "-")); err == nil {
		return p.now.Add(-d)
	}
	p.fail(badf("%s: want RFC 3339, Unix seconds or a duration before now (e.g. 1h), got %q", name, v))
	return time.Time{}
}

func (p *params) rng() store.Range {
	r := store.Range{Since: p.time("since"), Until: p.time("until"), Sensor: p.str("sensor")}
	if !r.Since.IsZero() && !r.Until.IsZero() && !r.Since.Before(r.Until) {
		p.fail(badf("since must be before until"))
	}
	return r
}

func (p *params) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(p.str(name))
	if v == "" {
		return def
	}
	if !slices.Contains(allowed, v) {
		p.fail(badf("%s: want one of %s, got %q", name, strings.Join(allowed, ", "), v))
		return def
	}
	return v
}

// ---- /healthz, /metrics ----

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Store != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.cfg.Store.DB().PingContext(ctx); err != nil {
			s.cfg.Log.Warn("web: healthz: store", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "error", "error": "store unavailable"})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Metrics == nil {
		writeError(w, http.StatusServiceUnavailable, "metrics are not enabled")
		return
	}
	s.cfg.Metrics.ServeHTTP(w, r)
}

// ---- top talkers, series, rules ----

// TopAnswer is the answer of GET /api/v1/top.
type TopAnswer struct {
	Group  string         `json:"group"`
	By     string         `json:"by"`
	Totals store.TopRow   `json:"totals"`
	Rows   []store.TopRow `json:"rows"`
}

func (s *Server) handleTop(w http.ResponseWriter, r *http.Request) {
	if !s.needStore(w) {
		return
	}
	p := s.params(r)
	q := store.TopQuery{
		Range: p.rng(),
		By:    store.Metric(p.oneOf("by", "bytes", "bytes", "packets", "flows")),
		Group: p.oneOf("group", "source.ip", store.GroupNames()...),
		Limit: p.int("limit", 10, 1, MaxPage),
	}
	if p.err != nil {
		s.fail(w, r, p.err)
		return
	}
	rows, err := s.cfg.Store.Top(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	tot, err := s.cfg.Store.Totals(r.Context(), q.Range)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, TopAnswer{Group: q.Group, By: string(q.By), Totals: tot, Rows: nonNil(rows)})
}

// Peak is one traffic peak, as the series endpoint reports it.
type Peak struct {
	Time      time.Time `json:"time"`
	Value     float64   `json:"value"`
	Baseline  float64   `json:"baseline"`
	Threshold float64   `json:"threshold"`
	Reason    string    `json:"reason"`
}

// SeriesAnswer is the answer of GET /api/v1/series.
type SeriesAnswer struct {
	Since      time.Time     `json:"since"`
	Until      time.Time     `json:"until"`
	Resolution int64         `json:"resolution"` // seconds
	Metric     string        `json:"metric"`
	Points     []store.Point `json:"points"`
	Peaks      []Peak        `json:"peaks"`
}

// resolutionSteps are the widths the series endpoint picks from when none
// is asked for.
var resolutionSteps = []time.Duration{
	time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute,
	10 * time.Minute, 30 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
	7 * 24 * time.Hour, 30 * 24 * time.Hour,
}

// MaxSeriesPoints caps the points one series answer holds.
const MaxSeriesPoints = 5000

func (s *Server) handleSeries(w http.ResponseWriter, r *http.Request) {
	if !s.needStore(w) {
		return
	}
	p := s.params(r)
	rg := p.rng()
	points := p.int("points", 300, 2, MaxSeriesPoints)
	var res time.Duration
	if v := p.str("resolution"); v != "" {
		d, err := store.ParseDuration(v)
		if err != nil || d < time.Second || d%time.Second != 0 {
			p.fail(badf("resolution: want a whole number of seconds (e.g. 1s, 1m, 1h), got %q", v))
		}
		res = d
	}
	opts := store.PeakOptions{
		Metric:   store.Metric(p.oneOf("metric", "bytes", "bytes", "packets", "flows")),
		K:        p.float("k", 3),
		Window:   p.int("window", 60, 2, 10_000),
		Absolute: p.float("absolute", 0),
	}
	if p.err != nil {
		s.fail(w, r, p.err)
		return
	}
	if rg.Since.IsZero() || rg.Until.IsZero() {
		lo, hi, err := s.cfg.Store.Bounds(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if lo.IsZero() {
			lo, hi = s.cfg.Now().Add(-time.Hour), s.cfg.Now()
		}
		if rg.Since.IsZero() {
			rg.Since = lo
		}
		if rg.Until.IsZero() {
			rg.Until = hi.Add(time.Second)
		}
		if !rg.Since.Before(rg.Until) {
			s.fail(w, r, badf("since must be before until"))
			return
		}
	}
	span := rg.Until.Sub(rg.Since)
	if res == 0 {
		res = resolutionSteps[len(resolutionSteps)-1]
		for _, st := range resolutionSteps {
			if span/st <= time.Duration(points) {
				res = st
				break
			}
		}
	}
	if span/res > MaxSeriesPoints {
		s.fail(w, r, badf("%d points at resolution %v; ask a coarser resolution", span/res, res))
		return
	}
	pts, err := s.cfg.Store.Series(r.Context(), store.SeriesQuery{Range: rg, Resolution: res, Interface: p.str("interface")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	opts.Resolution = res
	peaks := []Peak{}
	for _, ev := range store.DetectPeaks(pts, opts) {
		pk := ev.Sensor.Peak
		peaks = append(peaks, Peak{Time: ev.Timestamp, Value: pk.Value, Baseline: pk.Baseline, Threshold: pk.Threshold, Reason: pk.Reason})
	}
	writeJSON(w, http.StatusOK, SeriesAnswer{Since: rg.Since.UTC(), Until: rg.Until.UTC(), Resolution: int64(res / time.Second),
		Metric: string(opts.Metric), Points: nonNil(pts), Peaks: peaks})
}

// RuleInfo is one rule as GET /api/v1/rules lists it.
type RuleInfo struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Severity    string   `json:"severity"`
	RiskScore   float64  `json:"risk_score"`
	Enabled     bool     `json:"enabled"`
	Ruleset     string   `json:"ruleset,omitempty"`
	Category    string   `json:"category,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	Techniques  []string `json:"techniques,omitempty"` // MITRE ATT&CK technique ids
	Datasets    []string `json:"datasets,omitempty"`
	Threshold   string   `json:"threshold,omitempty"` // e.g. "count >= 20 in 1m0s by source.ip"
}

func (s *Server) handleRules(w http.ResponseWriter, r *http.Request) {
	out := []RuleInfo{}
	if set := s.rules(); set != nil {
		for _, ru := range set.Rules() {
			ri := RuleInfo{ID: ru.ID, Name: ru.Name, Description: ru.Description, Severity: ru.Severity,
				RiskScore: ru.RiskScore, Enabled: ru.Enabled, Ruleset: ru.Ruleset, Category: ru.Category,
				Tags: ru.Tags, Datasets: ru.Datasets}
			for _, t := range ru.Threat {
				if t.TechniqueID != "" {
					ri.Techniques = append(ri.Techniques, t.TechniqueID)
				}
			}
			if th := ru.Threshold; th != nil {
				ri.Threshold = fmt.Sprintf("%s %s in %v", th.Type, th.Comparison(), th.Window)
				if len(th.GroupBy) > 0 {
					ri.Threshold += " by " + strings.Join(th.GroupBy, ", ")
				}
			}
			out = append(out, ri)
		}
	}
	slices.SortFunc(out, func(a, b RuleInfo) int { return strings.Compare(a.ID, b.ID) })
	writeJSON(w, http.StatusOK, map[string]any{"rules": out})
}
