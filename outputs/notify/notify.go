// Package notify sends alerts to people: Slack incoming webhooks, Telegram
// bots, e-mail over SMTP and generic signed webhooks.
//
// Each notifier is an outputs.Sink registered as type slack, telegram,
// email or webhook, so it runs behind the shared outputs.Runner like any
// other output. A notifier looks only at alert records (Kind "alert") and
// ignores the rest, so it can sit on the same fan-out as the SIEM outputs.
//
// Keys every notifier shares, next to its own keys:
//
//	outputs:
//	  - type: slack
//	    name: soc-channel
//	    url: env:PS_SLACK_WEBHOOK
//	    min_severity: high           # low, medium, high, critical (default low)
//	    tags: [attack.t1046]         # only alerts with one of these tags (default any)
//	    rules: ["PS-NET-*"]          # only these rule ids (globs; default any)
//	    group_window: 1m             # one message per group and window (default 0: per batch)
//	    group_by: rule               # rule (default), rule_source or none
//	    rate_limit: 20               # at most 20 messages ...
//	    rate_period: 1h              # ... per hour (default 0: no limit)
//	    max_attempts: 5              # send attempts of a grouped message (default 5)
//	    title_template: '{{.Severity | upper}} {{.RuleID}}'
//	    text_template: '...'         # text/template over a Message
//
// # Delivery and grouping within the Sink contract
//
// Without group_window, Write sends one message per group of the batch
// (alerts of one rule in one batch make one message) before it returns. A
// failed message fails its records in an *outputs.BatchError, so the Runner
// retries them with its backoff and spool; an answer that will never
// succeed (HTTP 400, a rejected address) marks them Permanent. A
// rate-limit answer that names a delay (Telegram's retry_after, Slack's
// Retry-After) is waited out inside Write, once, within its deadline.
//
// With group_window, Write only files the alerts into groups and returns
// nil: the Runner considers them delivered. A background goroutine, started
// by the first Connect, sends each group once its window has passed since
// its first alert ("5 alerts of PS-NET-001 in the last 1m"), retrying a
// failed message with backoff (retry_after honoured) up to max_attempts;
// after that the alerts are counted in Stats.Dropped and logged. Close
// sends every pending group at once, within Close's context.
//
// The rate limit holds messages back rather than losing them: an alert that
// finds the limit reached stays in its group, which is sent (with everything
// that arrived meanwhile) as soon as the limit allows. Such held alerts are
// handed over like grouped ones: Write returns nil for them and the
// background goroutine delivers them.
//
// Each notifier has Stats (received, filtered, sent, held, given up) for
// metrics.Sources.Notifiers, and SetLogger.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"log/slog"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// Common are the keys every notifier shares (see the package comment).
type Common struct {
	MinSeverity   string        `yaml:"min_severity"`
	Tags          []string      `yaml:"tags"`
	Rules         []string      `yaml:"rules"`
	GroupWindow   time.Duration `yaml:"group_window"`
	GroupBy       string        `yaml:"group_by"`
	RateLimit     int           `yaml:"rate_limit"`
	RatePeriod    time.Duration `yaml:"rate_period"`
	MaxAttempts   int           `yaml:"max_attempts"`
	RetryMin      time.Duration `yaml:"retry_min"`
	RetryMax      time.Duration `yaml:"retry_max"`
	TitleTemplate string        `yaml:"title_template"`
	TextTemplate  string        `yaml:"text_template"`
	HTMLTemplate  string        `yaml:"html_template"` // e-mail only
	MaxAlerts     int           `yaml:"max_alerts"`    // alerts listed in one message (default 10; all are counted)
}

// commonKeys are Common's YAML keys.
var commonKeys = []string{"min_severity", "tags", "rules", "group_window", "group_by", "rate_limit", "rate_period",
	"max_attempts", "retry_min", "retry_max", "title_template", "text_template", "html_template", "max_alerts"}

