// Package sip parses SIP messages (RFC 3261): the start line and the
// headers a sensor reports (From, To, Call-ID, CSeq, Via, Contact,
// User-Agent, Server, Content-Type, Content-Length), compact forms
// included. Over UDP a datagram holds one message; over TCP Conn frames
// the stream by Content-Length. Parse fills a caller-owned Message whose
// fields are sub-slices of the input: it allocates nothing.
package sip

import (
	"bytes"
	"errors"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// Bounds: a start line and a whole message (headers and body) the parser
// holds or accepts.
const (
	maxLine    = 1024
	maxMessage = 64 << 10
)

// Message is one SIP message; byte fields point into the input.
type Message struct {
	Method, URI     []byte // requests
	Status          int    // responses
	Reason          []byte
	From, To        []byte // the header values
	CallID, CSeq    []byte
	Via, Contact    []byte // the first of each
	UserAgent       []byte
	Server          []byte
	ContentType     []byte
	ContentLength   int
	HasLength       bool
	Len             int // bytes of the message: headers, blank line and body
	TruncatedBody   bool
	RepeatedHeaders bool // a single-valued header came twice (the first is kept)
}

// Errors.
var (
	ErrIncomplete = errors.New("sip: message not whole yet")
	ErrNotSIP     = errors.New("sip: not a SIP message")
)

var methods = [...]string{"INVITE", "REGISTER", "OPTIONS", "ACK", "BYE", "CANCEL", "SUBSCRIBE", "NOTIFY",
	"MESSAGE", "INFO", "PRACK", "UPDATE", "REFER", "PUBLISH"}

// methodsSP are the methods followed by the space of a request line (Sniff
// runs on the first bytes of every stream: no concatenation per call).
var methodsSP = func() (sp [len(methods)]string) {
	for i, m := range methods {
		sp[i] = m + " "
	}
	return sp
}()

// Sniff tells whether b starts a SIP message: a request line with a known
// method, a sip:/sips:/tel: URI and SIP/2.0, or a status line SIP/2.0
// with a three-digit code. It answers More until the first line ends (at
// most maxLine bytes); isRequest says which.
func Sniff(b []byte) (isRequest bool, v parsers.Verdict) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		if len(b) >= maxLine {
			return false, parsers.No
		}
		return sniffLine(b, false)
	}
	return sniffLine(trimCR(b[:i]), true)
}

// sniffLine judges a first line; whole says whether it ended.
func sniffLine(line []byte, whole bool) (isRequest bool, v parsers.Verdict) {
	const status = "SIP/2.0 "
	if n := min(len(line), len(status)); string(line[:n]) == status[:n] {
		switch {
		case n < len(status) || len(line) < len(status)+3:
			return false, undecided(whole)
		case !digits(line[8:11]) || (len(line) > 11 && line[11] != ' '):
			return false, parsers.No
		}
		return false, decided(whole)
	}
	for i, m := range methods {
		n := min(len(line), len(m)+1)
		if string(line[:n]) != methodsSP[i][:n] {
			continue
		}
		if n < len(m)+1 {
			return true, undecided(whole)
		}
		if !whole {
			// HTTP shares OPTIONS: its URI never starts as a SIP one.
			if u := line[n:]; !uriPrefix(u, "sip:") && !uriPrefix(u, "sips:") && !uriPrefix(u, "tel:") {
				return true, parsers.No
			}
			return true, parsers.More
		}
		sp := bytes.LastIndexByte(line, ' ')
		uri := line[len(m)+1 : max(sp, len(m)+1)]
		if string(line[sp+1:]) != "SIP/2.0" || !(bytes.HasPrefix(uri, []byte("sip:")) || bytes.HasPrefix(uri, []byte("sips:")) || bytes.HasPrefix(uri, []byte("tel:"))) {
			return true, parsers.No
		}
		return true, parsers.Yes
	}
	return false, parsers.No
}

