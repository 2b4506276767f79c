package notify

// The Mailpit tests need ../../../shared/services/start-mailpit.sh and skip
// without it:
//
//	eval "$(../../../shared/services/start-mailpit.sh)"; go test ./outputs/notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
)

func TestEmailCompose(t *testing.T) {
	e, err := NewEmail(EmailOptions{Address: "127.0.0.1:25", From: "PacketSleuth <sensor@example.org>", To: []string{"soc@example.org", "Ops Team <ops@example.org>"}}, Common{})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := ParseAlert(alertRecord(t, "PS-NET-001", 73, "192.0.2.7"))
	a.RuleName = "Scan über alles" // non-ASCII subject
	m := &Message{RuleID: a.RuleID, RuleName: a.RuleName, Severity: "high", Count: 1, Alerts: []Alert{a}}
	r, err := e.tpl.render(m)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	raw, err := e.compose(&r, now)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ReplaceAll(string(raw), "\r\n", ""), "\n") {
		t.Error("bare LF in the message")
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	dec := new(mime.WordDecoder)
	subj, err := dec.DecodeHeader(h.Get("Subject"))
	if err != nil || subj != "[HIGH] PS-NET-001 Scan über alles" {
		t.Errorf("subject %q %v", subj, err)
	}
	if d, err := h.Date(); err != nil || !d.Equal(now) {
		t.Errorf("date %v %v", d, err)
	}
	if id := h.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.org>") {
		t.Errorf("Message-ID %q", id)
	}
	if from, err := h.AddressList("From"); err != nil || from[0].Address != "sensor@example.org" || from[0].Name != "PacketSleuth" {
		t.Errorf("from %v %v", from, err)
	}
	if to, err := h.AddressList("To"); err != nil || len(to) != 2 || to[1].Name != "Ops Team" {
		t.Errorf("to %v %v", to, err)
	}
	if h.Get("MIME-Version") != "1.0" {
		t.Error("no MIME-Version")
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content type %q", h.Get("Content-Type"))
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var types []string
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if err != nil {
			break
		}
		b, _ := io.ReadAll(p)
		ct := p.Header.Get("Content-Type")
		types = append(types, ct)
		if strings.HasPrefix(ct, "text/plain") && !strings.Contains(string(b), "192.0.2.7:40000 -> 10.0.0.2:22") {
			t.Errorf("text part:\n%s", b)
		}
		if strings.HasPrefix(ct, "text/html") && !strings.Contains(string(b), "<td>192.0.2.7:40000</td>") {
			t.Errorf("html part:\n%s", b)
		}
	}
	if len(types) != 2 || types[0] != "text/plain; charset=utf-8" || types[1] != "text/html; charset=utf-8" {
		t.Errorf("parts %v", types)
	}
}

// mailpitMessage is what GET /api/v1/message/{ID} returns (the parts used).
type mailpitMessage struct {
	ID        string
	MessageID string
	From      struct{ Name, Address string }
	To        []struct{ Name, Address string }
	Subject   string
	Text      string
	HTML      string
}

