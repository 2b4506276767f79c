package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
)

func init() {
	outputs.Register("email", func(cfg outputs.SinkConfig) (outputs.Sink, error) {
		var o EmailOptions
		c, err := decodeOptions(cfg, &o)
		if err != nil {
			return nil, err
		}
		return NewEmail(o, c)
	}, EmailOptions{}, Common{})
}

// EmailOptions are the e-mail notifier's own keys.
//
//   - type: email
//     address: smtp.example.org:587
//     from: PacketSleuth <sensor@example.org>
//     to: [soc@example.org]
//     username: sensor
//     password: env:PS_SMTP_PASSWORD
//     starttls: required             # opportunistic (default), required, never
type EmailOptions struct {
	Address            string         `yaml:"address"` // host:port of the SMTP server
	From               string         `yaml:"from"`
	To                 []string       `yaml:"to"`
	Username           string         `yaml:"username"`
	Password           outputs.Secret `yaml:"password"`
	Auth               string         `yaml:"auth"`     // plain (default with a username), login, none
	StartTLS           string         `yaml:"starttls"` // opportunistic (default), required, never
	TLS                bool           `yaml:"tls"`      // implicit TLS from the first byte (SMTPS, port 465)
	CA                 string         `yaml:"ca"`
	InsecureSkipVerify bool           `yaml:"insecure_skip_verify"`
	ServerName         string         `yaml:"server_name"` // for certificate checks (default: the host of address)
	Hello              string         `yaml:"hello"`       // EHLO name (default: this machine's name)
	Timeout            time.Duration  `yaml:"timeout"`     // one whole SMTP session (default 30s)
}

// Email sends each message as a multipart/alternative (text/plain and
// text/html) RFC 5322 mail over SMTP with net/smtp: EHLO, STARTTLS when
// offered (or required), AUTH PLAIN or LOGIN, one session per message.
// SMTP 5xx answers to MAIL, RCPT or DATA are permanent; 4xx and network
// errors are retried.
type Email struct {
	*dispatcher
	o    EmailOptions
	host string
	from *mail.Address
	to   []*mail.Address
	tls  *tls.Config
}