// uriPrefix says whether u and scheme agree on their common length.
func uriPrefix(u []byte, scheme string) bool {
	n := min(len(u), len(scheme))
	return bytes.EqualFold(u[:n], []byte(scheme[:n]))
}

// undecided: a prefix that may still become a SIP line, unless the line ended.
func undecided(whole bool) parsers.Verdict {
	if whole {
		return parsers.No
	}
	return parsers.More
}

// decided: a status line is SIP once it has ended.
func decided(whole bool) parsers.Verdict {
	if whole {
		return parsers.Yes
	}
	return parsers.More
}

func digits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// Parse reads the message at the start of b into m (reset first). With
// datagram set, b is the whole message (its body may be cut: marked);
// otherwise a message whose headers or body have not all arrived is
// ErrIncomplete.
func Parse(b []byte, datagram bool, m *Message) error {
	*m = Message{}
	end := bytes.Index(b, []byte("\r\n\r\n"))
	sep := 4
	if end < 0 {
		if end = bytes.Index(b, []byte("\n\n")); end >= 0 {
			sep = 2
		}
	}
	switch {
	case end >= 0:
	case datagram:
		end, sep = len(b), 0 // a datagram without a blank line: headers to its end
	case len(b) < maxMessage:
		return ErrIncomplete
	default:
		return ErrNotSIP // headers longer than any message held
	}
	head := b[:end]
	nl := bytes.IndexByte(head, '\n')
	if nl < 0 {
		nl = len(head)
	}
	if err := m.startLine(trimCR(head[:nl])); err != nil {
		return err
	}
	for rest := head[min(nl+1, len(head)):]; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			i = len(rest)
		}
		m.header(trimCR(rest[:i]))
		rest = rest[min(i+1, len(rest)):]
	}
	m.Len = end + sep
	if m.HasLength {
		switch {
		case m.ContentLength > maxMessage:
			return ErrNotSIP
		case m.Len+m.ContentLength <= len(b):
			m.Len += m.ContentLength
		case datagram:
			m.TruncatedBody, m.Len = true, len(b)
		default:
			return ErrIncomplete
		}
	} else if datagram {
		m.Len = len(b) // RFC 3261 §18.3: over UDP the body runs to the end
	}
	return nil
}

func (m *Message) startLine(l []byte) error {
	if _, v := sniffLine(l, true); v != parsers.Yes {
		return ErrNotSIP
	}
	if bytes.HasPrefix(l, []byte("SIP/2.0 ")) {
		c := l[8:11]
		m.Status = int(c[0]-'0')*100 + int(c[1]-'0')*10 + int(c[2]-'0')
		if len(l) > 12 {
			m.Reason = l[12:]
		}
		return nil
	}
	sp := bytes.IndexByte(l, ' ')
	last := bytes.LastIndexByte(l, ' ')
	m.Method, m.URI = l[:sp], l[sp+1:last]
	return nil
}

// header reads one header line (folded continuation lines are skipped).
func (m *Message) header(l []byte) {
	if len(l) == 0 || l[0] == ' ' || l[0] == '\t' {
		return
	}
	c := bytes.IndexByte(l, ':')
	if c <= 0 {
		return
	}
	name, v := bytes.TrimSpace(l[:c]), bytes.TrimSpace(l[c+1:])
	var dst *[]byte
	switch {
	case eq(name, "From", "f"):
		dst = &m.From
	case eq(name, "To", "t"):
		dst = &m.To
	case eq(name, "Call-ID", "i"):
		dst = &m.CallID
	case eq(name, "CSeq", ""):
		dst = &m.CSeq
	case eq(name, "Via", "v"):
		if m.Via == nil {
			m.Via = v
		}
		return
	case eq(name, "Contact", "m"):
		if m.Contact == nil {
			m.Contact = v
		}
		return
	case eq(name, "User-Agent", ""):
		dst = &m.UserAgent
	case eq(name, "Server", ""):
		dst = &m.Server
	case eq(name, "Content-Type", "c"):
		dst = &m.ContentType
	case eq(name, "Content-Length", "l"):
		if m.HasLength {
			m.RepeatedHeaders = true
			return
		}
		n, ok := atoi(v)
		if ok {
			m.ContentLength, m.HasLength = n, true
		}
		return
	default:
		return
	}
	if *dst != nil {
		m.RepeatedHeaders = true
		return
	}
	*dst = v
}

