package smtp

import (
	"bytes"
	"fmt"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// Header is what the message's top-level header says.
type Header struct {
	From, To, Cc, ReplyTo []string // addresses (addr-spec), decoded
	Subject               string   // RFC 2047 words decoded
	MessageID             string
	Date                  string // as written
	XMailer               string // X-Mailer, or User-Agent
	Received              []string
	ContentType           string // the top-level media type
}

// Attachment is a MIME part with a file name or an attachment disposition.
type Attachment struct {
	Name     string // RFC 2231 and RFC 2047 decoded
	MimeType string // the declared Content-Type, lower case
	Encoding string // the Content-Transfer-Encoding, lower case
	Size     int64  // decoded bytes
	// Truncated: the part did not end (gap, end of data or connection).
	Truncated bool
}

// Bounds of the message reader.
const (
	maxField       = 8 << 10 // an unfolded header field; longer ones are cut
	maxFields      = 512     // header fields per entity; more are skipped
	maxDepth       = 8       // nested multiparts
	maxAttachments = 64      // per message
	maxReceived    = 32
	maxAddrs       = 256 // per address header
)

// message reads a message as a stream of lines: the top-level header and
// the MIME tree, without holding more than one header field.
type message struct {
	conn *Conn
	tx   *Transaction

	inHeader  bool
	top       bool // the entity is the message itself
	ended     bool
	field     parsers.Held // the header field being read (unfolded)
	cut       bool         // the field went over maxField
	fields    int
	bounds    []string // open multipart boundaries, innermost last
	ent       entity
	att       *Attachment      // the attachment being read, nil if none
	files     parsers.FileSink // the attachment's file (Config.Files)
	filesFull bool
	seq       uint64 // the message's number in the connection
	start     time.Time
	crlf      bool // a line end is pending in the body (it belongs to a boundary, if one follows)
	dec       decoder
	limited   bool
	rawMid    bool // BDAT: the last bytes ended inside a line
}

// entity is what the header of the current MIME entity declared.
type entity struct {
	mimeType, boundary, name, filename, disposition, encoding string
}

func (m *message) reset(tx *Transaction, seq uint64) {
	m.free()
	*m = message{conn: m.conn, tx: tx, inHeader: true, top: true, bounds: m.bounds[:0], seq: seq, start: tx.Start}
}

func (m *message) free() {
	m.field.Reset(m.conn.acct, -1)
}

// line takes a line of the message (or a piece of a long one), dot
// stuffing removed, with its line end.
func (m *message) line(b []byte, first, last bool) {
	if m.ended || m.tx == nil {
		return
	}
	text := b
	if last {
		text = bytes.TrimSuffix(bytes.TrimSuffix(text, []byte{'\n'}), []byte{'\r'})
	}
	if m.inHeader {
		m.headerLine(text, first, last)
		return
	}
	if first && last && m.boundary(text) {
		return
	}
	m.body(text, first, last)
}

// raw takes BDAT bytes, which carry their line ends and no dot stuffing.
func (m *message) raw(b []byte) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			m.line(b, !m.rawMid, false)
			m.rawMid = true
			return
		}
		m.line(b[:i+1], !m.rawMid, true)
		m.rawMid = false
		b = b[i+1:]
	}
}

func (m *message) headerLine(text []byte, first, last bool) {
	switch {
	case !first:
		m.appendField(text) // the rest of a long line
	case len(text) == 0 && last:
		m.flushField()
		m.startBody()
		return
	case text[0] == ' ' || text[0] == '\t':
		m.appendField(text) // folded: the field goes on
	default:
		m.flushField()
		if m.fields++; m.fields > maxFields {
			if m.fields == maxFields+1 {
				m.conn.note(fmt.Sprintf("smtp.header_fields: more than %d header fields; the rest are skipped", maxFields))
			}
			m.cut = true
			return
		}
		m.cut = false
		m.appendField(text)
	}
}

func (m *message) appendField(b []byte) {
	if m.cut {
		return
	}
	if len(m.field.B)+len(b) > maxField {
		m.cut = true
		m.conn.note(fmt.Sprintf("smtp.header_too_long: a header field longer than %d bytes was cut", maxField))
		b = b[:maxField-len(m.field.B)]
	}
	if !m.field.Append(m.conn.acct, b, maxField) {
		m.limited, m.cut = true, true
	}
}

// flushField handles the header field read so far.
func (m *message) flushField() {
	f := m.field.B
	m.field.B = f[:0]
	if len(f) == 0 {
		return
	}
	name, value, ok := bytes.Cut(f, []byte{':'})
	if !ok {
		return
	}
	name, value = bytes.TrimSpace(name), bytes.TrimSpace(value)
	switch {
	case eq(name, "Content-Type"):
		m.ent.mimeType, m.ent.boundary, m.ent.name = contentType(value)
	case eq(name, "Content-Disposition"):
		m.ent.disposition, m.ent.filename = disposition(value)
	case eq(name, "Content-Transfer-Encoding"):
		m.ent.encoding = string(bytes.ToLower(value))
	}
	if m.top {
		m.topField(name, value)
	}
}

