package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// Slack incoming webhooks take a POST of application/json with "text"
// (the notification fallback) and optional Block Kit "blocks"; they answer
// 200 "ok", or 429 with Retry-After when rate limited.
func TestSlackRequestShapeAndRetryAfter(t *testing.T) {
	srv := newRecorder(t, status(429, "rate_limited", "Retry-After", "1"), status(200, "ok"))
	s, err := NewSlack(SlackOptions{URL: outputs.Secret(srv.URL + "/services/T000/B000/XXXX")}, Common{})
	if err != nil {
		t.Fatal(err)
	}
	rec := alertRecord(t, "PS-NET-001", 73, "192.0.2.7", "attack.t1046")
	start := time.Now()
	if err := s.Write(context.Background(), []schemas.Record{flowRecord(t), rec}); err != nil {
		t.Fatal(err)
	}
	reqs := srv.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2 (429 then retry)", len(reqs))
	}
	if gap := reqs[1].At.Sub(reqs[0].At); gap < time.Second || time.Since(start) > 10*time.Second {
		t.Errorf("retried after %v, want >= Retry-After 1s", gap)
	}
	r := reqs[1]
	if r.Method != "POST" || r.Path != "/services/T000/B000/XXXX" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %s %q", r.Method, r.Path, r.Header.Get("Content-Type"))
	}
	var p struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
			Text struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"text"`
			Elements []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"elements"`
		} `json:"blocks"`
	}
	decodeJSON(t, r.Body, &p)
	if !strings.HasPrefix(p.Text, "[HIGH] PS-NET-001 Name of PS-NET-001\n") || !strings.Contains(p.Text, "192.0.2.7:40000 -&gt; 10.0.0.2:22") {
		t.Errorf("text %q", p.Text)
	}
	if len(p.Blocks) != 3 || p.Blocks[0].Type != "header" || p.Blocks[0].Text.Type != "plain_text" ||
		p.Blocks[1].Type != "section" || p.Blocks[1].Text.Type != "mrkdwn" || p.Blocks[2].Type != "context" {
		t.Fatalf("blocks %+v", p.Blocks)
	}
	if p.Blocks[0].Text.Text != "[HIGH] PS-NET-001 Name of PS-NET-001" || !strings.HasPrefix(p.Blocks[1].Text.Text, "```") ||
		!strings.Contains(p.Blocks[2].Elements[0].Text, "sensor-1") {
		t.Errorf("blocks %+v", p.Blocks)
	}
}

func TestSlackLimits(t *testing.T) {
	srv := newRecorder(t, status(200, "ok"))
	s, _ := NewSlack(SlackOptions{URL: outputs.Secret(srv.URL)}, Common{TitleTemplate: strings.Repeat("x", 400), TextTemplate: strings.Repeat("<y>", 2000)})
	if err := s.Write(context.Background(), []schemas.Record{alertRecord(t, "R", 21, "192.0.2.1")}); err != nil {
		t.Fatal(err)
	}
	var p slackPayload
	decodeJSON(t, srv.requests()[0].Body, &p)
	if n := len([]rune(p.Blocks[0].Text.Text)); n > slackHeaderMax {
		t.Errorf("header %d characters", n)
	}
	if n := len([]rune(p.Blocks[1].Text.Text)); n > slackSectionMax {
		t.Errorf("section %d characters", n)
	}
	if strings.Contains(p.Blocks[1].Text.Text, "<y>") {
		t.Error("mrkdwn not escaped")
	}
}

// The section is cut to Slack's limit after escaping, but never inside an
// escape: "&amp;" cut to "&am" would show as broken text.
func TestSlackCutKeepsEntitiesWhole(t *testing.T) {
	srv := newRecorder(t, status(200, "ok"))
	s, _ := NewSlack(SlackOptions{URL: outputs.Secret(srv.URL)}, Common{TextTemplate: strings.Repeat("&", 2000)})
	if err := s.Write(context.Background(), []schemas.Record{alertRecord(t, "R", 21, "192.0.2.1")}); err != nil {
		t.Fatal(err)
	}
	var p slackPayload
	decodeJSON(t, srv.requests()[0].Body, &p)
	sect := p.Blocks[1].Text.Text
	if n := len([]rune(sect)); n > slackSectionMax {
		t.Errorf("section %d characters", n)
	}
	body := strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(sect, "```"), "```"), "…")
	if rest := strings.ReplaceAll(body, "&amp;", ""); rest != "" {
		t.Errorf("section ends %q: %q is left besides whole entities", sect[max(0, len(sect)-20):], rest)
	}
}

