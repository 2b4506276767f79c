package dns

import (
	"errors"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/intern"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// ErrNotDNS is returned by Conn.Data once MaxConsecutiveErrors frames in a
// row failed to parse: the stream is not (or no longer) DNS.
var ErrNotDNS = errors.New("dns: stream does not parse as DNS")

// MaxConsecutiveErrors is how many unparsable TCP frames in a row make
// Conn.Data give up.
const MaxConsecutiveErrors = 3

// Conn is the DNS state of one flow, ready for the sensor: a Pairer, a
// reused Message and, for TCP, one StreamDecoder per direction. Use
// Datagram for each UDP payload of a flow, or hand the Conn to the TCP
// reassembler as a parsers.StreamParser. Transactions reach the emit
// function given to NewConn (see Transaction for their lifetime).
//
// A message that fails to parse is counted in ParseErrors and handed to
// OnError; when its header was read it is paired all the same, with what
// was decoded, and its transaction carries a NoteMalformed* note.
type Conn struct {
	Pairer      *Pairer
	ParseErrors int
	Gaps        int
	// OnError, if set, is called with each message's Parse error and the
	// packet time of the message.
	OnError func(err error, ts time.Time)

	dec    [2]StreamDecoder
	msg    *Message // what each message is decoded into: its own, or a shared one (nil: made at the first)
	badRun int
}

// Handler takes what a Conn delivers (NewConnHandler): one interface
// value per flow where NewConn's two func values are two allocations.
type Handler interface {
	Transaction(tx *Transaction)        // as NewConn's emit
	ParseError(err error, ts time.Time) // as Conn.OnError
}

var _ parsers.StreamParser = (*Conn)(nil)

// NewConn returns the state for one flow; see NewPairer for the arguments.
func NewConn(maxPending int, emit func(*Transaction)) *Conn {
	all := new(struct { // the Conn, its Pairer and its Message in one allocation
		c Conn
		p Pairer
		m Message
	})
	all.p.init(maxPending, emit)
	all.c.Pairer, all.c.msg = &all.p, &all.m
	return &all.c
}

// NewConnHandler returns the state for one flow that delivers to h. Every
// message is decoded into msg when it is not nil: one Message shared by
// the Conns of a goroutine serves them all, its buffers grown once (a Conn
// keeps nothing in it between calls; the Pairer copies what it keeps).
// The transactions' names and data are names's strings when it is not
// nil: one table shared by the Conns of a goroutine, where the names a
// link resolves recur, gives most of them without an allocation.
func NewConnHandler(maxPending int, h Handler, msg *Message, names *intern.Table) *Conn {
	both := new(struct { // the Conn and its Pairer in one allocation
		c Conn
		p Pairer
	})
	both.c.Pairer = &both.p
	both.c.ResetHandler(maxPending, h, msg, names)
	return &both.c
}

// ResetHandler readies c, made by NewConnHandler and ended, for another
// flow: it is then what NewConnHandler(maxPending, h, msg, names) returns,
// without an allocation. Nothing of the previous flow stays (pending
// queries, stream buffers, counters).
func (c *Conn) ResetHandler(maxPending int, h Handler, msg *Message, names *intern.Table) {
	p := c.Pairer
	*p = Pairer{}
	p.init(maxPending, nil)
	p.handler, p.names = h, names
	*c = Conn{Pairer: p, msg: msg}
}

// Datagram handles one UDP payload (one whole DNS message). It returns the
// Parse error, if any; the message is paired unless it had no header.
func (c *Conn) Datagram(b []byte, ts time.Time) error {
	err := c.parse(b, ts)
	if err == nil || len(b) >= HeaderSize {
		c.Pairer.Add(c.msg, len(b), ts)
	}
	return err
}

// parse decodes b into c.msg, counting and reporting a failure.
func (c *Conn) parse(b []byte, ts time.Time) error {
	if c.msg == nil {
		c.msg = new(Message)
	}
	err := parseDeferred(b, c.msg) // the Pairer resolves the text
	if err != nil {
		c.ParseErrors++
		if c.OnError != nil {
			c.OnError(err, ts)
		} else if h := c.Pairer.handler; h != nil {
			h.ParseError(err, ts)
		}
	}
	return err
}

// Data implements parsers.StreamParser: it frames b and pairs every message.
// It returns ErrNotDNS after MaxConsecutiveErrors unparsable frames in a row.
func (c *Conn) Data(d parsers.Dir, b []byte, ts time.Time) error {
	return c.dec[d&1].Feed(b, func(msg []byte) error {
		if err := c.parse(msg, ts); err != nil {
			c.badRun++
			if c.badRun >= MaxConsecutiveErrors {
				return ErrNotDNS
			}
			if len(msg) < HeaderSize {
				return nil
			}
		} else {
			c.badRun = 0
		}
		c.Pairer.Add(c.msg, len(msg), ts)
		return nil
	})
}

// Gap implements parsers.StreamParser: the direction's partial frame is
// dropped and framing restarts at the next byte.
func (c *Conn) Gap(d parsers.Dir, n int, ts time.Time) {
	c.Gaps++
	c.dec[d&1].Reset()
}

// End implements parsers.StreamParser: pending queries are closed as
// unanswered. It is also the call that ends a UDP flow.
func (c *Conn) End(ts time.Time) {
	c.Pairer.Flush()
}
