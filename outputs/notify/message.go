package notify

import (
	"fmt"
	htmltemplate "html/template"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/packetsleuth/packetsleuth/schemas"
)

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

// escapeTruncated escapes s with esc and cuts the result to at most n runes
// as truncate does, but only between the escapes of two runes of s: a cut
// inside "&amp;" would leave a broken entity. esc must replace single runes.
func escapeTruncated(s string, esc *strings.Replacer, n int) string {
	e := esc.Replace(s)
	if utf8.RuneCountInString(e) <= n {
		return e
	}
	used := 0
	for i, r := range s {
		used += utf8.RuneCountInString(esc.Replace(string(r)))
		if used > n-1 {
			return esc.Replace(s[:i]) + "…"
		}
	}
	return e
}
