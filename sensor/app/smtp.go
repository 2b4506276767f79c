package app

import (
	"net/mail"
	"path"
	"strconv"
	"strings"
	"time"

	psmtp "github.com/packetsleuth/packetsleuth/parsers/smtp"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
)

var categoryEmail = []string{"network", "email"}

// emitSMTP maps a mail transaction (or a session without one) to an event
// of dataset packetsleuth.smtp.
func (st *state) emitSMTP(tx *psmtp.Transaction) {
	ev := st.a.newEvent(st, schemas.DatasetSMTP, tx.Start)
	ev.Event.Category = categoryEmail
	ev.Network.Protocol = "smtp"
	x := &ev.Sensor.SMTP
	x.Helo, x.Greeting = tx.Helo, tx.Greeting
	x.MailFrom, x.RcptTo, x.RcptCount = tx.MailFrom, tx.RcptTo, tx.RcptCount
	x.AuthMechanism, x.AuthOutcome, x.TLSStarted = tx.AuthMechanism, tx.AuthOutcome, tx.StartTLS
	for _, c := range tx.Codes {
		x.StatusCodes = append(x.StatusCodes, strconv.Itoa(c))
	}
	x.LastReply = tx.LastReply
	x.Received, x.Date = tx.Header.Received, tx.Header.Date
	x.Data, x.Delivered, x.DataBytes = tx.Data, tx.Delivered, tx.DataBytes
	if tx.AuthOutcome != "" {
		ev.Event.Outcome = tx.AuthOutcome
	}
	e := &ev.Email
	h := &tx.Header
	e.From.Address, e.To.Address, e.Cc.Address, e.ReplyTo.Address = h.From, h.To, h.Cc, h.ReplyTo
	e.Subject, e.MessageID, e.XMailer, e.ContentType = h.Subject, h.MessageID, h.XMailer, h.ContentType
	e.OriginationTimestamp = parseDate(h.Date)
	for i := range tx.Attachments {
		a := &tx.Attachments[i]
		e.Attachments = append(e.Attachments, schemas.EmailAttachment{File: schemas.EmailFile{
			Name: a.Name, Extension: extension(a.Name), MimeType: a.MimeType, Size: a.Size,
		}})
	}
	if tx.Helo != "" {
		ev.Related.Hosts = append(ev.Related.Hosts, tx.Helo)
	}
	ev.Sensor.Notes = tx.Notes
	ev.Sensor.HTTP.TunnelTarget = st.tunnel
	if tx.MemoryLimited {
		st.a.anom.Report(anomaly.MemoryLimit, st.f, st.f.Last(), "memory budget spent: SMTP lines or header fields read in pieces")
	}
	st.a.emit(ev)
}

// parseDate reads a Date header (RFC 5322); zero when it does not parse.
func parseDate(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := mail.ParseDate(s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// extension is a file name's extension, without the dot, lower case.
func extension(name string) string {
	ext := path.Ext(strings.ReplaceAll(name, `\`, "/"))
	if len(ext) < 2 || len(ext) > 16 {
		return ""
	}
	return strings.ToLower(ext[1:])
}
