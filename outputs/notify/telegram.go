package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
)

func init() {
	outputs.Register("telegram", func(cfg outputs.SinkConfig) (outputs.Sink, error) {
		var o TelegramOptions
		c, err := decodeOptions(cfg, &o)
		if err != nil {
			return nil, err
		}
		return NewTelegram(o, c)
	}, TelegramOptions{}, Common{})
}

// TelegramOptions are the Telegram notifier's own keys.
//
//   - type: telegram
//     token: file:/etc/packetsleuth/telegram-token
//     chat_id: "-1001234567890"      # or @channelname
type TelegramOptions struct {
	Token               outputs.Secret `yaml:"token"`   // the bot token
	ChatID              string         `yaml:"chat_id"` // numeric id or @channel
	MessageThreadID     int            `yaml:"message_thread_id"`
	ParseMode           string         `yaml:"parse_mode"` // HTML (default) or none
	DisableNotification bool           `yaml:"disable_notification"`
	APIURL              string         `yaml:"api_url"` // default https://api.telegram.org
	CA                  string         `yaml:"ca"`
	InsecureSkipVerify  bool           `yaml:"insecure_skip_verify"`
	Timeout             time.Duration  `yaml:"timeout"`
}

// DefaultTelegramAPI is the Bot API's base URL.
const DefaultTelegramAPI = "https://api.telegram.org"

// Telegram sends alerts with the Bot API's sendMessage method: a POST of a
// JSON body to <api_url>/bot<token>/sendMessage. An answer
// {"ok":false,"error_code":429,"parameters":{"retry_after":N}} is sent
// again after N seconds; error 400 (bad chat id or markup) is permanent.
type Telegram struct {
	*dispatcher
	o      TelegramOptions
	url    string
	redact string
	client *http.Client
	chat   any // int64 or string
}

// NewTelegram checks the options and returns the notifier.
func NewTelegram(o TelegramOptions, c Common) (*Telegram, error) {
	if o.Token.Value() == "" {
		return nil, fmt.Errorf("outputs.telegram: token: must not be empty")
	}
	if o.ChatID == "" {
		return nil, fmt.Errorf("outputs.telegram: chat_id: must not be empty")
	}
	switch strings.ToLower(o.ParseMode) {
	case "":
		o.ParseMode = "HTML"
	case "html":
		o.ParseMode = "HTML"
	case "none":
		o.ParseMode = ""
	default:
		return nil, fmt.Errorf("outputs.telegram: parse_mode: %q is not HTML or none", o.ParseMode)
	}
	if o.APIURL == "" {
		o.APIURL = DefaultTelegramAPI
	}
	if _, err := checkURL(o.APIURL); err != nil {
		return nil, fmt.Errorf("outputs.telegram: api_url: %w", err)
	}
	cl, err := httpClient(o.CA, o.InsecureSkipVerify, o.Timeout)
	if err != nil {
		return nil, fmt.Errorf("outputs.telegram: %w", err)
	}
	base := strings.TrimRight(o.APIURL, "/")
	t := &Telegram{o: o, client: cl, url: base + "/bot" + o.Token.Value() + "/sendMessage",
		redact: base + "/bot<secret>/sendMessage", chat: o.ChatID}
	if n, err := strconv.ParseInt(o.ChatID, 10, 64); err == nil {
		t.chat = n
	}
	t.dispatcher, err = newDispatcher("telegram", c, t, false)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// telegramMax is sendMessage's text limit (characters after entity parsing).
const telegramMax = 4096

type telegramLinkPreview struct {
	IsDisabled bool `json:"is_disabled"`
}

type telegramRequest struct {
	ChatID              any                  `json:"chat_id"`
	MessageThreadID     int                  `json:"message_thread_id,omitempty"`
	Text                string               `json:"text"`
	ParseMode           string               `json:"parse_mode,omitempty"`
	LinkPreview         *telegramLinkPreview `json:"link_preview_options,omitempty"`
	DisableNotification bool                 `json:"disable_notification,omitempty"`
}

type telegramResponse struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter      int   `json:"retry_after"`
		MigrateToChatID int64 `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

func (t *Telegram) text(r *Rendered) string {
	room := telegramMax - len([]rune(r.Title)) - 2
	body := truncate(r.Text, max(room, 100))
	if t.o.ParseMode == "" {
		return r.Title + "\n\n" + body
	}
	return "<b>" + html.EscapeString(r.Title) + "</b>\n<pre>" + html.EscapeString(body) + "</pre>"
}

func (t *Telegram) send(ctx context.Context, r *Rendered) error {
	req := telegramRequest{ChatID: t.chat, MessageThreadID: t.o.MessageThreadID, Text: t.text(r), ParseMode: t.o.ParseMode,
		LinkPreview: &telegramLinkPreview{IsDisabled: true}, DisableNotification: t.o.DisableNotification}
	b, err := json.Marshal(req)
	if err != nil {
		return &PermanentError{err}
	}
	resp, err := post(ctx, t.client, t.url, t.redact, b, nil)
	if err != nil {
		return err
	}
	var tr telegramResponse
	if json.Unmarshal(resp.body, &tr) != nil {
		if err := classify("telegram", resp); err != nil {
			return err
		}
		return fmt.Errorf("telegram: HTTP %d with an answer that is not JSON", resp.status)
	}
	if tr.OK {
		return nil
	}
	code := tr.ErrorCode
	if code == 0 {
		code = resp.status
	}
	e := fmt.Errorf("telegram: error %d: %s", code, tr.Description)
	switch {
	case tr.Parameters.RetryAfter > 0:
		return &RetryAfterError{Delay: time.Duration(tr.Parameters.RetryAfter) * time.Second, Err: e}
	case tr.Parameters.MigrateToChatID != 0:
		return &PermanentError{fmt.Errorf("%w (the group moved: set chat_id: %d)", e, tr.Parameters.MigrateToChatID)}
	case code == http.StatusBadRequest:
		return &PermanentError{e}
	}
	return e
}

// Connect starts the grouping timer; nothing is dialled.
func (t *Telegram) Connect(context.Context) error { t.connect(); return nil }

// Write sends (or groups) the alert records of batch; see the package comment.
func (t *Telegram) Write(ctx context.Context, batch []schemas.Record) error {
	return t.write(ctx, batch)
}

// Close sends what is pending.
func (t *Telegram) Close(ctx context.Context) error {
	err := t.close(ctx)
	t.client.CloseIdleConnections()
	return err
}
