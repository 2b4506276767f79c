package http

// Start lines and header blocks: accumulation under the bounds, resync after
// a gap, and the fields that shape the transaction and its framing.

import (
	"bytes"
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers/ntlm"
)

// headerBytes accumulates the start line and header block, line by line.
// Bound failures happen at the same byte whatever the segmentation: the
// buffer is filled exactly up to the bound first.
func (c *Conn) headerBytes(h *half, b []byte, ts time.Time) (int, error) {
	i := bytes.IndexByte(b, '\n')
	chunk := b
	if i >= 0 {
		chunk = b[:i+1]
	}
	if h.buf == nil {
		h.buf = c.cfg.pool.buf()
	}
	lineRoom := c.cfg.maxLine - (len(h.buf) - h.lineStart)
	room := min(lineRoom, c.cfg.maxHeader-len(h.buf))
	over := len(chunk) > room
	if over {
		chunk = chunk[:room]
	}
	h.buf = append(h.buf, chunk...)
	if h.lines == 0 && !plausibleStart(h.buf, h.request) {
		return 0, c.notHTTP(h)
	}
	if over {
		if lineRoom == room {
			return 0, c.fail(h, ts, NoteLineTooLong, ErrTooLarge)
		}
		return 0, c.fail(h, ts, NoteHeaderTooLarge, ErrTooLarge)
	}
	if i < 0 {
		return len(b), nil
	}
	line := h.buf[h.lineStart:]
	h.lineStart = len(h.buf)
	if h.lines == 0 {
		if !validStart(line, h.request) {
			return 0, c.notHTTP(h)
		}
	} else if len(line) == 1 || (len(line) == 2 && line[0] == '\r') {
		return i + 1, c.headersDone(h, ts, false)
	}
	h.lines++
	if h.lines-1 > c.cfg.maxHeaders {
		return 0, c.fail(h, ts, NoteTooManyHeaders, ErrTooLarge)
	}
	return i + 1, nil
}

// validStart checks a complete start line without converting it to a string.
func validStart(line []byte, request bool) bool {
	line = bytes.Trim(line, " \t\r\n")
	if !request {
		return len(line) >= 12 && string(line[:7]) == "HTTP/1." && digit(line[7]) &&
			line[8] == ' ' && statusCodeOf(line) != 0 && (len(line) == 12 || line[12] == ' ')
	}
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 {
		return false
	}
	for _, ch := range line[:sp] {
		if !tchar(ch) {
			return false
		}
	}
	rest := bytes.TrimLeft(line[sp+1:], " ")
	j := bytes.LastIndex(rest, []byte(" HTTP/"))
	if j < 0 || len(bytes.TrimRight(rest[:j], " ")) == 0 {
		return false
	}
	v := rest[j+6:]
	return len(v) == 3 && v[0] == '1' && v[1] == '.' && digit(v[2])
}

// resyncBytes skips input line by line until a valid start line, which then
// begins a message. The first byte after a gap counts as a line start.
func (c *Conn) resyncBytes(h *half, b []byte, ts time.Time) int {
	i := bytes.IndexByte(b, '\n')
	chunk := b
	if i >= 0 {
		chunk = b[:i+1]
	}
	if !h.skipLine {
		if len(h.buf)+len(chunk) > c.cfg.maxLine {
			h.skipLine = true
		} else {
			if len(h.buf) == 0 {
				h.msgStart = ts
			}
			h.buf = append(h.buf, chunk...)
			if !plausibleStart(bytes.TrimLeft(h.buf, "\r\n"), h.request) {
				h.skipLine = true
			}
		}
	}
	if i < 0 {
		return len(b)
	}
	if !h.skipLine {
		line := bytes.TrimLeft(h.buf, "\r\n")
		if len(line) > 0 && validStart(line, h.request) {
			n := copy(h.buf, line)
			h.buf = h.buf[:n]
			h.st, h.lineStart, h.lines = stHeader, n, 1
			h.resynced = true
			if h.request {
				c.beginRequest(h)
			}
			return i + 1
		}
	}
	h.buf, h.skipLine = h.buf[:0], false
	return i + 1
}

// headersDone parses the finished (or, with truncated, partial) header
// block in h.buf and starts the body.
func (c *Conn) headersDone(h *half, ts time.Time, truncated bool) error {
	// The block is copied to a string: with a Pool, the buffer serves other
	// connections until this one's next line.
	defer c.cfg.pool.putBuf(h)
	if h.request {
		return c.requestHeaders(h, ts, truncated)
	}
	return c.responseHeaders(h, ts, truncated)
}

