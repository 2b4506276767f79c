// Package kerberos reads Kerberos 5 KDC exchanges (RFC 4120) over TCP
// (each message behind a 4-byte record marker, possibly split across
// segments) and UDP: AS-REQ, TGS-REQ, their replies and KRB-ERRORs, paired
// request to answer. Encrypted parts are never read.
package kerberos

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
)

const (
	// maxRecord bounds a TCP record (a message with a large PAC or PKINIT
	// certificates stays well below); a longer one is not Kerberos here.
	maxRecord = 256 << 10
	// minRecord: the smallest KDC message is far longer.
	minRecord = 20
	// maxPending bounds the requests awaiting an answer per flow; past it
	// the oldest is emitted unanswered.
	maxPending = 16
	maxNotes   = 8
)

// ErrNotKerberos is returned by Conn.Data when a TCP direction stops
// looking like Kerberos (a record marker out of bounds).
var ErrNotKerberos = errors.New("kerberos: not a Kerberos stream")

// Exchange is a request and its answer, or one of them alone.
type Exchange struct {
	Request, Response     *Message
	RequestTime, RespTime time.Time
	Notes                 []string
}

// Conn parses the Kerberos messages of one flow: a TCP connection (Data,
// Gap, End: a parsers.StreamParser) or a UDP flow (Datagram, Expire, End).
type Conn struct {
	emit func(*Exchange)
	// OnError, when set, is told of each message that did not parse; its
	// record is skipped (TCP) or its datagram dropped (UDP).
	OnError func(err error, ts time.Time)
	// OnLimit, when set, is told when the memory budget refused to hold a
	// record split across segments (the direction is not read further).
	OnLimit func(detail string)

	s       [2]side
	pending []*Exchange
}

type side struct {
	fr   parsers.Framer // cuts records, holds one split across segments
	dead bool
}

// NewConn returns a parser that calls emit for each exchange. The bytes
// of a TCP record split across segments are reserved on acct (pool
// Parsers).
func NewConn(acct *budget.Account, emit func(*Exchange)) *Conn {
	c := &Conn{emit: emit}
	c.s[0].fr.Acct, c.s[1].fr.Acct = acct, acct
	return c
}

// Datagram handles one UDP datagram: one message.
func (c *Conn) Datagram(b []byte, ts time.Time) error {
	m, err := Parse(b)
	if err != nil {
		c.fail(err, ts)
		return err
	}
	c.message(m, ts)
	return nil
}

// Data consumes TCP bytes of direction d.
func (c *Conn) Data(d parsers.Dir, b []byte, ts time.Time) error {
	s := &c.s[d]
	for len(b) > 0 && !s.dead {
		rec, rest, err := s.fr.Next(b, 4, recordLen)
		switch {
		case errors.Is(err, parsers.ErrBudget):
			s.dead = true
			if c.OnLimit != nil {
				c.OnLimit("memory budget spent: a Kerberos record split across segments not read, direction " + d.String() + " no longer parsed")
			}
			return nil
		case err != nil:
			s.dead = true
			return err
		case rec == nil:
			return nil // the rest of a record is to come
		}
		c.record(rec[4:], ts)
		b = rest
	}
	return nil
}

// recordLen returns the length of the record (marker included) whose
// marker starts b.
func recordLen(b []byte) (int, error) {
	l := binary.BigEndian.Uint32(b)
	if !recordInBounds(l) {
		return 0, fmt.Errorf("%w: record length %d", ErrNotKerberos, l)
	}
	return int(l) + 4, nil
}

// recordInBounds tells whether a record marker's length l may be a
// Kerberos message's.
func recordInBounds(l uint32) bool { return l >= minRecord && l <= maxRecord }

func (c *Conn) record(b []byte, ts time.Time) {
	m, err := Parse(b)
	if err != nil {
		c.fail(err, ts)
		return
	}
	c.message(m, ts)
}

func (c *Conn) fail(err error, ts time.Time) {
	if c.OnError != nil {
		c.OnError(err, ts)
	}
}

func (c *Conn) drop(d parsers.Dir) { c.s[d].fr.Release() }

// Gap: bytes of d were lost; a record in progress is lost with them and
// the direction is not read further (nothing marks the next record).
func (c *Conn) Gap(d parsers.Dir, n int, ts time.Time) {
	for _, x := range c.pending {
		x.note(fmt.Sprintf("%d bytes missing %s", n, d))
	}
	c.drop(d)
	c.s[d].dead = true
}

// message pairs m: a request waits for its answer; an answer ends the
// oldest waiting request (KDC exchanges are one answer per request, in
// order, and an answer carries nothing that names its request in the
// clear), or stands alone.
func (c *Conn) message(m *Message, ts time.Time) {
	if m.IsRequest() {
		if len(c.pending) == maxPending {
			old := c.pending[0]
			c.pending = c.pending[1:]
			old.note("no answer before too many other requests")
			c.emit(old)
		}
		c.pending = append(c.pending, &Exchange{Request: m, RequestTime: ts})
		return
	}
	if len(c.pending) == 0 {
		c.emit(&Exchange{Response: m, RespTime: ts})
		return
	}
	x := c.pending[0]
	c.pending = c.pending[1:]
	x.Response, x.RespTime = m, ts
	c.emit(x)
}

// Expire emits the requests that have waited longer than timeout at now
// (packet time).
func (c *Conn) Expire(now time.Time, timeout time.Duration) {
	for len(c.pending) > 0 && now.Sub(c.pending[0].RequestTime) > timeout {
		x := c.pending[0]
		c.pending = c.pending[1:]
		c.emit(x)
	}
}

// Pending counts the requests awaiting an answer.
func (c *Conn) Pending() int { return len(c.pending) }

// End emits the requests still waiting and frees what is held.
func (c *Conn) End(ts time.Time) {
	for _, x := range c.pending {
		c.emit(x)
	}
	c.pending = nil
	c.drop(parsers.ToServer)
	c.drop(parsers.ToClient)
}

func (x *Exchange) note(n string) {
	if len(x.Notes) < maxNotes {
		x.Notes = append(x.Notes, n)
	}
}