// A failed request must not leak the webhook URL or the bot token.
func TestSecretsNotInErrors(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	s, _ := NewSlack(SlackOptions{URL: outputs.Secret("http://" + addr + "/services/SECRETPATH")}, Common{})
	tg, _ := NewTelegram(TelegramOptions{Token: "123:SECRETTOKEN", ChatID: "1", APIURL: "http://" + addr}, Common{})
	for _, n := range []interface {
		Write(context.Context, []schemas.Record) error
	}{s, tg} {
		err := n.Write(context.Background(), []schemas.Record{alertRecord(t, "R", 21, "192.0.2.1")})
		var be *outputs.BatchError
		if !errors.As(err, &be) || len(be.Failed) != 1 {
			t.Fatalf("err %v", err)
		}
		if msg := be.Reasons[0].Error(); strings.Contains(msg, "SECRET") {
			t.Errorf("secret in error: %s", msg)
		}
	}
}

// Telegram's sendMessage: POST /bot<token>/sendMessage with a JSON body
// (chat_id, text, parse_mode); the answer is {"ok":true,"result":{...}}, or
// {"ok":false,"error_code":429,"parameters":{"retry_after":N}} when flooded.
func TestTelegramRequestAndRetryAfter(t *testing.T) {
	flood := `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}`
	okAns := `{"ok":true,"result":{"message_id":42,"date":1700000000,"chat":{"id":-1001234567890,"type":"supergroup"},"text":"x"}}`
	srv := newRecorder(t, status(429, flood, "Content-Type", "application/json"), status(200, okAns, "Content-Type", "application/json"))
	tg, err := NewTelegram(TelegramOptions{Token: "123456:ABC-DEF", ChatID: "-1001234567890", APIURL: srv.URL}, Common{})
	if err != nil {
		t.Fatal(err)
	}
	rec := alertRecord(t, "PS-NET-001", 99, "192.0.2.7")
	// a name with markup characters must be escaped for parse_mode HTML
	rec2 := alertRecord(t, "PS-<b>&", 99, "192.0.2.7")
	if err := tg.Write(context.Background(), []schemas.Record{rec}); err != nil {
		t.Fatal(err)
	}
	reqs := srv.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	if gap := reqs[1].At.Sub(reqs[0].At); gap < time.Second {
		t.Errorf("retried after %v, want >= retry_after 1s", gap)
	}
	r := reqs[1]
	if r.Method != "POST" || r.Path != "/bot123456:ABC-DEF/sendMessage" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Errorf("request %s %s %q", r.Method, r.Path, r.Header.Get("Content-Type"))
	}
	var body map[string]any
	decodeJSON(t, r.Body, &body)
	if body["chat_id"] != float64(-1001234567890) || body["parse_mode"] != "HTML" {
		t.Errorf("body %v", body)
	}
	text, _ := body["text"].(string)
	if !strings.HasPrefix(text, "<b>[CRITICAL] PS-NET-001 Name of PS-NET-001</b>\n<pre>") || !strings.Contains(text, "192.0.2.7:40000 -&gt; 10.0.0.2:22") {
		t.Errorf("text %q", text)
	}
	if st := tg.Stats(); st.Messages != 1 || st.Failures != 1 {
		t.Errorf("stats %+v", st)
	}

	srv2 := newRecorder(t, status(200, okAns))
	tg2, _ := NewTelegram(TelegramOptions{Token: "t", ChatID: "@soc_channel", APIURL: srv2.URL, ParseMode: "none"}, Common{})
	if err := tg2.Write(context.Background(), []schemas.Record{rec2}); err != nil {
		t.Fatal(err)
	}
	body = nil
	decodeJSON(t, srv2.requests()[0].Body, &body)
	if body["chat_id"] != "@soc_channel" || body["parse_mode"] != nil || !strings.HasPrefix(body["text"].(string), "[CRITICAL] PS-<b>&") {
		t.Errorf("plain body %v", body)
	}
	tg3, _ := NewTelegram(TelegramOptions{Token: "t", ChatID: "1", APIURL: srv2.URL}, Common{})
	tg3.Write(context.Background(), []schemas.Record{rec2})
	body = nil
	decodeJSON(t, srv2.requests()[1].Body, &body)
	if !strings.HasPrefix(body["text"].(string), "<b>[CRITICAL] PS-&lt;b&gt;&amp; ") {
		t.Errorf("HTML not escaped: %q", body["text"])
	}
}