func (c *Conn) requestHeaders(h *half, ts time.Time, truncated bool) error {
	s := h.cur
	tx := &s.tx
	r := &tx.Request
	if h.resynced {
		tx.addNote(NoteResync)
		h.resynced = false
	}
	blk := string(h.buf)
	r.HeaderBytes = len(blk)
	first, rest := cutLine(blk)
	r.Method, r.URI, r.Version, _ = parseRequestLine(first, truncated)
	s.isHead = r.Method == "HEAD"
	s.isConnect = r.Method == "CONNECT"
	var te, ce string
	hasTE, badCL, hasHost := false, false, false
	for name, value := range c.fields(tx, rest, &r.Headers) {
		switch {
		case NameIs(name, "Host"):
			if hasHost {
				tx.addNote(NoteDuplicateHost)
			} else {
				r.Host, hasHost = value, true
			}
		case NameIs(name, "User-Agent"):
			r.UserAgent = value
		case NameIs(name, "Referer"):
			r.Referer = value
		case NameIs(name, "Content-Type"):
			r.ContentType, r.MimeType = value, mimeType(value)
		case NameIs(name, "Content-Length"):
			badCL = contentLength(tx, &r.ContentLength, value, badCL)
		case NameIs(name, "Transfer-Encoding"):
			te, hasTE = value, true
			r.TransferEncoding = value
		case NameIs(name, "Content-Encoding"):
			ce = value
			r.ContentEncoding = value
		case NameIs(name, "Upgrade"):
			r.Upgrade = value
		}
	}
	if truncated {
		tx.RequestTruncated = true
		return nil
	}
	switch {
	case hasTE:
		if r.ContentLength >= 0 || badCL {
			tx.addNote(NoteCLAndTE)
		}
		if !strings.EqualFold(finalCoding(te), "chunked") {
			tx.addNote(NoteTENotChunked)
			tx.RequestTruncated = true
			c.messageDone(h, ts, false)
			return ErrFraming
		}
		c.startBody(h, stChunkSize, 0, ce, &r.BodyDecodedBytes)
	case r.ContentLength > 0:
		c.startBody(h, stBody, r.ContentLength, ce, &r.BodyDecodedBytes)
	default:
		c.messageDone(h, ts, true)
	}
	return nil
}

func (c *Conn) responseHeaders(h *half, ts time.Time, truncated bool) error {
	code := statusCodeOf(h.buf)
	if code >= 100 && code < 200 && code != 101 && !truncated {
		// Interim response: the final one follows and pairs with the request.
		if c.paired < len(c.pending) {
			p := c.pending[c.paired]
			if code == 100 {
				p.tx.Continue100 = true
			} else {
				p.tx.addNote(NoteInterim1xx)
			}
		}
		h.st = stStart
		return nil
	}
	var s *slot
	if c.paired < len(c.pending) {
		s = c.pending[c.paired]
		c.paired++
	} else {
		s = c.newSlot()
		s.detached = true
		s.reqDone = true
		c.seq++
		s.tx.Seq = c.seq
		s.tx.RequestMissing = true
		s.tx.addNote(NoteNoRequest)
	}
	h.cur, c.resp = s, s
	tx := &s.tx
	r := &tx.Response
	r.Start = h.msgStart
	if h.resynced {
		tx.addNote(NoteResync)
		h.resynced = false
	}
	blk := string(h.buf)
	r.HeaderBytes = len(blk)
	first, rest := cutLine(blk)
	r.Version, r.StatusCode, r.Reason, _ = parseStatusLine(first, truncated)
	var te, ce string
	hasTE, badCL := false, false
	for name, value := range c.fields(tx, rest, &r.Headers) {
		switch {
		case NameIs(name, "Content-Type"):
			r.ContentType, r.MimeType = value, mimeType(value)
		case NameIs(name, "Content-Length"):
			badCL = contentLength(tx, &r.ContentLength, value, badCL)
		case NameIs(name, "Transfer-Encoding"):
			te, hasTE = value, true
			r.TransferEncoding = value
		case NameIs(name, "Content-Encoding"):
			ce = value
			r.ContentEncoding = value
		case NameIs(name, "Location"):
			r.Location = value
		case NameIs(name, "Content-Disposition"):
			r.ContentDisposition = value
		case NameIs(name, "Content-Range"):
			r.ContentRange = value
		case NameIs(name, "Upgrade"):
			r.Upgrade = value
		case NameIs(name, "WWW-Authenticate"), NameIs(name, "Proxy-Authenticate"):
			if b, ok := ntlm.FromHTTP(value); ok && r.NTLM.Type == 0 && b.Mech == ntlm.MechNTLM && b.Err == nil {
				r.NTLM = b.NTLM
			}
		}
	}
	if truncated {
		tx.ResponseTruncated = true
		return nil
	}
	code = r.StatusCode
	switch {
	case code == 101:
		tx.Upgraded = true
		tx.UpgradeProtocol = r.Upgrade
		if tx.UpgradeProtocol == "" {
			tx.UpgradeProtocol = tx.Request.Upgrade
		}
		c.switchProtocols(h, ts)
		return nil
	case s.isConnect && code >= 200 && code < 300:
		tx.Tunnel = true
		c.switchProtocols(h, ts)
		return nil
	}
	if s.isConnect {
		c.refused(tx)
	}
	switch {
	case s.isHead || code < 200 || code == 204 || code == 304:
		c.messageDone(h, ts, true)
	case hasTE:
		if r.ContentLength >= 0 || badCL {
			tx.addNote(NoteCLAndTE)
		}
		if strings.EqualFold(finalCoding(te), "chunked") {
			c.startBody(h, stChunkSize, 0, ce, &r.BodyDecodedBytes)
		} else {
			tx.addNote(NoteTENotChunked)
			c.startBody(h, stClose, 0, ce, &r.BodyDecodedBytes)
		}
	case r.ContentLength == 0:
		c.messageDone(h, ts, true)
	case r.ContentLength > 0:
		c.startBody(h, stBody, r.ContentLength, ce, &r.BodyDecodedBytes)
	default:
		c.startBody(h, stClose, 0, ce, &r.BodyDecodedBytes)
	}
	return nil
}