// NewEmail checks the options and returns the notifier.
func NewEmail(o EmailOptions, c Common) (*Email, error) {
	var errs []error
	host, _, err := net.SplitHostPort(o.Address)
	if err != nil || host == "" {
		errs = append(errs, fmt.Errorf("outputs.email: address: %q is not host:port", o.Address))
	}
	e := &Email{o: o, host: host}
	if e.from, err = mail.ParseAddress(o.From); err != nil {
		errs = append(errs, fmt.Errorf("outputs.email: from: %w", err))
	}
	if len(o.To) == 0 {
		errs = append(errs, errors.New("outputs.email: to: must not be empty"))
	}
	for _, t := range o.To {
		a, err := mail.ParseAddress(t)
		if err != nil {
			errs = append(errs, fmt.Errorf("outputs.email: to: %q: %w", t, err))
			continue
		}
		e.to = append(e.to, a)
	}
	switch o.Auth {
	case "":
		if o.Username != "" {
			e.o.Auth = "plain"
		} else {
			e.o.Auth = "none"
		}
	case "plain", "login":
		if o.Username == "" {
			errs = append(errs, fmt.Errorf("outputs.email: auth: %s needs a username", o.Auth))
		}
	case "none":
	default:
		errs = append(errs, fmt.Errorf("outputs.email: auth: %q is not one of plain, login, none", o.Auth))
	}
	switch o.StartTLS {
	case "":
		e.o.StartTLS = "opportunistic"
	case "opportunistic", "required", "never":
	default:
		errs = append(errs, fmt.Errorf("outputs.email: starttls: %q is not one of opportunistic, required, never", o.StartTLS))
	}
	sn := o.ServerName
	if sn == "" {
		sn = host
	}
	if e.tls, err = tlsConfig(o.CA, o.InsecureSkipVerify, sn); err != nil {
		errs = append(errs, fmt.Errorf("outputs.email: %w", err))
	}
	if e.o.Hello == "" {
		e.o.Hello, _ = os.Hostname()
		if e.o.Hello == "" {
			e.o.Hello = "localhost"
		}
	}
	if e.o.Timeout <= 0 {
		e.o.Timeout = 30 * time.Second
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	e.dispatcher, err = newDispatcher("email", c, e, true)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// Connect starts the grouping timer; each message opens its own session.
func (e *Email) Connect(context.Context) error { e.connect(); return nil }

// Write sends (or groups) the alert records of batch; see the package comment.
func (e *Email) Write(ctx context.Context, batch []schemas.Record) error { return e.write(ctx, batch) }

// Close sends what is pending.
func (e *Email) Close(ctx context.Context) error { return e.close(ctx) }

func (e *Email) send(ctx context.Context, r *Rendered) error {
	msg, err := e.compose(r, time.Now())
	if err != nil {
		return &PermanentError{err}
	}
	return e.deliver(ctx, msg)
}

// compose builds the RFC 5322 message.
func (e *Email) compose(r *Rendered, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	var tos []string
	for _, t := range e.to {
		tos = append(tos, t.String())
	}
	id := make([]byte, 12)
	rand.Read(id)
	domain := e.from.Address[strings.LastIndexByte(e.from.Address, '@')+1:]
	subject := strings.NewReplacer("\r", " ", "\n", " ").Replace(truncate(r.Title, 250))
	mw := multipart.NewWriter(&b)
	hdr := []struct{ k, v string }{
		{"Date", now.Format(time.RFC1123Z)},
		{"Message-ID", "<" + hex.EncodeToString(id) + "." + fmt.Sprint(now.Unix()) + "@" + domain + ">"},
		{"From", e.from.String()},
		{"To", strings.Join(tos, ", ")},
		{"Subject", mime.QEncoding.Encode("utf-8", subject)},
		{"MIME-Version", "1.0"},
		{"Content-Type", `multipart/alternative; boundary="` + mw.Boundary() + `"`},
		{"X-Mailer", "PacketSleuth"},
	}
	if r.Msg != nil && r.Msg.RuleID != "" {
		hdr = append(hdr, struct{ k, v string }{"X-PacketSleuth-Rule", mime.QEncoding.Encode("utf-8", r.Msg.RuleID)})
	}
	var head bytes.Buffer
	for _, h := range hdr {
		head.WriteString(h.k + ": " + h.v + "\r\n")
	}
	head.WriteString("\r\n")
	for _, part := range []struct{ typ, body string }{{"text/plain", r.Text + "\n"}, {"text/html", r.HTML}} {
		if part.body == "" {
			continue
		}
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qw := quotedprintable.NewWriter(pw)
		if _, err := qw.Write([]byte(part.body)); err != nil {
			return nil, err
		}
		if err := qw.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return append(head.Bytes(), b.Bytes()...), nil
}

// deliver runs one SMTP session.
func (e *Email) deliver(ctx context.Context, msg []byte) (err error) {
	ctx, cancel := context.WithTimeout(ctx, e.o.Timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", e.o.Address)
	if err != nil {
		return fmt.Errorf("email: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if e.o.TLS {
		tc := tls.Client(conn, e.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return fmt.Errorf("email: tls: %w", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, e.host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("email: %w", err)
	}
	defer c.Close()
	step := func(what string, err error) error {
		if err == nil {
			return nil
		}
		err = fmt.Errorf("email: %s: %w", what, err)
		var te *textproto.Error
		if errors.As(err, &te) && te.Code >= 500 && what != "auth" {
			switch te.Code {
			case 530, 534, 538: // authentication or encryption needed: a config/server fix
				return err
			}
			return &PermanentError{err}
		}
		return err
	}
	if err := step("ehlo", c.Hello(e.o.Hello)); err != nil {
		return err
	}
	if !e.o.TLS && e.o.StartTLS != "never" {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := step("starttls", c.StartTLS(e.tls)); err != nil {
				return err
			}
		} else if e.o.StartTLS == "required" {
			return errors.New("email: the server does not offer STARTTLS (starttls: required)")
		}
	}
	if e.o.Auth != "none" {
		var a smtp.Auth
		if e.o.Auth == "login" {
			a = &loginAuth{user: e.o.Username, pass: e.o.Password.Value(), host: e.host}
		} else {
			a = smtp.PlainAuth("", e.o.Username, e.o.Password.Value(), e.host)
		}
		if err := step("auth", c.Auth(a)); err != nil {
			return err
		}
	}
	if err := step("mail from", c.Mail(e.from.Address)); err != nil {
		return err
	}
	for _, t := range e.to {
		if err := step("rcpt to "+t.Address, c.Rcpt(t.Address)); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err := step("data", err); err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return step("data", err)
	}
	if err := step("data", w.Close()); err != nil {
		return err
	}
	c.Quit()
	return nil
}

// loginAuth is the LOGIN SASL mechanism (draft-murchison-sasl-login): the
// server prompts "Username:" then "Password:". Like smtp.PlainAuth it sends
// credentials only over TLS or to localhost.
type loginAuth struct {
	user, pass, host string
}

func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !isLocalhost(server.Name) {
		return "", nil, errors.New("unencrypted connection")
	}
	if server.Name != a.host {
		return "", nil, errors.New("wrong host name")
	}
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch strings.ToLower(strings.TrimSpace(string(fromServer))) {
	case "username:", "user name", "username":
		return []byte(a.user), nil
	case "password:", "password":
		return []byte(a.pass), nil
	}
	return nil, fmt.Errorf("unexpected LOGIN prompt %q", fromServer)
}

func isLocalhost(name string) bool {
	return name == "localhost" || name == "127.0.0.1" || name == "::1"
}