func (m *message) topField(name, value []byte) {
	h := &m.tx.Header
	switch {
	case eq(name, "From"):
		h.From = addresses(value)
	case eq(name, "To"):
		h.To = addresses(value)
	case eq(name, "Cc"):
		h.Cc = addresses(value)
	case eq(name, "Reply-To"):
		h.ReplyTo = addresses(value)
	case eq(name, "Subject"):
		h.Subject = decodeWords(value)
	case eq(name, "Message-ID"):
		h.MessageID = clip(string(value))
	case eq(name, "Date"):
		h.Date = clip(string(value))
	case eq(name, "X-Mailer"), eq(name, "User-Agent") && h.XMailer == "":
		h.XMailer = clip(decodeWords(value))
	case eq(name, "Received"):
		if len(h.Received) < maxReceived {
			h.Received = append(h.Received, clip(string(value)))
		}
	case eq(name, "Content-Type"):
		h.ContentType = m.ent.mimeType
	}
}

// startBody begins the body of the current entity.
func (m *message) startBody() {
	m.inHeader, m.crlf = false, false
	e := &m.ent
	if e.boundary != "" && len(e.mimeType) > 10 && e.mimeType[:10] == "multipart/" {
		if len(m.bounds) >= maxDepth {
			m.conn.note(fmt.Sprintf("smtp.mime_depth: multiparts nested deeper than %d are not followed", maxDepth))
			return
		}
		m.bounds = append(m.bounds, e.boundary)
		return // the preamble is not a part
	}
	name := e.filename
	if name == "" {
		name = e.name
	}
	if name == "" && e.disposition != "attachment" {
		return
	}
	if len(m.tx.Attachments) >= maxAttachments {
		m.conn.note(fmt.Sprintf("smtp.attachments: more than %d attachments; the rest are not listed", maxAttachments))
		return
	}
	m.tx.Attachments = append(m.tx.Attachments, Attachment{Name: name, MimeType: e.mimeType, Encoding: e.encoding})
	m.att = &m.tx.Attachments[len(m.tx.Attachments)-1]
	m.dec = decoder{kind: decoderKind(e.encoding)}
	if f := m.conn.cfg.Files; f != nil {
		m.files = f.OpenFile(&parsers.FileInfo{
			Dir: parsers.ToServer, Tx: m.seq, Name: name, MimeType: e.mimeType, Size: -1, Part: "attachment", Time: m.start,
		})
	}
}

// boundary handles a delimiter line of an open multipart ("--b", or "--b--"
// for the last one); it reports false for any other line.
func (m *message) boundary(text []byte) bool {
	if len(m.bounds) == 0 || len(text) < 3 || text[0] != '-' || text[1] != '-' {
		return false
	}
	t := bytes.TrimRight(text[2:], " \t")
	for i := len(m.bounds) - 1; i >= 0; i-- {
		b := m.bounds[i]
		if !bytes.HasPrefix(t, []byte(b)) {
			continue
		}
		switch r := t[len(b):]; {
		case len(r) == 0:
			m.endPart(false)
			m.bounds = m.bounds[:i+1]
			m.inHeader, m.top, m.ent, m.fields = true, false, entity{}, 0
			return true
		case len(r) == 2 && r[0] == '-' && r[1] == '-':
			m.endPart(false)
			m.bounds = m.bounds[:i] // the epilogue follows: not a part
			return true
		}
	}
	return false
}

// body takes a line (or piece) of the current entity's body.
func (m *message) body(text []byte, first, last bool) {
	if m.att == nil {
		return
	}
	if first && m.crlf {
		m.crlf = false
		m.out(crlf)
	}
	m.dec.feed(m, text, last)
	if last && m.dec.kind != decBase64 && !m.dec.softBreak {
		m.crlf = true
	}
	m.dec.softBreak = false
}

var crlf = []byte("\r\n")

// out takes decoded bytes of the current attachment.
func (m *message) out(p []byte) {
	m.att.Size += int64(len(p))
	if m.files != nil && !m.filesFull {
		m.filesFull = !m.files.Write(p) // past the files layer's limit: only closed at the part's end
	}
}

// endPart closes the attachment being read.
func (m *message) endPart(truncated bool) {
	if m.att == nil {
		return
	}
	m.dec.flush(m)
	m.att.Truncated = truncated
	if m.files != nil {
		end := parsers.FileComplete
		if truncated {
			end = parsers.FileTruncated
		}
		m.files.Close(end, m.conn.now)
		m.files, m.filesFull = nil, false
	}
	m.att = nil
}

// gap: n bytes of the message were lost.
func (m *message) gap(n int) {
	if m.att != nil {
		m.att.Truncated = true
		if m.files != nil {
			m.files.Gap(int64(n))
		}
	}
	m.flushField()
	m.crlf = false
}

// end: the message is over ("." or BDAT LAST), or cut short.
func (m *message) end() {
	if m.ended {
		return
	}
	if m.inHeader {
		m.flushField()
	}
	m.endPart(len(m.bounds) > 0)
	m.ended = true
	m.free()
}

func eq(b []byte, s string) bool { return bytes.EqualFold(b, []byte(s)) }