// contentLength handles one Content-Length field; it returns whether the
// framing is now invalid.
func contentLength(tx *Transaction, cl *int64, value string, bad bool) bool {
	n, dup, ok := parseContentLength(value)
	switch {
	case !ok:
		tx.addNote(NoteInvalidCL)
		*cl = -1
		return true
	case bad:
		return true
	case *cl >= 0 && *cl != n:
		tx.addNote(NoteConflictingCL)
		*cl = -1
		return true
	case *cl >= 0 || dup:
		tx.addNote(NoteDuplicateCL)
	}
	*cl = n
	return false
}

// cutLine splits the first line (without its line ending) from the rest.
func cutLine(s string) (line, rest string) {
	i := strings.IndexByte(s, '\n')
	if i < 0 {
		return s, ""
	}
	return strings.TrimSuffix(s[:i], "\r"), s[i+1:]
}

// fields iterates over the header lines in blk (after the start line),
// appending them to *hs, handling folded lines and secret values. With
// truncated, an incomplete last line is skipped. Values yielded are the
// (possibly redacted) stored ones.
func (c *Conn) fields(tx *Transaction, blk string, hs *[]Header) func(func(string, string) bool) {
	return func(yield func(string, string) bool) {
		valStart := -1 // offset in blk of the last header's value, for folding
		off := 0
		for off < len(blk) {
			i := strings.IndexByte(blk[off:], '\n')
			if i < 0 {
				return // incomplete last line of a truncated block
			}
			line := strings.TrimSuffix(blk[off:off+i], "\r")
			lineOff := off
			off += i + 1
			if line == "" {
				return
			}
			if line[0] == ' ' || line[0] == '\t' {
				tx.addNote(NoteObsFold)
				if valStart >= 0 && len(*hs) > 0 {
					(*hs)[len(*hs)-1].Value = trimOWS(blk[valStart : lineOff+len(line)])
				}
				continue
			}
			colon := strings.IndexByte(line, ':')
			if colon <= 0 || !isToken(line[:colon]) {
				tx.addNote(NoteMalformedHeader)
				valStart = -1
				continue
			}
			name, value := line[:colon], trimOWS(line[colon+1:])
			valStart = lineOff + colon + 1
			value = c.secret(tx, name, value)
			if len(*hs) < c.cfg.maxHeaders {
				*hs = append(*hs, Header{Name: name, Value: value})
			}
			if !yield(name, value) {
				return
			}
		}
	}
}

// secret handles Authorization, Proxy-Authorization, Cookie and Set-Cookie:
// it fills the auth fields and returns the value to store.
func (c *Conn) secret(tx *Transaction, name, value string) string {
	r := &tx.Request
	switch {
	case NameIs(name, "Authorization"), NameIs(name, "Proxy-Authorization"):
		scheme, cred, hasCred := strings.Cut(value, " ")
		if !hasCred {
			scheme, cred = "", value
		}
		stored := value
		if c.cfg.redact {
			stored = c.cfg.pool.redacted(scheme, value)
		}
		if r.Authorization == "" || NameIs(name, "Authorization") {
			r.Authorization, r.AuthScheme, r.AuthUser = stored, scheme, ""
			r.AuthMech, r.NTLM = "", ntlm.Message{}
			if b, ok := ntlm.FromHTTP(value); ok {
				r.AuthMech = b.Mech
				if b.Err == nil {
					r.NTLM = b.NTLM
				}
			}
			if strings.EqualFold(scheme, "Basic") {
				if u, ok := basicUser(cred, nil); ok {
					r.AuthUser = u
				} else {
					tx.addNote(NoteBadBasicAuth)
				}
			}
		}
		return stored
	case NameIs(name, "Cookie"):
		if c.cfg.redact {
			value = c.cfg.pool.redacted("", value)
		}
		r.Cookie = value
		return value
	case NameIs(name, "Set-Cookie"):
		if c.cfg.redact {
			value = c.cfg.pool.redacted("", value)
		}
		return value
	}
	return value
}
