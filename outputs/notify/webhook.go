package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
)

func init() {
	outputs.Register("webhook", func(cfg outputs.SinkConfig) (outputs.Sink, error) {
		var o WebhookOptions
		c, err := decodeOptions(cfg, &o)
		if err != nil {
			return nil, err
		}
		return NewWebhook(o, c)
	}, WebhookOptions{}, Common{})
}

// WebhookOptions are the generic webhook's own keys.
//
//   - type: webhook
//     url: https://soar.example.org/hooks/packetsleuth
//     secret: env:PS_WEBHOOK_SECRET   # signs the body (optional)
//     headers: {X-Tenant: blue}
type WebhookOptions struct {
	URL                outputs.Secret    `yaml:"url"`
	Secret             outputs.Secret    `yaml:"secret"`
	Headers            map[string]string `yaml:"headers"`
	CA                 string            `yaml:"ca"`
	InsecureSkipVerify bool              `yaml:"insecure_skip_verify"`
	Timeout            time.Duration     `yaml:"timeout"`
}

// SignatureHeader carries "sha256=<hex>": the HMAC-SHA256 of the request
// body keyed with the webhook's secret.
const SignatureHeader = "X-PacketSleuth-Signature"

// WebhookPayload is the JSON body a webhook receives, one per message.
type WebhookPayload struct {
	Title    string            `json:"title"`
	Text     string            `json:"text"`
	RuleID   string            `json:"rule_id"`
	RuleName string            `json:"rule_name,omitempty"`
	Severity string            `json:"severity"`
	Count    int               `json:"count"`
	Window   string            `json:"window,omitempty"`
	First    time.Time         `json:"first"`
	Last     time.Time         `json:"last"`
	Alerts   []json.RawMessage `json:"alerts"` // the ECS alert documents (at most max_alerts)
}

// Webhook POSTs a WebhookPayload as JSON, signed when a secret is set.
type Webhook struct {
	*dispatcher
	url     string
	secret  []byte
	headers map[string]string
	client  *http.Client
}

// NewWebhook checks the options and returns the notifier.
func NewWebhook(o WebhookOptions, c Common) (*Webhook, error) {
	if _, err := checkURL(o.URL.Value()); err != nil {
		return nil, fmt.Errorf("outputs.webhook: %w", err)
	}
	cl, err := httpClient(o.CA, o.InsecureSkipVerify, o.Timeout)
	if err != nil {
		return nil, fmt.Errorf("outputs.webhook: %w", err)
	}
	w := &Webhook{url: o.URL.Value(), secret: []byte(o.Secret.Value()), headers: o.Headers, client: cl}
	w.dispatcher, err = newDispatcher("webhook", c, w, false)
	if err != nil {
		return nil, err
	}
	return w, nil
}

// Sign returns the SignatureHeader value of body under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func (w *Webhook) send(ctx context.Context, r *Rendered) error {
	m := r.Msg
	p := WebhookPayload{Title: r.Title, Text: r.Text, RuleID: m.RuleID, RuleName: m.RuleName, Severity: m.Severity,
		Count: m.Count, Window: m.Window, First: m.First, Last: m.Last}
	for _, a := range m.Alerts {
		p.Alerts = append(p.Alerts, a.JSON)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return &PermanentError{err}
	}
	hdr := map[string]string{}
	for k, v := range w.headers {
		hdr[k] = v
	}
	if len(w.secret) > 0 {
		hdr[SignatureHeader] = Sign(w.secret, b)
	}
	resp, err := post(ctx, w.client, w.url, "webhook-url", b, hdr)
	if err != nil {
		return err
	}
	return classify("webhook", resp)
}

// Connect starts the grouping timer; nothing is dialled.
func (w *Webhook) Connect(context.Context) error { w.connect(); return nil }

// Write sends (or groups) the alert records of batch; see the package comment.
func (w *Webhook) Write(ctx context.Context, batch []schemas.Record) error {
	return w.write(ctx, batch)
}

// Close sends what is pending.
func (w *Webhook) Close(ctx context.Context) error {
	err := w.close(ctx)
	w.client.CloseIdleConnections()
	return err
}
