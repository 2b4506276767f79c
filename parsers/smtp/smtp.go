// Package smtp reads SMTP sessions (RFC 5321) from the reassembled streams
// of a TCP connection: the client's commands (HELO/EHLO, MAIL FROM, every
// RCPT TO, DATA and BDAT, AUTH — its mechanism, never the exchanged
// secrets — and STARTTLS), the server's reply codes, matched in order so
// that pipelined commands are followed, and the message itself, read as
// a stream: the top-level headers and the MIME structure (attachment names,
// declared types and decoded sizes). Every line, header field, list and
// held byte is bounded, and what is held is paid from the memory budget.
//
// A Transaction is emitted per mail transaction, when the next one starts
// (MAIL FROM, RSET, HELO) or the connection ends, so that it carries the
// replies that follow its message (QUIT's); a session with none gives one
// Transaction with only the session's fields. After
// STARTTLS and its 220, Data returns parsers.ErrStartTLS and Switched has the
// bytes that follow: the rest of the connection is TLS.
package smtp

import (
	"errors"
	"fmt"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/parsers/internal/lineproto"
)

// Errors returned by Conn.Data besides parsers.ErrStartTLS (the server
// accepted STARTTLS: the rest is TLS, starting with Switched()); after
// either the parser takes no more input and End still emits what is
// pending.
var (
	// ErrNotSMTP: the server sent too many lines that are not replies.
	ErrNotSMTP = errors.New("smtp: not an SMTP stream")
)

// Bounds.
const (
	maxLine       = 2048     // a command or reply line held whole; longer lines are read in pieces
	maxPending    = 128      // commands waiting for their reply (pipelining)
	maxRcpt       = 1024     // recipients kept per transaction (all are counted)
	maxValue      = 512      // HELO, addresses, reply text kept
	maxCodes      = 256      // reply codes kept per transaction
	maxNotes      = 8        //
	maxBadReplies = 8        // server lines that are not replies before the stream is given up
	maxTLSHeld    = 16 << 10 // client bytes sent after STARTTLS before its reply
)

// Authentication outcomes.
const (
	AuthSuccess = "success"
	AuthFailure = "failure"
)

// Session is what a connection showed outside its mail transactions.
type Session struct {
	Helo          string // the HELO/EHLO argument (the last one)
	Greeting      string // the text of the server's 220 greeting
	AuthMechanism string // the AUTH mechanism (the last one tried)
	AuthOutcome   string // AuthSuccess, AuthFailure, or "" (no AUTH or no reply)
	StartTLS      bool   // the server accepted STARTTLS (235 → 220): what follows is TLS
}

// Transaction is one mail transaction, or a session that had none.
type Transaction struct {
	Session
	Start    time.Time // MAIL FROM (or the session's first byte)
	MailFrom string    // the reverse path, without its angle brackets
	RcptTo   []string  // the forward paths, in order (at most maxRcpt)
	// RcptCount counts every RCPT TO, also those beyond maxRcpt.
	RcptCount int
	// Codes are the reply codes of the commands since the previous
	// transaction (greeting, EHLO, AUTH) and of the transaction's, in order.
	Codes     []int
	LastReply string // the text of the last reply (its code is the last of Codes)
	Header    Header
	// Attachments are the MIME parts with a file name or an attachment
	// disposition.
	Attachments []Attachment
	// Data says the client sent a message (DATA accepted, or BDAT);
	// Delivered that the server accepted it (2xx after its end);
	// DataBytes counts its bytes as sent (after dot-unstuffing).
	Data, Delivered bool
	DataBytes       int64
	// MemoryLimited: the memory budget refused to hold a line or header
	// field, which was read in pieces or cut.
	MemoryLimited bool
	Notes         []string
}

type kind uint8

const (
	cmdOther kind = iota
	cmdHelo
	cmdMail
	cmdRcpt
	cmdData
	cmdEOD // the end of the message (".", or BDAT LAST)
	cmdBDAT
	cmdRset
	cmdAuth
	cmdStartTLS
	cmdQuit
)

type cmode uint8

const (
	modeCommand cmode = iota
	modeAuth          // lines are the AUTH exchange's: never read
	modeMessage       // DATA: message lines until "."
	modeBDAT          // a BDAT chunk's bytes
	modeHoldTLS       // after STARTTLS, until its reply
	modeDone
)

