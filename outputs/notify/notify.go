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
//	    min_severity: high           # low, medium, high, critical (default low) } as for every
//	    rules: ["PS-NET-*"]          # only these rule ids (globs; default any) } output (outputs.Route)
//	    tags: [attack.t1046]         # only alerts with one of these tags (default any)
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
// A notifier holds at most 1024 groups (maxHeldGroups); past that, the
// alerts of a new group join their rule's overflow group, so an alert
// flood from many sources, or any with group_by none, cannot grow it
// without bound: every alert is still counted in a message.
//
// Each notifier has Stats (received, filtered, sent, held, given up) for
// metrics.Sources.Notifiers, and SetLogger.
package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// Common are the keys every notifier shares (see the package comment).
type Common struct {
	Tags          []string      `yaml:"tags"`
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
var commonKeys = []string{"tags", "group_window", "group_by", "rate_limit", "rate_period",
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

// tagRoute keeps the alerts with one of the configured tags (an ATT&CK
// technique id T1046 also matches the tag attack.t1046). Dataset, severity
// and rule filters are the Runner's (outputs.Route), as for every output.
type tagRoute []string // lower case

func newTagRoute(tags []string) tagRoute {
	r := make(tagRoute, 0, len(tags))
	for _, t := range tags {
		r = append(r, strings.ToLower(t))
	}
	return r
}

// Match reports whether a carries one of the tags (always, without tags).
func (r tagRoute) Match(a *Alert) bool {
	if len(r) == 0 {
		return true
	}
	for _, t := range a.Tags {
		if slices.Contains(r, strings.ToLower(t)) {
			return true
		}
	}
	for _, t := range a.Techniques {
		if slices.Contains(r, "attack."+strings.ToLower(t)) {
			return true
		}
	}
	return false
}
