package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
)

func init() {
	outputs.Register("slack", func(cfg outputs.SinkConfig) (outputs.Sink, error) {
		var o SlackOptions
		c, err := decodeOptions(cfg, &o)
		if err != nil {
			return nil, err
		}
		return NewSlack(o, c)
	}, SlackOptions{}, Common{})
}

// SlackOptions are the Slack notifier's own keys.
//
//   - type: slack
//     url: env:PS_SLACK_WEBHOOK   # https://hooks.slack.com/services/T.../B.../...
type SlackOptions struct {
	URL                outputs.Secret `yaml:"url"` // the incoming-webhook URL (it is a credential)
	CA                 string         `yaml:"ca"`
	InsecureSkipVerify bool           `yaml:"insecure_skip_verify"`
	Timeout            time.Duration  `yaml:"timeout"` // one request (default 15s)
}

// Slack posts alerts to a Slack incoming webhook: a JSON body with a
// plain-text fallback "text" and Block Kit "blocks" (a header with the
// title, a section with the alert lines in a code block).
type Slack struct {
	*dispatcher
	url    string
	client *http.Client
}

// NewSlack checks the options and returns the notifier.
func NewSlack(o SlackOptions, c Common) (*Slack, error) {
	if _, err := checkURL(o.URL.Value()); err != nil {
		return nil, fmt.Errorf("outputs.slack: %w", err)
	}
	cl, err := httpClient(o.CA, o.InsecureSkipVerify, o.Timeout)
	if err != nil {
		return nil, fmt.Errorf("outputs.slack: %w", err)
	}
	s := &Slack{url: o.URL.Value(), client: cl}
	s.dispatcher, err = newDispatcher("slack", c, s, false)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Slack's limits: header text 150 characters, section text 3000.
const (
	slackHeaderMax  = 150
	slackSectionMax = 3000
)

// slackEscape escapes the three characters Slack's mrkdwn reserves.
var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// slackCodeEscape is slackEscape for the inside of a code block: mrkdwn has
// no escape for a backtick, so each is fenced with zero-width spaces. A
// captured string (a URL, a DNS name) holding ``` would otherwise close
// the block, and what follows it would be formatted and its addresses
// made links in the analyst's channel.
var slackCodeEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "`", "\u200b`\u200b")

type slackText struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackPayload struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

func (s *Slack) send(ctx context.Context, r *Rendered) error {
	body := strings.TrimSpace(r.Text)
	sect := "```" + escapeTruncated(body, slackCodeEscape, slackSectionMax-6) + "```"
	p := slackPayload{
		Text: slackEscape.Replace(r.Title + "\n" + body),
		Blocks: []slackBlock{
			{Type: "header", Text: &slackText{Type: "plain_text", Text: truncate(r.Title, slackHeaderMax), Emoji: true}},
			{Type: "section", Text: &slackText{Type: "mrkdwn", Text: sect}},
		},
	}
	if r.Msg != nil && r.Msg.Sensor != "" {
		p.Blocks = append(p.Blocks, slackBlock{Type: "context", Elements: []slackText{{Type: "mrkdwn", Text: "PacketSleuth on " + slackEscape.Replace(r.Msg.Sensor)}}})
	}
	b, err := json.Marshal(p)
	if err != nil {
		return &PermanentError{err}
	}
	resp, err := post(ctx, s.client, s.url, "slack-webhook-url", b, nil)
	if err != nil {
		return err
	}
	return classify("slack", resp)
}

// Connect starts the grouping timer; nothing is dialled.
func (s *Slack) Connect(context.Context) error { s.connect(); return nil }

// Write sends (or groups) the alert records of batch; see the package comment.
func (s *Slack) Write(ctx context.Context, batch []schemas.Record) error { return s.write(ctx, batch) }

// Close sends what is pending.
func (s *Slack) Close(ctx context.Context) error {
	err := s.close(ctx)
	s.client.CloseIdleConnections()
	return err
}