func eq(name []byte, long, short string) bool {
	return bytes.EqualFold(name, []byte(long)) || (short != "" && len(name) == 1 && (name[0]|0x20) == short[0])
}

func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func trimCR(b []byte) []byte { return bytes.TrimSuffix(b, []byte{'\r'}) }

// Addr is the address of a From, To or Contact value: what is inside
// <...> when there are angle brackets, else the value up to its first
// ';' (header parameters such as tag).
func Addr(v []byte) []byte {
	if i := bytes.IndexByte(v, '<'); i >= 0 {
		if j := bytes.IndexByte(v[i:], '>'); j > 0 {
			return v[i+1 : i+j]
		}
	}
	if i := bytes.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	return bytes.TrimSpace(v)
}

// CSeqMethod is the method of a CSeq value ("1 INVITE" → INVITE).
func CSeqMethod(v []byte) []byte {
	if i := bytes.LastIndexByte(v, ' '); i >= 0 {
		return v[i+1:]
	}
	return nil
}

// Conn frames the SIP messages of a TCP stream and hands each to emit
// (with its direction and time; the message is valid during the call only).
type Conn struct {
	emit func(parsers.Dir, *Message, time.Time)
	acct *budget.Account
	buf  [2]parsers.Held
	msg  Message
	dead [2]bool
	// Errors counts messages that did not parse (the direction then stops).
	Errors int
	// Limited: the memory budget refused to hold a message split across segments.
	Limited bool
}

// NewConn returns a TCP SIP parser; held bytes are paid from acct.
func NewConn(acct *budget.Account, emit func(parsers.Dir, *Message, time.Time)) *Conn {
	return &Conn{emit: emit, acct: acct}
}

func (c *Conn) Data(d parsers.Dir, b []byte, ts time.Time) error {
	if c.dead[d] {
		return nil
	}
	if len(c.buf[d].B) > 0 {
		if !c.hold(d, b) {
			return nil
		}
		b = c.buf[d].B
	}
	for len(b) > 0 {
		// Keep-alives (CRLF) between messages (RFC 5626 §3.5.1).
		if b[0] == '\r' || b[0] == '\n' {
			b = b[1:]
			continue
		}
		err := Parse(b, false, &c.msg)
		if err == ErrIncomplete {
			break
		}
		if err != nil {
			c.Errors++
			c.dead[d] = true
			c.buf[d].B = c.buf[d].B[:0]
			return err
		}
		c.emit(d, &c.msg, ts)
		b = b[c.msg.Len:]
	}
	if len(c.buf[d].B) > 0 {
		c.buf[d].B = append(c.buf[d].B[:0], b...) // the rest moves to the front
	} else if len(b) > 0 {
		c.hold(d, b)
	}
	return nil
}

// hold appends b to the direction's buffer, paid from the budget; false
// (the direction stops) when the budget refuses or the message exceeds
// maxMessage.
func (c *Conn) hold(d parsers.Dir, b []byte) bool {
	h := &c.buf[d]
	if len(h.B)+len(b) > maxMessage {
		c.Errors++
		c.dead[d], h.B = true, h.B[:0]
		return false
	}
	if !h.Append(c.acct, b, maxMessage) {
		c.Limited, c.dead[d] = true, true
		return false
	}
	return true
}

// Gap stops the direction: a message cut by a hole cannot be framed.
func (c *Conn) Gap(d parsers.Dir, n int, ts time.Time) { c.dead[d] = true }

// End frees the held bytes.
func (c *Conn) End(ts time.Time) {
	for d := range c.buf {
		c.buf[d].Reset(c.acct, -1)
	}
}