// decodeOptions splits cfg's sink keys into the Common ones and the
// notifier's own, decoding each strictly.
func decodeOptions(cfg outputs.SinkConfig, own any) (Common, error) {
	var c Common
	if cfg.Options.Kind == yaml.MappingNode {
		mine := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: cfg.Options.Line, Column: cfg.Options.Column}
		rest := yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: cfg.Options.Line, Column: cfg.Options.Column}
		for i := 0; i+1 < len(cfg.Options.Content); i += 2 {
			k, v := cfg.Options.Content[i], cfg.Options.Content[i+1]
			if slices.Contains(commonKeys, k.Value) {
				mine.Content = append(mine.Content, k, v)
			} else {
				rest.Content = append(rest.Content, k, v)
			}
		}
		if len(mine.Content) > 0 {
			if err := mine.Decode(&c); err != nil {
				return c, fmt.Errorf("outputs.%s: %w", cfg.Type, err)
			}
		}
		cfg.Options = rest
	}
	if err := cfg.DecodeOptions(own); err != nil {
		return c, fmt.Errorf("%w (notifier keys: %s)", err, strings.Join(commonKeys, ", "))
	}
	return c, nil
}

// Severity names by ECS event.severity (rules use 21, 47, 73, 99).
var severityNames = []struct {
	min  int
	name string
}{{99, "critical"}, {73, "high"}, {47, "medium"}, {1, "low"}}

// SeverityName maps an event.severity number to low, medium, high or
// critical ("" for 0).
func SeverityName(n int) string {
	for _, s := range severityNames {
		if n >= s.min {
			return s.name
		}
	}
	return ""
}

func severityRank(name string) (int, bool) {
	switch strings.ToLower(name) {
	case "", "low":
		return 1, true
	case "medium":
		return 47, true
	case "high":
		return 73, true
	case "critical":
		return 99, true
	}
	return 0, false
}

// Alert is what a message template sees of one alert record.
type Alert struct {
	Time            time.Time
	RuleID          string
	RuleName        string
	RuleDescription string
	Ruleset         string
	Reference       string
	Severity        string // low, medium, high, critical
	SeverityNumber  int
	RiskScore       float64
	Reason          string // event.reason (the rule's name)
	Tags            []string
	Tactics         []string // ATT&CK tactic ids
	Techniques      []string // ATT&CK technique ids
	SourceIP        string
	SourcePort      int
	DestinationIP   string
	DestinationPort int
	Transport       string
	Protocol        string
	CommunityID     string
	Observer        string // observer.hostname
	DNSQuestion     string
	URL             string
	ServerName      string // tls.client.server_name
	Count           int64  // threshold rules: what the rule counted
	CountWindow     string
	Intel           []string // matched threat-intel indicators

	// Event is the whole decoded ECS document.
	Event *schemas.Event
	// JSON is the alert record's document as it was encoded.
	JSON json.RawMessage
}

// Source is "ip:port" (or just the ip) of the alert's source.
func (a *Alert) Source() string { return hostPort(a.SourceIP, a.SourcePort) }

// Destination is "ip:port" (or just the ip) of the alert's destination.
func (a *Alert) Destination() string { return hostPort(a.DestinationIP, a.DestinationPort) }

func hostPort(ip string, port int) string {
	if ip == "" {
		return ""
	}
	if port == 0 {
		return ip
	}
	if strings.Contains(ip, ":") {
		return "[" + ip + "]:" + strconv.Itoa(port)
	}
	return ip + ":" + strconv.Itoa(port)
}