// Conn is a parsers.StreamParser for one SMTP connection.
type Conn struct {
	acct *budget.Account
	emit func(*Transaction)
	cfg  Config

	lines   [2]lineproto.Splitter
	mode    cmode
	pending []kind // commands sent, waiting for their reply
	// dataPending: DATA was sent and its reply not seen; a line that is no
	// command then starts the message (the 354 was not captured).
	dataPending bool
	bdatLeft    int64
	bdatLast    bool
	greeted     bool
	badReplies  int
	held        parsers.Held // client bytes after STARTTLS
	rest        [2][]byte

	sess    Session
	first   time.Time
	tx      *Transaction // the open transaction, nil between them
	msg     message
	emitted bool
	ended   bool
	txn     Transaction // the transaction's storage, reused
	notes   []string    // session notes, before or between transactions
	limited bool
	// sessCodes and lastReply are the replies outside transactions.
	sessCodes []int
	lastReply string
	now       time.Time // the time of the latest bytes
	messages  uint64    // transactions opened
}

// Config tunes the parser.
type Config struct {
	// Files, when set, is handed each attachment as a file: its decoded
	// bytes as they are read (parsers.FileInfo.Part "attachment", Tx the
	// message's number in the connection).
	Files parsers.FileOpener
}

// NewConn returns a parser that calls emit for each transaction (valid
// only during the call). Held bytes are paid on acct (pool Parsers).
func NewConn(cfg Config, acct *budget.Account, emit func(*Transaction)) *Conn {
	c := &Conn{acct: acct, emit: emit, cfg: cfg}
	c.msg.conn = c
	return c
}

// Switched returns, after parsers.ErrStartTLS, the bytes of each direction that
// followed the 220: the start of the TLS stream. Valid until End.
func (c *Conn) Switched() [2][]byte { return c.rest }

func (c *Conn) Data(d parsers.Dir, b []byte, ts time.Time) error {
	if c.mode == modeDone {
		return nil
	}
	if c.first.IsZero() {
		c.first = ts
	}
	c.now = ts
	if d == parsers.ToServer {
		return c.client(b, ts)
	}
	return c.server(b, ts)
}

func (c *Conn) Gap(d parsers.Dir, n int, ts time.Time) {
	if c.mode == modeDone {
		return
	}
	c.note(fmt.Sprintf("smtp.gap: %d bytes missing from %s", n, d))
	c.lines[d].Free(c.acct)
	if d == parsers.ToClient {
		// Replies were lost: which command the next one answers is unknown.
		c.pending = c.pending[:0]
		return
	}
	switch c.mode {
	case modeMessage:
		c.msg.gap(n)
	case modeBDAT:
		if int64(n) < c.bdatLeft {
			c.bdatLeft -= int64(n)
			c.msg.gap(n)
			return
		}
		c.endBDAT()
	case modeAuth:
	default:
		c.mode = modeCommand
	}
}

func (c *Conn) End(ts time.Time) {
	if c.ended {
		return
	}
	c.ended = true
	if c.mode == modeMessage || c.mode == modeBDAT {
		c.note("smtp.data_unterminated: the connection ended inside a message")
		c.msg.end()
	}
	c.mode = modeDone
	c.finishTx()
	if !c.emitted {
		c.emitted = true
		c.txn = Transaction{Session: c.sess, Start: c.first, Notes: c.notes, MemoryLimited: c.limited}
		c.txn.Codes = c.sessCodes
		c.txn.LastReply = c.lastReply
		c.emit(&c.txn)
	}
	c.free()
}

func (c *Conn) free() {
	for i := range c.lines {
		c.lines[i].Free(c.acct)
	}
	c.msg.free()
	c.held.Reset(c.acct, -1)
}

func (c *Conn) note(n string) {
	notes := &c.notes
	if c.tx != nil {
		notes = &c.tx.Notes
	}
	if len(*notes) < maxNotes {
		*notes = append(*notes, n)
	}
}

// openTx starts a transaction at MAIL FROM, ending any open one.
func (c *Conn) openTx(ts time.Time) {
	c.finishTx()
	c.txn = Transaction{Session: c.sess, Start: ts, Notes: c.notes, Codes: c.sessCodes, LastReply: c.lastReply}
	c.notes, c.sessCodes = nil, nil
	c.tx = &c.txn
	c.messages++
	c.msg.reset(c.tx, c.messages)
}

// finishTx emits the open transaction.
func (c *Conn) finishTx() {
	if c.tx == nil {
		return
	}
	tx := c.tx
	c.tx = nil
	tx.Session.StartTLS = c.sess.StartTLS
	tx.Session.AuthOutcome, tx.Session.AuthMechanism = c.sess.AuthOutcome, c.sess.AuthMechanism
	tx.MemoryLimited = tx.MemoryLimited || c.limited || c.msg.limited
	c.emitted = true
	c.emit(tx)
}
