// Package http parses HTTP/1.x from the reassembled byte streams of a TCP
// connection: requests and responses are framed incrementally across any
// segment boundaries, paired in order (keep-alive and pipelining) and emitted
// as Transactions. Bodies are counted and skipped, never stored (except an
// optional small prefix), and every line, header block, header count and
// pending-request queue is bounded, so memory stays flat on hostile traffic.
// It does no I/O; times are the packet times the caller passes in.
package http

import (
	"errors"
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
	// the caller stops feeding this parser and may inspect the rest of the
	// connection as the new protocol, starting with Switched().Rest.
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
	early     []byte // bytes held in stPaused: the tunnel's first bytes
	lost      int64  // bytes of the tunnel not held (bound, budget, gap)
	msgStart  time.Time
	cur       *slot // message whose body is being read
	dec       *inflater
	encoded   bool // the body has a content coding (identity aside)
	// file receives the body (Config.Files); fileRaw: the body's bytes
	// as they are go to it (not encoded, or not decodable), else the
	// decoder's output does; fileEnd: how it ends if the decoder stopped.
	file    parsers.FileSink
	fileRaw bool
	fileEnd parsers.FileEnd
}

// Conn parses one TCP connection. It implements parsers.StreamParser; calls
// must not overlap (one goroutine per connection, as the interface says).
type Conn struct {
	cfg      resolved
	to       Handler // NewConn's emit, or NewConnHandler's h
	h        [2]half
	pending  []*slot // requests in order, oldest first
	paired   int     // pending[:paired] have their final response assigned
	resp     *slot   // slot of the response being read, if any
	free     []*slot
	err      error
	switched bool
	sw       Switch // with switched
	ended    bool
	seq      uint64 // transactions begun
	// Most connections hold one or two requests at a time: the lists'
	// first room comes with the Conn.
	pend0, free0 [2]*slot
	// fileInfo is what openFile declares to the files layer, which copies
	// it: one a Conn, not one a body (a pointer given to an interface).
	fileInfo parsers.FileInfo
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
	if emit == nil {
		return NewConnHandler(cfg, nil)
	}
	return NewConnHandler(cfg, emitFunc(emit))
}

// Handler takes the transactions of a Conn made by NewConnHandler, as
// NewConn's emit does: one interface value per connection where a method
// value passed as emit is an allocation each.
type Handler interface {
	Transaction(tx *Transaction)
}

// emitFunc is NewConn's emit as a Handler (a func in an interface is no
// allocation).
type emitFunc func(*Transaction)

func (f emitFunc) Transaction(tx *Transaction) { f(tx) }

// NewConnHandler is NewConn delivering to h.
func NewConnHandler(cfg Config, h Handler) *Conn {
	c := cfg.Pool.conn() // zero, new or given back by Release
	c.cfg, c.to = cfg.resolve(), h
	c.pending, c.free = c.pend0[:0], c.free0[:0]
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
		b = b[n:]
		if c.switched {
			c.sw.Rest[d&1] = b
			return ErrSwitched
		}
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
		c.hold(h, b)
		return len(b), nil
	}
	return len(b), nil
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
		c.fileGap(h, min(left, h.remain))
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
		c.fileGap(h, left)
		c.wire(h, n)
		return
	case stHeader, stChunkSize, stChunkCRLF, stTrailer:
		c.abandon(h, ts, NoteGap)
	case stPaused:
		h.lost += left
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
	for d := range c.h {
		c.closeFile(&c.h[d], false, ts)
	}
	c.flushAll()
	c.dropEarly(&c.h[parsers.ToServer])
	if c.err == nil {
		c.err = errEnded
	}
	c.cfg.pool.release(c)
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