// ParseAlert decodes an alert record's JSON.
func ParseAlert(rec schemas.Record) (Alert, error) {
	ev := new(schemas.Event)
	if err := schemas.Decode(rec.JSON, ev); err != nil {
		return Alert{}, fmt.Errorf("notify: alert record: %w", err)
	}
	a := Alert{
		Time: ev.Timestamp, RuleID: ev.Rule.ID, RuleName: ev.Rule.Name, RuleDescription: ev.Rule.Description,
		Ruleset: ev.Rule.Ruleset, Reference: ev.Rule.Reference,
		SeverityNumber: ev.Event.Severity, Severity: SeverityName(ev.Event.Severity), RiskScore: ev.Event.RiskScore,
		Reason: ev.Event.Reason, Tags: ev.Tags, Tactics: ev.Threat.Tactic.ID, Techniques: ev.Threat.Technique.ID,
		SourceIP: ev.Source.IP, SourcePort: ev.Source.Port, DestinationIP: ev.Destination.IP, DestinationPort: ev.Destination.Port,
		Transport: ev.Network.Transport, Protocol: ev.Network.Protocol, CommunityID: ev.Network.CommunityID,
		Observer: ev.Observer.Hostname, DNSQuestion: ev.DNS.Question.Name, URL: ev.URL.Original,
		ServerName: ev.TLS.Client.ServerName, Count: ev.Sensor.Alert.Count, CountWindow: ev.Sensor.Alert.Window,
		Event: ev, JSON: json.RawMessage(bytes.Clone(rec.JSON)),
	}
	if a.RuleID == "" {
		a.RuleID = ev.Event.Action
	}
	if a.RuleName == "" {
		a.RuleName = ev.Event.Reason
	}
	if a.Time.IsZero() {
		a.Time = rec.Time
	}
	for _, e := range ev.Threat.Enrichments {
		a.Intel = append(a.Intel, e.Matched.Atomic)
	}
	return a, nil
}

// Route decides which alerts a notifier sends.
type Route struct {
	minRank int
	tags    []string // lower case
	rules   []string
}

func newRoute(c Common) (Route, error) {
	rank, ok := severityRank(c.MinSeverity)
	if !ok {
		return Route{}, fmt.Errorf("min_severity: %q is not one of low, medium, high, critical", c.MinSeverity)
	}
	r := Route{minRank: rank}
	for _, t := range c.Tags {
		r.tags = append(r.tags, strings.ToLower(t))
	}
	for _, g := range c.Rules {
		if _, err := path.Match(g, ""); err != nil {
			return Route{}, fmt.Errorf("rules: bad pattern %q", g)
		}
		r.rules = append(r.rules, g)
	}
	return r, nil
}