func mailpitFind(t *testing.T, api, subject string) mailpitMessage {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var list struct {
			Messages []struct{ ID, Subject string } `json:"messages"`
		}
		resp, err := http.Get(api + "/api/v1/search?query=" + url.QueryEscape(`subject:"`+subject+`"`))
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		for _, m := range list.Messages {
			if m.Subject == subject {
				var full mailpitMessage
				resp, err := http.Get(api + "/api/v1/message/" + m.ID)
				if err != nil {
					t.Fatal(err)
				}
				json.NewDecoder(resp.Body).Decode(&full)
				resp.Body.Close()
				return full
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no message with subject %q in %s", subject, api)
	return mailpitMessage{}
}

func TestEmailMailpit(t *testing.T) {
	plain, plainAPI := os.Getenv("PS_TEST_SMTP"), os.Getenv("PS_TEST_SMTP_API")
	tlsAddr, tlsAPI, ca := os.Getenv("PS_TEST_SMTP_STARTTLS"), os.Getenv("PS_TEST_SMTP_STARTTLS_API"), os.Getenv("PS_TEST_CA")
	if plain == "" || plainAPI == "" {
		t.Skip("PS_TEST_SMTP not set (run ../../../shared/services/start-mailpit.sh)")
	}
	run := fmt.Sprint(time.Now().UnixNano())
	cases := []struct {
		name, api string
		o         EmailOptions
	}{
		{"plain", plainAPI, EmailOptions{Address: plain, StartTLS: "never"}},
		{"plain-auth", plainAPI, EmailOptions{Address: plain, Username: "sensor", Password: "pw", StartTLS: "never"}},
	}
	if tlsAddr != "" && ca != "" {
		cases = append(cases,
			struct {
				name, api string
				o         EmailOptions
			}{"starttls-plain", tlsAPI, EmailOptions{Address: tlsAddr, StartTLS: "required", CA: ca, Username: "sensor", Password: "pw", Auth: "plain", ServerName: "localhost"}},
			struct {
				name, api string
				o         EmailOptions
			}{"starttls-login", tlsAPI, EmailOptions{Address: tlsAddr, StartTLS: "required", CA: ca, Username: "sensor", Password: "pw", Auth: "login", ServerName: "localhost"}},
		)
	} else {
		t.Log("PS_TEST_SMTP_STARTTLS or PS_TEST_CA not set: STARTTLS cases skipped")
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := c.o
			o.From = "PacketSleuth Sensor <sensor@packetsleuth.test>"
			o.To = []string{"soc@example.test", "oncall@example.test"}
			subject := "PS " + c.name + " " + run
			e, err := NewEmail(o, Common{TitleTemplate: subject + " {{.RuleID}}", GroupWindow: 0})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Connect(context.Background()); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := e.Write(ctx, []schemas.Record{alertRecord(t, "PS-NET-001", 73, "192.0.2.7")}); err != nil {
				t.Fatal(err)
			}
			if err := e.Close(ctx); err != nil {
				t.Fatal(err)
			}
			m := mailpitFind(t, c.api, subject+" PS-NET-001")
			if m.From.Address != "sensor@packetsleuth.test" || m.From.Name != "PacketSleuth Sensor" {
				t.Errorf("from %+v", m.From)
			}
			if len(m.To) != 2 || m.To[0].Address != "soc@example.test" || m.To[1].Address != "oncall@example.test" {
				t.Errorf("to %+v", m.To)
			}
			if !strings.Contains(m.Text, "high PS-NET-001 192.0.2.7:40000 -> 10.0.0.2:22 (tcp)") {
				t.Errorf("text %q", m.Text)
			}
			if !strings.Contains(m.HTML, "<td>192.0.2.7:40000</td>") {
				t.Errorf("html %q", m.HTML)
			}
			if !strings.Contains(m.MessageID, "@packetsleuth.test") {
				t.Errorf("message id %q", m.MessageID)
			}
		})
	}
	if tlsAddr != "" {
		t.Run("starttls-required-refused-without-ca", func(t *testing.T) {
			e, err := NewEmail(EmailOptions{Address: tlsAddr, From: "a@packetsleuth.test", To: []string{"b@example.test"}, StartTLS: "required"}, Common{})
			if err != nil {
				t.Fatal(err)
			}
			err = e.Write(context.Background(), []schemas.Record{alertRecord(t, "R", 21, "192.0.2.1")})
			var be *outputs.BatchError
			if !errors.As(err, &be) || len(be.Failed) != 1 {
				t.Errorf("an untrusted certificate was accepted: %v", err)
			}
		})
	}
}

// Mailpit's chaos API makes RCPT answer 451 (transient): the records are
// retryable, not rejected.
func TestEmailTransientRcpt(t *testing.T) {
	plain, api := os.Getenv("PS_TEST_SMTP"), os.Getenv("PS_TEST_SMTP_API")
	if plain == "" || api == "" {
		t.Skip("PS_TEST_SMTP not set")
	}
	if !chaos(t, api, `{"Recipient":{"ErrorCode":451,"Probability":100}}`) {
		t.Skip("Mailpit chaos API not enabled")
	}
	defer chaos(t, api, `{"Recipient":{"ErrorCode":451,"Probability":0}}`)
	e, _ := NewEmail(EmailOptions{Address: plain, From: "a@packetsleuth.test", To: []string{"b@example.test"}}, Common{})
	err := e.Write(context.Background(), []schemas.Record{alertRecord(t, "R", 21, "192.0.2.1")})
	var be *outputs.BatchError
	if !errors.As(err, &be) || len(be.Failed) != 1 || len(be.Permanent) != 0 || !strings.Contains(be.Reasons[0].Error(), "451") {
		t.Errorf("451: %v", err)
	}
	chaos(t, api, `{"Recipient":{"ErrorCode":550,"Probability":100}}`)
	err = e.Write(context.Background(), []schemas.Record{alertRecord(t, "R", 21, "192.0.2.1")})
	if !errors.As(err, &be) || len(be.Permanent) != 1 {
		t.Errorf("550: %v", err)
	}
}

func chaos(t *testing.T, api, body string) bool {
	req, _ := http.NewRequest(http.MethodPut, api+"/api/v1/chaos", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}
