// Package http parses HTTP/1.x from the reassembled byte streams of a TCP
// connection: requests and responses are framed incrementally across any
// segment boundaries, paired in order (keep-alive and pipelining) and emitted
// as Transactions. Bodies are counted and skipped, never stored (except an
// optional small prefix), and every line, header block, header count and
// pending-request queue is bounded, so memory stays flat on hostile traffic.
// It does no I/O; times are the packet times the caller passes in.
package http

import (
	"bytes"
	"errors"
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// Errors returned by Conn.Data. After any of them the parser takes no more
// input; End still emits what is pending.
var (
	// ErrNotHTTP: a start line is not an HTTP/1.x request or status line.
	ErrNotHTTP = errors.New("http: invalid start line")
	// ErrTooLarge: a line, header block or header count went over its bound.
	ErrTooLarge = errors.New("http: header bound exceeded")
	// ErrFraming: the body framing cannot be followed (bad chunk size, a
	// request with a Transfer-Encoding that does not end in chunked).
	ErrFraming = errors.New("http: invalid message framing")
	// ErrSwitched: the connection left HTTP (CONNECT tunnel or 101
	// upgrade); the transaction has Tunnel or Upgraded set. Not a failure:
	// the caller just stops feeding this parser.
	ErrSwitched = errors.New("http: connection switched protocols")
	errEnded    = errors.New("http: connection ended")
)

type state uint8

const (
	stStart     state = iota // between messages: skip CR/LF
	stHeader                 // start line and header block
	stBody                   // Content-Length body
	stChunkSize              // chunk-size line
	stChunkData              // chunk data
	stChunkCRLF              // CRLF after chunk data
	stTrailer                // trailer block after the last chunk
	stClose                  // response body delimited by connection close
	stResync                 // after a gap: skip lines until a start line
	stPaused                 // after a CONNECT request, until its response
)

// slot holds one transaction while it is being parsed or waits for its peer.
type slot struct {
	tx        Transaction
	reqDone   bool
	respDone  bool
	isHead    bool
	isConnect bool
	detached  bool // not in the pending queue: emitted when its response ends
}

// half is the parser state of one direction.
type half struct {
	request   bool
	st        state
	buf       []byte // header block, or the current chunk-size/trailer line
	lineStart int    // start of the current line in buf
	lines     int    // lines in the current block
	trailer   int    // trailer bytes so far
	remain    int64  // bytes left in the body or chunk
	sawCR     bool   // in stChunkCRLF
	skipLine  bool   // in stResync: discarding an implausible line
	resynced  bool   // the next message follows a gap
	paused    int64  // bytes dropped in stPaused
	msgStart  time.Time
	cur       *slot // message whose body is being read
	dec       *inflater
	enc       encoding
}

// Conn parses one TCP connection. It implements parsers.StreamParser; calls
// must not overlap (one goroutine per connection, as the interface says).
type Conn struct {
	cfg      resolved
	emit     func(*Transaction)
	h        [2]half
	pending  []*slot // requests in order, oldest first
	paired   int     // pending[:paired] have their final response assigned
	resp     *slot   // slot of the response being read, if any
	free     []*slot
	err      error
	switched bool
	ended    bool
}

var _ parsers.StreamParser = (*Conn)(nil)

// NewConn returns the parser of one connection. emit is called synchronously
// from Data, Gap and End with each finished transaction, in request order
// (a response without request, or one whose request was pushed out by the
// MaxPending bound, is emitted when it ends). The *Transaction and its
// slices are only valid during the call; its strings may be kept.
//
// End must be called once when the connection is over: it emits what is
// pending and releases the content decoders (a body being decoded holds a
// parked coroutine until then). emit must not call back into the Conn.
func NewConn(cfg Config, emit func(*Transaction)) *Conn {
	c := &Conn{cfg: cfg.resolve(), emit: emit}
	c.h[parsers.ToServer].request = true
	return c
}

// Data consumes in-order bytes of direction d. It returns nil, or one of the
// errors above, after which the parser takes no more input.
func (c *Conn) Data(d parsers.Dir, b []byte, ts time.Time) error {
	if c.err != nil {
		return c.err
	}
	if c.switched {
		return ErrSwitched
	}
	h := &c.h[d&1]
	for len(b) > 0 {
		n, err := c.step(h, b, ts)
		if err != nil {
			c.err = err
			return err
		}
		if c.switched {
			return ErrSwitched
		}
		b = b[n:]
	}
	return nil
}

// step consumes a prefix of b in the current state and returns its length.
func (c *Conn) step(h *half, b []byte, ts time.Time) (int, error) {
	switch h.st {
	case stStart:
		i := 0
		for i < len(b) && (b[i] == '\r' || b[i] == '\n') {
			i++
		}
		if i < len(b) {
			h.st = stHeader
			h.buf, h.lineStart, h.lines = h.buf[:0], 0, 0
			h.msgStart = ts
			if h.request {
				c.beginRequest(h)
			}
		}
		return i, nil

	case stHeader:
		return c.headerBytes(h, b, ts)

	case stBody, stChunkData:
		n := len(b)
		if int64(n) > h.remain {
			n = int(h.remain)
		}
		c.bodyData(h, b[:n], n)
		h.remain -= int64(n)
		if h.remain == 0 {
			if h.st == stBody {
				c.messageDone(h, ts, true)
			} else {
				h.st, h.sawCR = stChunkCRLF, false
			}
		}
		return n, nil

	case stChunkCRLF:
		switch {
		case b[0] == '\r' && !h.sawCR:
			h.sawCR = true
			c.wire(h, 1)
			return 1, nil
		case b[0] == '\n':
			c.wire(h, 1)
			h.st, h.buf = stChunkSize, h.buf[:0]
			return 1, nil
		}
		h.cur.tx.addNote(NoteChunkNoCRLF)
		h.st, h.buf = stChunkSize, h.buf[:0]
		return 0, nil

	case stChunkSize, stTrailer:
		return c.chunkLine(h, b, ts)

	case stClose:
		c.bodyData(h, b, len(b))
		return len(b), nil

	case stResync:
		return c.resyncBytes(h, b, ts), nil

	case stPaused:
		h.paused += int64(len(b))
		return len(b), nil
	}
	return len(b), nil
}

// headerBytes accumulates the start line and header block, line by line.
// Bound failures happen at the same byte whatever the segmentation: the
// buffer is filled exactly up to the bound first.
func (c *Conn) headerBytes(h *half, b []byte, ts time.Time) (int, error) {
	i := bytes.IndexByte(b, '\n')
	chunk := b
	if i >= 0 {
		chunk = b[:i+1]
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

// chunkLine reads a chunk-size line (stChunkSize) or a trailer line.
func (c *Conn) chunkLine(h *half, b []byte, ts time.Time) (int, error) {
	i := bytes.IndexByte(b, '\n')
	chunk := b
	if i >= 0 {
		chunk = b[:i+1]
	}
	lineRoom := c.cfg.maxLine - len(h.buf)
	room := lineRoom
	if h.st == stTrailer {
		room = min(room, c.cfg.maxHeader-h.trailer)
	}
	over := len(chunk) > room
	if over {
		chunk = chunk[:room]
	}
	c.wire(h, len(chunk))
	h.buf = append(h.buf, chunk...)
	if h.st == stTrailer {
		h.trailer += len(chunk)
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
	line := h.buf
	h.buf = h.buf[:0]
	if h.st == stTrailer {
		if len(line) == 1 || (len(line) == 2 && line[0] == '\r') {
			c.messageDone(h, ts, true)
			return i + 1, nil
		}
		h.lines++
		if h.lines > c.cfg.maxHeaders {
			return 0, c.fail(h, ts, NoteTooManyHeaders, ErrTooLarge)
		}
		return i + 1, nil
	}
	size, ok := chunkSize(line)
	if !ok {
		return 0, c.fail(h, ts, NoteInvalidChunk, ErrFraming)
	}
	if size == 0 {
		h.st, h.lines, h.trailer = stTrailer, 0, 0
	} else {
		h.st, h.remain = stChunkData, size
	}
	return i + 1, nil
}

// chunkSize parses "HEX [BWS] [; ext]" CRLF.
func chunkSize(line []byte) (int64, bool) {
	if j := bytes.IndexByte(line, ';'); j >= 0 {
		line = line[:j]
	}
	line = bytes.Trim(line, " \t\r\n")
	if len(line) == 0 || len(line) > 15 {
		return 0, false
	}
	var n int64
	for _, ch := range line {
		var v byte
		switch {
		case ch >= '0' && ch <= '9':
			v = ch - '0'
		case ch >= 'a' && ch <= 'f':
			v = ch - 'a' + 10
		case ch >= 'A' && ch <= 'F':
			v = ch - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | int64(v)
	}
	return n, true
}

// Gap reports n bytes of direction d that were never seen.
func (c *Conn) Gap(d parsers.Dir, n int, ts time.Time) {
	if c.err != nil || c.switched || c.ended || n <= 0 {
		return
	}
	h := &c.h[d&1]
	left := int64(n)
	switch h.st {
	case stBody, stChunkData:
		h.cur.tx.addNote(NoteGap)
		c.stopDecoder(h)
		k := min(left, h.remain)
		c.wire(h, int(k))
		h.remain -= k
		left -= k
		if h.remain == 0 && left == 0 {
			if h.st == stBody {
				c.messageDone(h, ts, true)
			} else {
				h.st, h.sawCR = stChunkCRLF, false
			}
			return
		}
		if left > 0 {
			if h.st == stBody {
				c.messageDone(h, ts, true)
			} else {
				c.abandon(h, ts, NoteGap)
			}
		}
		// A gap inside a chunk that leaves part of it: keep counting.
		if h.st == stChunkData || h.st == stBody {
			return
		}
	case stClose:
		h.cur.tx.addNote(NoteGap)
		c.stopDecoder(h)
		c.wire(h, n)
		return
	case stHeader, stChunkSize, stChunkCRLF, stTrailer:
		c.abandon(h, ts, NoteGap)
	case stPaused:
		h.paused += left
		return
	}
	h.st, h.buf, h.skipLine = stResync, h.buf[:0], false
	h.resynced = true
}

// End flushes the connection: a body delimited by close ends normally, any
// other message in progress is emitted as truncated, and every pending
// request is emitted (ResponseMissing when it has no response).
func (c *Conn) End(ts time.Time) {
	if c.ended {
		return
	}
	c.ended = true
	if c.err == nil && !c.switched {
		for d := range c.h {
			h := &c.h[d]
			switch h.st {
			case stClose:
				c.messageDone(h, ts, true)
			case stHeader:
				c.abandon(h, ts, NoteEndInHeaders)
			case stBody, stChunkSize, stChunkData, stChunkCRLF, stTrailer:
				c.abandon(h, ts, NoteEndInBody)
			}
		}
	}
	c.flushAll()
	if c.err == nil {
		c.err = errEnded
	}
}

// fail records note on the message in progress, emits it as truncated
// later, and returns err.
func (c *Conn) fail(h *half, ts time.Time, note string, err error) error {
	c.abandon(h, ts, note)
	return err
}

// abandon ends the message in progress of h as truncated, with note.
func (c *Conn) abandon(h *half, ts time.Time, note string) {
	switch h.st {
	case stHeader:
		if len(h.buf) == 0 && !h.request {
			return
		}
		_ = c.headersDone(h, ts, true)
		if h.cur == nil {
			return
		}
		h.cur.tx.addNote(note)
		c.messageDone(h, ts, false)
	case stBody, stChunkSize, stChunkData, stChunkCRLF, stTrailer, stClose:
		h.cur.tx.addNote(note)
		c.messageDone(h, ts, false)
	}
}

// newSlot returns a clean slot from the free list.
func (c *Conn) newSlot() *slot {
	var s *slot
	if n := len(c.free); n > 0 {
		s = c.free[n-1]
		c.free = c.free[:n-1]
	} else {
		s = new(slot)
		s.tx.reset()
	}
	return s
}

func (c *Conn) recycle(s *slot) {
	s.tx.reset()
	s.reqDone, s.respDone, s.isHead, s.isConnect, s.detached = false, false, false, false, false
	c.free = append(c.free, s)
}

func (c *Conn) emitSlot(s *slot) {
	if c.emit != nil {
		c.emit(&s.tx)
	}
	c.recycle(s)
}

// tryEmit emits finished transactions from the head of the queue.
func (c *Conn) tryEmit() {
	for len(c.pending) > 0 {
		s := c.pending[0]
		if !s.reqDone || !s.respDone {
			return
		}
		c.popFront()
		c.emitSlot(s)
	}
}

func (c *Conn) popFront() {
	copy(c.pending, c.pending[1:])
	c.pending[len(c.pending)-1] = nil
	c.pending = c.pending[:len(c.pending)-1]
	if c.paired > 0 {
		c.paired--
	}
}

// flushAll emits every transaction still held, in order.
func (c *Conn) flushAll() {
	for d := range c.h {
		if h := &c.h[d]; h.dec != nil {
			c.stopDecoder(h)
		}
	}
	resp := c.resp
	for len(c.pending) > 0 {
		s := c.pending[0]
		c.popFront()
		if !s.reqDone {
			s.tx.RequestTruncated = true
		}
		if !s.respDone {
			if s == resp {
				s.tx.ResponseTruncated = true
				resp = nil
			} else {
				s.tx.ResponseMissing = true
			}
		}
		c.emitSlot(s)
	}
	if resp != nil && resp.detached && !resp.respDone {
		resp.tx.ResponseTruncated = true
		c.emitSlot(resp)
	}
	c.resp = nil
	c.h[0].cur, c.h[1].cur = nil, nil
}

// headersDone parses the finished (or, with truncated, partial) header
// block in h.buf and starts the body.
func (c *Conn) headersDone(h *half, ts time.Time, truncated bool) error {
	if h.request {
		return c.requestHeaders(h, ts, truncated)
	}
	return c.responseHeaders(h, ts, truncated)
}

// beginRequest queues the slot of a request at its first byte, so that a
// response sent before the request's header block ends (a 4xx to an
// oversized request) still pairs with it.
func (c *Conn) beginRequest(h *half) {
	if len(c.pending) >= c.cfg.maxPending {
		s := c.pending[0]
		c.popFront()
		s.tx.addNote(NoteTooManyPending)
		if s == c.resp {
			s.detached = true // emitted when its response ends
		} else {
			s.tx.ResponseMissing = true
			c.emitSlot(s)
		}
	}
	s := c.newSlot()
	s.tx.Request.Start = h.msgStart
	c.pending = append(c.pending, s)
	h.cur = s
}

// notHTTP drops the request begun with an invalid start line (unless a
// response already paired with it) and returns ErrNotHTTP.
func (c *Conn) notHTTP(h *half) error {
	s := h.cur
	if !h.request || s == nil {
		return ErrNotHTTP
	}
	h.cur = nil
	n := len(c.pending)
	if n > c.paired && c.pending[n-1] == s {
		c.pending = c.pending[:n-1]
		c.recycle(s)
		return ErrNotHTTP
	}
	s.tx.addNote(NoteInvalidStartLine)
	s.tx.RequestTruncated = true
	s.reqDone = true
	return ErrNotHTTP
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
		case strings.EqualFold(name, "Host"):
			if hasHost {
				tx.addNote(NoteDuplicateHost)
			} else {
				r.Host, hasHost = value, true
			}
		case strings.EqualFold(name, "User-Agent"):
			r.UserAgent = value
		case strings.EqualFold(name, "Referer"):
			r.Referer = value
		case strings.EqualFold(name, "Content-Type"):
			r.ContentType, r.MimeType = value, mimeType(value)
		case strings.EqualFold(name, "Content-Length"):
			badCL = contentLength(tx, &r.ContentLength, value, badCL)
		case strings.EqualFold(name, "Transfer-Encoding"):
			te, hasTE = value, true
			r.TransferEncoding = value
		case strings.EqualFold(name, "Content-Encoding"):
			ce = value
			r.ContentEncoding = value
		case strings.EqualFold(name, "Upgrade"):
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
		case strings.EqualFold(name, "Content-Type"):
			r.ContentType, r.MimeType = value, mimeType(value)
		case strings.EqualFold(name, "Content-Length"):
			badCL = contentLength(tx, &r.ContentLength, value, badCL)
		case strings.EqualFold(name, "Transfer-Encoding"):
			te, hasTE = value, true
			r.TransferEncoding = value
		case strings.EqualFold(name, "Content-Encoding"):
			ce = value
			r.ContentEncoding = value
		case strings.EqualFold(name, "Location"):
			r.Location = value
		case strings.EqualFold(name, "Upgrade"):
			r.Upgrade = value
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
		// Refused CONNECT: the client goes on with HTTP.
		if q := &c.h[parsers.ToServer]; q.st == stPaused {
			if q.paused > 0 {
				tx.addNote(NoteDataBeforeConnectOK)
				q.st, q.buf, q.skipLine, q.resynced = stResync, q.buf[:0], false, true
			} else {
				q.st = stStart
			}
			q.paused = 0
		}
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

// switchProtocols ends HTTP on this connection after a 101 or a CONNECT 2xx.
func (c *Conn) switchProtocols(h *half, ts time.Time) {
	s := h.cur
	s.tx.Response.End = ts
	s.respDone, s.reqDone = true, true
	h.cur, c.resp = nil, nil
	c.switched = true
	if s.detached {
		c.emitSlot(s)
	}
	c.flushAll()
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
	case strings.EqualFold(name, "Authorization"), strings.EqualFold(name, "Proxy-Authorization"):
		scheme, cred, hasCred := strings.Cut(value, " ")
		if !hasCred {
			scheme, cred = "", value
		}
		stored := value
		if c.cfg.redact {
			stored = redacted(scheme, value)
		}
		if r.Authorization == "" || strings.EqualFold(name, "Authorization") {
			r.Authorization, r.AuthScheme, r.AuthUser = stored, scheme, ""
			if strings.EqualFold(scheme, "Basic") {
				if u, ok := basicUser(cred, nil); ok {
					r.AuthUser = u
				} else {
					tx.addNote(NoteBadBasicAuth)
				}
			}
		}
		return stored
	case strings.EqualFold(name, "Cookie"):
		if c.cfg.redact {
			value = redacted("", value)
		}
		r.Cookie = value
		return value
	case strings.EqualFold(name, "Set-Cookie"):
		if c.cfg.redact {
			value = redacted("", value)
		}
		return value
	}
	return value
}

// startBody sets up body reading for the message of h.
func (c *Conn) startBody(h *half, st state, length int64, ce string, decoded *int64) {
	h.st, h.remain = st, length
	h.buf = h.buf[:0]
	h.enc = contentEncoding(ce)
	if h.enc == encNone {
		return
	}
	*decoded = -1
	if c.cfg.decode && (h.enc == encGzip || h.enc == encDeflate) {
		h.dec = newInflater(h.enc, c.cfg.maxDecoded)
	}
}

func (c *Conn) msg(h *half) (wire, body, decoded *int64, capture *[]byte) {
	if h.request {
		r := &h.cur.tx.Request
		return &r.BodyWireBytes, &r.BodyBytes, &r.BodyDecodedBytes, &r.Body
	}
	r := &h.cur.tx.Response
	return &r.BodyWireBytes, &r.BodyBytes, &r.BodyDecodedBytes, &r.Body
}

func (c *Conn) wire(h *half, n int) {
	w, _, _, _ := c.msg(h)
	*w += int64(n)
}

// bodyData counts body payload p (wire bytes on the wire) and feeds the
// capture and the decoder.
func (c *Conn) bodyData(h *half, p []byte, wire int) {
	w, n, _, capture := c.msg(h)
	*w += int64(wire)
	*n += int64(len(p))
	if room := c.cfg.capture - len(*capture); room > 0 {
		*capture = append(*capture, p[:min(room, len(p))]...)
	}
	if h.dec != nil {
		h.dec.push(p)
		if h.dec.finished {
			c.stopDecoder(h)
		}
	}
}

// stopDecoder ends content decoding early (gap, limit, error), keeping the
// count so far.
func (c *Conn) stopDecoder(h *half) {
	if h.dec == nil {
		return
	}
	h.dec.finish(false)
	c.decoderResult(h)
}

func (c *Conn) decoderResult(h *half) {
	f := h.dec
	h.dec = nil
	if h.cur == nil {
		return
	}
	_, _, d, _ := c.msg(h)
	*d = f.out
	if f.limited {
		h.cur.tx.addNote(NoteDecodeLimit)
	}
	if f.failed {
		h.cur.tx.addNote(NoteDecodeError)
	}
}

// messageDone ends the current message of h; complete says whether it ended
// as framed (or was cut short).
func (c *Conn) messageDone(h *half, ts time.Time, complete bool) {
	s := h.cur
	if s == nil {
		h.st = stStart
		return
	}
	_, body, decoded, _ := c.msg(h)
	if h.dec != nil {
		h.dec.finish(complete)
		c.decoderResult(h)
	} else if h.enc == encNone {
		*decoded = *body
	}
	h.enc = encNone
	h.cur = nil
	h.st = stStart
	if h.request {
		s.tx.Request.End = ts
		if !complete {
			s.tx.RequestTruncated = true
		}
		s.reqDone = true
		if s.isConnect && complete {
			h.st, h.paused = stPaused, 0
		}
		c.tryEmit()
		return
	}
	s.tx.Response.End = ts
	if !complete {
		s.tx.ResponseTruncated = true
	}
	s.respDone = true
	c.resp = nil
	if s.detached {
		c.emitSlot(s)
		return
	}
	c.tryEmit()
}