func TestTelegramErrors(t *testing.T) {
	for _, c := range []struct {
		code      int
		body      string
		permanent bool
	}{
		{400, `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`, true},
		{400, `{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-100999}}`, true},
		{401, `{"ok":false,"error_code":401,"description":"Unauthorized"}`, false},
		{502, `<html>bad gateway</html>`, false},
	} {
		srv := newRecorder(t, status(c.code, c.body))
		tg, _ := NewTelegram(TelegramOptions{Token: "t", ChatID: "1", APIURL: srv.URL}, Common{})
		err := tg.Write(context.Background(), []schemas.Record{alertRecord(t, "R", 21, "192.0.2.1")})
		var be *outputs.BatchError
		if !errors.As(err, &be) {
			t.Fatalf("%d: %v", c.code, err)
		}
		if got := len(be.Permanent) == 1; got != c.permanent {
			t.Errorf("%d %s: permanent %v, want %v (%v)", c.code, c.body, got, c.permanent, be.Reasons)
		}
	}
}

func TestWebhookSignature(t *testing.T) {
	srv := newRecorder(t, status(204, ""))
	w, err := NewWebhook(WebhookOptions{URL: outputs.Secret(srv.URL + "/hook"), Secret: "topsecret", Headers: map[string]string{"X-Tenant": "blue"}}, Common{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(context.Background(), []schemas.Record{alertRecord(t, "PS-NET-001", 73, "192.0.2.7")}); err != nil {
		t.Fatal(err)
	}
	r := srv.requests()[0]
	mac := hmac.New(sha256.New, []byte("topsecret"))
	mac.Write(r.Body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if got := r.Header.Get("X-PacketSleuth-Signature"); got != want {
		t.Errorf("signature %q, want %q", got, want)
	}
	if r.Header.Get("X-Tenant") != "blue" || r.Header.Get("Content-Type") != "application/json" || r.Path != "/hook" {
		t.Errorf("headers %v path %s", r.Header, r.Path)
	}
	var p WebhookPayload
	decodeJSON(t, r.Body, &p)
	if p.RuleID != "PS-NET-001" || p.Severity != "high" || p.Count != 1 || len(p.Alerts) != 1 || p.Title == "" {
		t.Errorf("payload %+v", p)
	}
	// without a secret there is no signature
	srv2 := newRecorder(t, status(200, ""))
	w2, _ := NewWebhook(WebhookOptions{URL: outputs.Secret(srv2.URL)}, Common{})
	w2.Write(context.Background(), []schemas.Record{alertRecord(t, "R", 21, "192.0.2.1")})
	if h := srv2.requests()[0].Header.Get(SignatureHeader); h != "" {
		t.Errorf("unsigned webhook sent %q", h)
	}
}

// A captured string holding ``` does not close the section's code block:
// the block's only fences are its own, and the text after the string is
// not mrkdwn (no formatting, no link).
func TestSlackCodeBlockHoldsBackticks(t *testing.T) {
	srv := newRecorder(t, status(200, "ok"))
	s, err := NewSlack(SlackOptions{URL: outputs.Secret(srv.URL)}, Common{})
	if err != nil {
		t.Fatal(err)
	}
	ev := &schemas.Event{Timestamp: t0}
	ev.Event = schemas.EventMeta{Kind: "alert", Dataset: schemas.DatasetAlert, Severity: 47}
	ev.Rule = schemas.Rule{ID: "R", Name: "r"}
	ev.URL.Original = "/a```\n*urgent* reset at http://evil.example/x ````"
	rec, err := schemas.NewRecord(ev)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(context.Background(), []schemas.Record{rec}); err != nil {
		t.Fatal(err)
	}
	var p slackPayload
	decodeJSON(t, srv.requests()[0].Body, &p)
	sect := p.Blocks[1].Text.Text
	if n := strings.Count(sect, "``"); n != 2 || !strings.HasPrefix(sect, "```") || !strings.HasSuffix(sect, "```") {
		t.Errorf("section %q: %d runs of backticks, want only the block's two fences", sect, n)
	}
	if shown := strings.ReplaceAll(sect, "\u200b", ""); !strings.Contains(shown, ev.URL.Original) {
		t.Errorf("section %q does not show the URL %q", sect, ev.URL.Original)
	}
}