// Match reports whether a passes the severity, tag and rule filters.
func (r Route) Match(a *Alert) bool {
	if a.SeverityNumber < r.minRank {
		return false
	}
	if len(r.tags) > 0 {
		hit := false
		for _, t := range a.Tags {
			if slices.Contains(r.tags, strings.ToLower(t)) {
				hit = true
				break
			}
		}
		for _, t := range a.Techniques {
			// a technique id T1046 also matches the tag attack.t1046
			if slices.Contains(r.tags, "attack."+strings.ToLower(t)) {
				hit = true
			}
		}
		if !hit {
			return false
		}
	}
	if len(r.rules) > 0 {
		hit := false
		for _, g := range r.rules {
			if ok, _ := path.Match(g, a.RuleID); ok {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

// Message is one notification: the alerts of one group. Templates execute
// on it.
type Message struct {
	RuleID    string
	RuleName  string
	Severity  string // the highest severity in the group
	Count     int    // alerts in the message (Alerts may list fewer)
	Omitted   int    // Count - len(Alerts)
	Window    string // the group window ("1m"); empty without grouping
	First     time.Time
	Last      time.Time
	Alerts    []Alert // at most max_alerts, the first ones
	Sensor    string  // observer.hostname of the first alert
	Title     string  // rendered title (for the text and HTML templates)
	GroupedBy string  // rule, rule_source or none
}

// Alert is the first alert of the message.
func (m *Message) Alert() *Alert { return &m.Alerts[0] }

// Default templates.
const (
	DefaultTitleTemplate = `[{{upper .Severity}}] {{.RuleID}}{{with .RuleName}} {{.}}{{end}}` +
		`{{if gt .Count 1}} ({{.Count}} alerts{{with .Window}} in the last {{.}}{{end}}){{end}}`
	DefaultTextTemplate = `{{if gt .Count 1}}{{.Count}} alerts of {{.RuleID}}{{with .Window}} in the last {{.}}{{end}}` +
		`{{with .Sensor}} on {{.}}{{end}}
{{end}}{{range .Alerts}}{{.Time.UTC.Format "2006-01-02 15:04:05Z"}} {{.Severity}} {{.RuleID}}` +
		`{{with .Source}} {{.}}{{end}}{{with .Destination}} -> {{.}}{{end}}{{with .Transport}} ({{.}}){{end}}` +
		`{{with .DNSQuestion}} dns={{.}}{{end}}{{with .ServerName}} sni={{.}}{{end}}{{with .URL}} url={{.}}{{end}}` +
		`{{with .Count}} count={{.}}{{end}}{{with .Intel}} intel={{join . ","}}{{end}}
{{end}}{{with .Omitted}}... and {{.}} more
{{end}}{{with .Alert.RuleDescription}}{{.}}
{{end}}{{with .Alert.Tags}}Tags: {{join . ", "}}
{{end}}{{with .Alert.Reference}}Reference: {{.}}
{{end}}`
	DefaultHTMLTemplate = `<html><body>
<h2>{{.Title}}</h2>
{{if gt .Count 1}}<p>{{.Count}} alerts of <b>{{.RuleID}}</b>{{with .Window}} in the last {{.}}{{end}}{{with .Sensor}} on {{.}}{{end}}</p>
{{end}}<table border="1" cellpadding="4" cellspacing="0">
<tr><th>Time</th><th>Severity</th><th>Rule</th><th>Source</th><th>Destination</th><th>Details</th></tr>
{{range .Alerts}}<tr><td>{{.Time.UTC.Format "2006-01-02 15:04:05Z"}}</td><td>{{.Severity}}</td><td>{{.RuleID}}</td><td>{{.Source}}</td><td>{{.Destination}}</td><td>{{.Transport}}{{with .DNSQuestion}} dns={{.}}{{end}}{{with .ServerName}} sni={{.}}{{end}}{{with .URL}} url={{.}}{{end}}{{with .Count}} count={{.}}{{end}}</td></tr>
{{end}}</table>
{{with .Omitted}}<p>... and {{.}} more</p>
{{end}}{{with .Alert.RuleDescription}}<p>{{.}}</p>
{{end}}{{with .Alert.Tags}}<p>Tags: {{join . ", "}}</p>
{{end}}{{with .Alert.Reference}}<p><a href="{{.}}">{{.}}</a></p>
{{end}}</body></html>
`
)

var funcs = template.FuncMap{
	"upper": strings.ToUpper,
	"lower": strings.ToLower,
	"join":  strings.Join,
}

// templates renders messages.
type templates struct {
	title, text *template.Template
	html        *htmltemplate.Template // nil unless wanted
}

func newTemplates(c Common, wantHTML bool) (*templates, error) {
	pick := func(s, def string) string {
		if s == "" {
			return def
		}
		return s
	}
	var t templates
	var err error
	if t.title, err = template.New("title").Funcs(funcs).Option("missingkey=error").Parse(pick(c.TitleTemplate, DefaultTitleTemplate)); err != nil {
		return nil, fmt.Errorf("title_template: %w", err)
	}
	if t.text, err = template.New("text").Funcs(funcs).Option("missingkey=error").Parse(pick(c.TextTemplate, DefaultTextTemplate)); err != nil {
		return nil, fmt.Errorf("text_template: %w", err)
	}
	if wantHTML {
		if t.html, err = htmltemplate.New("html").Funcs(htmltemplate.FuncMap(funcs)).Parse(pick(c.HTMLTemplate, DefaultHTMLTemplate)); err != nil {
			return nil, fmt.Errorf("html_template: %w", err)
		}
	}
	// Execute once on a sample, so a template that fails on every message
	// fails at start.
	sample := sampleMessage()
	if _, err := t.render(&sample); err != nil {
		return nil, err
	}
	return &t, nil
}

// Rendered is a message ready to send.
type Rendered struct {
	Title string
	Text  string
	HTML  string // empty unless the notifier renders HTML
	Msg   *Message
}

func (t *templates) render(m *Message) (Rendered, error) {
	var b strings.Builder
	if err := t.title.Execute(&b, m); err != nil {
		return Rendered{}, fmt.Errorf("title_template: %w", err)
	}
	m.Title = strings.TrimSpace(strings.ReplaceAll(b.String(), "\n", " "))
	b.Reset()
	if err := t.text.Execute(&b, m); err != nil {
		return Rendered{}, fmt.Errorf("text_template: %w", err)
	}
	r := Rendered{Title: m.Title, Text: strings.TrimRight(b.String(), "\n"), Msg: m}
	if t.html != nil {
		b.Reset()
		if err := t.html.Execute(&b, m); err != nil {
			return Rendered{}, fmt.Errorf("html_template: %w", err)
		}
		r.HTML = b.String()
	}
	return r, nil
}

func sampleMessage() Message {
	a := Alert{Time: time.Unix(0, 0), RuleID: "PS-SAMPLE", RuleName: "sample", Severity: "low", SeverityNumber: 21,
		Tags: []string{"x"}, SourceIP: "192.0.2.1", SourcePort: 1, DestinationIP: "192.0.2.2", DestinationPort: 2,
		Event: new(schemas.Event)}
	return Message{RuleID: a.RuleID, RuleName: a.RuleName, Severity: a.Severity, Count: 2, Omitted: 1,
		Window: "1m", First: a.Time, Last: a.Time, Alerts: []Alert{a}}
}

// ---- delivery ----

// sender delivers one rendered message to the far end.
type sender interface {
	send(ctx context.Context, r *Rendered) error
}

// RetryAfterError asks for the message to be sent again after Delay.
type RetryAfterError struct {
	Delay time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.Delay)
}
func (e *RetryAfterError) Unwrap() error { return e.Err }

// PermanentError marks an answer that sending again cannot fix.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// maxRetryAfter caps a server's requested delay.
const maxRetryAfter = 5 * time.Minute

// Stats are a notifier's counters.
type Stats struct {
	Alerts      uint64 // alert records received
	Filtered    uint64 // alerts the route did not match
	Invalid     uint64 // alert records that could not be decoded
	Messages    uint64 // messages sent
	Notified    uint64 // alerts in sent messages
	Failures    uint64 // failed send attempts
	RateLimited uint64 // times a message was held back by rate_limit
	Dropped     uint64 // alerts given up on after max_attempts (grouping only)
	Pending     int    // alerts waiting in groups now
}

// group is the alerts of one group key waiting to be sent.
type group struct {
	key      string
	alerts   []Alert // the first max_alerts
	count    int
	severity int
	first    time.Time
	last     time.Time
	due      time.Time // when to try to send
	attempts int
	backoff  time.Duration
	recs     []int // indices into the current batch (synchronous mode only)
}

func (g *group) add(a Alert, max int) {
	if g.count == 0 || a.Time.Before(g.first) {
		g.first = a.Time
	}
	if a.Time.After(g.last) {
		g.last = a.Time
	}
	g.count++
	g.severity = max2(g.severity, a.SeverityNumber)
	if len(g.alerts) < max {
		g.alerts = append(g.alerts, a)
	}
}

func max2(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// dispatcher is the part of every notifier that routes, groups, limits and
// retries; the sender only talks to the far end.
type dispatcher struct {
	kind  string // slack, telegram, ...
	c     Common
	route Route
	tpl   *templates
	out   sender
	log   *slog.Logger
	now   func() time.Time
	tick  time.Duration

	mu     sync.Mutex
	groups map[string]*group
	order  []string // group keys in creation order
	seq    uint64   // group_by none: a new key per alert
	sent   []time.Time
	st     Stats

	sendMu  sync.Mutex // one send at a time
	started bool
	stop    chan struct{}
	done    chan struct{}
}

func newDispatcher(kind string, c Common, out sender, wantHTML bool) (*dispatcher, error) {
	route, err := newRoute(c)
	if err != nil {
		return nil, fmt.Errorf("outputs.%s: %w", kind, err)
	}
	switch c.GroupBy {
	case "":
		c.GroupBy = "rule"
	case "rule", "rule_source", "none":
	default:
		return nil, fmt.Errorf("outputs.%s: group_by: %q is not one of rule, rule_source, none", kind, c.GroupBy)
	}
	if c.GroupWindow < 0 || c.RatePeriod < 0 || c.RateLimit < 0 || c.RetryMin < 0 || c.RetryMax < 0 {
		return nil, fmt.Errorf("outputs.%s: durations and rate_limit must not be negative", kind)
	}
	if c.RateLimit > 0 && c.RatePeriod == 0 {
		c.RatePeriod = time.Minute
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.RetryMin == 0 {
		c.RetryMin = time.Second
	}
	if c.RetryMax < c.RetryMin {
		c.RetryMax = max(c.RetryMin, time.Minute)
	}
	if c.MaxAlerts <= 0 {
		c.MaxAlerts = 10
	}
	tpl, err := newTemplates(c, wantHTML)
	if err != nil {
		return nil, fmt.Errorf("outputs.%s: %w", kind, err)
	}
	tick := time.Second
	if c.GroupWindow > 0 {
		tick = min(max(c.GroupWindow/10, 10*time.Millisecond), time.Second)
	}
	return &dispatcher{kind: kind, c: c, route: route, tpl: tpl, out: out, log: slog.Default().With("output", kind),
		now: time.Now, tick: tick, groups: map[string]*group{}}, nil
}

// SetLogger sets the logger of failed and given-up notifications (default
// slog.Default()). Call it before Connect.
func (d *dispatcher) SetLogger(l *slog.Logger) { d.log = l.With("output", d.kind) }

// Stats returns the counters.
func (d *dispatcher) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.st
	for _, g := range d.groups {
		st.Pending += g.count
	}
	return st
}

// connect starts the background flusher once.
func (d *dispatcher) connect() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.started {
		return
	}
	d.started = true
	d.stop, d.done = make(chan struct{}), make(chan struct{})
	go d.loop()
}

func (d *dispatcher) loop() {
	defer close(d.done)
	t := time.NewTicker(d.tick)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
			d.flushDue(context.Background(), false)
		}
	}
}

func (d *dispatcher) groupKey(a *Alert) string {
	switch d.c.GroupBy {
	case "rule_source":
		return a.RuleID + "\x00" + a.SourceIP
	case "none":
		d.seq++
		return a.RuleID + "\x00" + strconv.FormatUint(d.seq, 10)
	}
	return a.RuleID
}

// write handles one batch (see the package comment).
func (d *dispatcher) write(ctx context.Context, batch []schemas.Record) error {
	sync := d.c.GroupWindow == 0
	now := d.now()
	var local map[string]*group
	var localOrder []string
	var perm []int
	var reasons []error
	d.mu.Lock()
	for i, rec := range batch {
		if rec.Kind != "alert" {
			continue
		}
		d.st.Alerts++
		a, err := ParseAlert(rec)
		if err != nil {
			d.st.Invalid++
			perm = append(perm, i)
			reasons = append(reasons, err)
			continue
		}
		if !d.route.Match(&a) {
			d.st.Filtered++
			continue
		}
		key := d.groupKey(&a)
		if sync {
			if local == nil {
				local = map[string]*group{}
			}
			g := local[key]
			if g == nil {
				g = &group{key: key}
				local[key] = g
				localOrder = append(localOrder, key)
			}
			g.add(a, d.c.MaxAlerts)
			g.recs = append(g.recs, i)
			continue
		}
		g := d.groups[key]
		if g == nil {
			g = &group{key: key, due: now.Add(d.c.GroupWindow), backoff: d.c.RetryMin}
			d.groups[key] = g
			d.order = append(d.order, key)
		}
		g.add(a, d.c.MaxAlerts)
	}
	d.mu.Unlock()
	if !sync {
		if len(perm) > 0 {
			return &outputs.BatchError{Permanent: perm, Reasons: reasons}
		}
		return nil
	}

	var failed []int
	var failReasons []error
	for _, key := range localOrder {
		g := local[key]
		d.mu.Lock()
		// a group held back by the rate limit is sent together with these
		if held := d.groups[key]; held != nil {
			for _, a := range g.alerts {
				held.add(a, d.c.MaxAlerts)
			}
			held.count += g.count - len(g.alerts)
			d.mu.Unlock()
			continue
		}
		limited := !d.allowLocked(d.now())
		if limited {
			d.st.RateLimited++
			g.due = d.nextSlotLocked()
			g.backoff = d.c.RetryMin
			g.recs = nil
			d.groups[key] = g
			d.order = append(d.order, key)
			d.mu.Unlock()
			d.startLater()
			continue
		}
		d.mu.Unlock()
		err := d.sendGroup(ctx, g, true)
		if err == nil {
			continue
		}
		var pe *PermanentError
		if errors.As(err, &pe) {
			perm = append(perm, g.recs...)
			for range g.recs {
				reasons = append(reasons, err)
			}
			continue
		}
		failed = append(failed, g.recs...)
		for range g.recs {
			failReasons = append(failReasons, err)
		}
	}
	if len(failed) == 0 && len(perm) == 0 {
		return nil
	}
	return &outputs.BatchError{Failed: failed, Permanent: perm, Reasons: append(failReasons, reasons...)}
}

// startLater makes sure the flusher runs in synchronous mode once a group
// is held back (Connect normally started it already).
func (d *dispatcher) startLater() { d.connect() }

// allowLocked reports whether the rate limit lets a message go now, and
// records it if so. d.mu is held.
func (d *dispatcher) allowLocked(now time.Time) bool {
	if d.c.RateLimit <= 0 {
		return true
	}
	cut := now.Add(-d.c.RatePeriod)
	i := 0
	for i < len(d.sent) && !d.sent[i].After(cut) {
		i++
	}
	d.sent = d.sent[i:]
	if len(d.sent) >= d.c.RateLimit {
		return false
	}
	d.sent = append(d.sent, now)
	return true
}

// nextSlotLocked is when the rate limit lets the next message go.
func (d *dispatcher) nextSlotLocked() time.Time {
	if len(d.sent) == 0 {
		return d.now()
	}
	return d.sent[0].Add(d.c.RatePeriod)
}

// flushDue sends the groups whose time has come (all of them with force).
func (d *dispatcher) flushDue(ctx context.Context, force bool) {
	for {
		d.mu.Lock()
		now := d.now()
		var g *group
		for _, key := range d.order {
			if c := d.groups[key]; c != nil && (force || !now.Before(c.due)) {
				g = c
				break
			}
		}
		if g == nil {
			d.mu.Unlock()
			return
		}
		if !force && !d.allowLocked(now) {
			d.st.RateLimited++
			g.due = d.nextSlotLocked()
			d.mu.Unlock()
			continue
		}
		d.removeLocked(g.key)
		d.mu.Unlock()

		err := d.sendGroup(ctx, g, false)
		if err == nil {
			continue
		}
		g.attempts++
		var pe *PermanentError
		var ra *RetryAfterError
		if errors.As(err, &pe) || g.attempts >= d.c.MaxAttempts || ctx.Err() != nil || force {
			d.mu.Lock()
			d.st.Dropped += uint64(g.count)
			d.mu.Unlock()
			d.log.Error("notification given up", "rule", g.alerts[0].RuleID, "alerts", g.count, "attempts", g.attempts, "err", err)
			continue
		}
		wait := g.backoff
		if errors.As(err, &ra) {
			wait = min(ra.Delay, maxRetryAfter)
		} else {
			g.backoff = min(g.backoff*2, d.c.RetryMax)
		}
		d.log.Warn("notification failed, retrying", "rule", g.alerts[0].RuleID, "in", wait, "err", err)
		d.mu.Lock()
		g.due = d.now().Add(wait)
		if cur := d.groups[g.key]; cur != nil {
			// alerts arrived meanwhile: merge them into the retried group
			for _, a := range cur.alerts {
				g.add(a, d.c.MaxAlerts)
			}
			g.count += cur.count - len(cur.alerts)
			d.removeLocked(g.key)
		}
		d.groups[g.key] = g
		d.order = append(d.order, g.key)
		d.mu.Unlock()
		return // try the rest on the next tick
	}
}

func (d *dispatcher) removeLocked(key string) {
	delete(d.groups, key)
	if i := slices.Index(d.order, key); i >= 0 {
		d.order = slices.Delete(d.order, i, i+1)
	}
}

// sendGroup renders and sends one group. In synchronous mode a
// RetryAfterError is waited out once within ctx.
func (d *dispatcher) sendGroup(ctx context.Context, g *group, waitRetry bool) error {
	m := &Message{
		RuleID: g.alerts[0].RuleID, RuleName: g.alerts[0].RuleName, Severity: SeverityName(g.severity),
		Count: g.count, Omitted: g.count - len(g.alerts), First: g.first, Last: g.last,
		Alerts: g.alerts, Sensor: g.alerts[0].Observer, GroupedBy: d.c.GroupBy,
	}
	if d.c.GroupWindow > 0 {
		m.Window = shortDuration(d.c.GroupWindow)
	}
	r, err := d.tpl.render(m)
	if err != nil {
		return &PermanentError{err}
	}
	d.sendMu.Lock()
	defer d.sendMu.Unlock()
	err = d.out.send(ctx, &r)
	var ra *RetryAfterError
	if waitRetry && errors.As(err, &ra) && fitsDeadline(ctx, ra.Delay) {
		d.count(err, g.count)
		t := time.NewTimer(ra.Delay)
		select {
		case <-t.C:
			err = d.out.send(ctx, &r)
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
	d.count(err, g.count)
	return err
}

// fitsDeadline reports whether waiting d still leaves ctx time for a
// request; otherwise the Runner's own retry takes over.
func fitsDeadline(ctx context.Context, d time.Duration) bool {
	if d > maxRetryAfter {
		return false
	}
	dl, ok := ctx.Deadline()
	return !ok || time.Until(dl) > d+time.Second
}

func (d *dispatcher) count(err error, alerts int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		d.st.Failures++
		return
	}
	d.st.Messages++
	d.st.Notified += uint64(alerts)
}

// close stops the flusher and sends every pending group within ctx.
func (d *dispatcher) close(ctx context.Context) error {
	d.mu.Lock()
	started := d.started
	d.started = false // a later Connect starts a new flusher
	d.mu.Unlock()
	if started {
		close(d.stop)
		<-d.done
	}
	before := d.Stats().Dropped
	d.flushDue(ctx, true)
	if lost := d.Stats().Dropped - before; lost > 0 {
		return fmt.Errorf("outputs.%s: %d alerts not sent at close", d.kind, lost)
	}
	return nil
}

// shortDuration prints 1m instead of 1m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// truncate cuts s to at most n runes, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
