package smtp

import (
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/parsers/internal/lineproto"
)

// server reads the server's replies and matches each to the oldest
// command waiting for one.
func (c *Conn) server(b []byte, ts time.Time) error {
	s := &c.lines[parsers.ToClient]
	for len(b) > 0 {
		p, rest, ok := s.Next(b, maxLine, c.acct)
		c.limited = c.limited || s.Limited
		if !ok {
			return nil
		}
		b = rest
		if !p.First {
			continue // the rest of a long reply line
		}
		r, ok := lineproto.ParseReply(p.Text())
		if !ok {
			if c.badReplies++; c.badReplies > maxBadReplies {
				c.mode = modeDone
				return ErrNotSMTP
			}
			c.note("smtp.bad_reply: a server line is not a reply")
			continue
		}
		if !c.greeted && c.sess.Greeting == "" && r.Code == 220 {
			c.sess.Greeting = clip(string(r.Text)) // the first line names the server
		}
		if !r.Final {
			continue
		}
		if c.reply(r, ts) {
			c.rest = [2][]byte{c.held.B, b}
			return parsers.ErrStartTLS
		}
	}
	return nil
}

// reply handles the last line of a reply; it returns true when the reply
// accepts STARTTLS.
func (c *Conn) reply(r lineproto.Reply, ts time.Time) bool {
	if c.mode == modeMessage || c.mode == modeBDAT {
		// The server does not speak during a message: its end was lost.
		c.note("smtp.data_end_missing: a reply came before the end of the message")
		c.msg.end()
		c.mode = modeCommand
		c.pending = append(c.pending[:0], cmdEOD)
	}
	c.record(r)
	if !c.greeted && len(c.pending) == 0 || !c.greeted && r.Code == 220 {
		c.greeted = true
		return false
	}
	c.greeted = true
	if len(c.pending) == 0 {
		return false // unsolicited (a 421 shutting down, or a lost command)
	}
	k := c.pending[0]
	if k == cmdAuth && r.Code == 334 {
		return false // a challenge: the exchange goes on
	}
	c.pending = c.pending[1:]
	ok := r.Code >= 200 && r.Code < 300
	switch k {
	case cmdAuth:
		c.sess.AuthOutcome = AuthFailure
		if ok {
			c.sess.AuthOutcome = AuthSuccess
		}
		if c.mode == modeAuth {
			c.mode = modeCommand
		}
	case cmdData:
		c.dataPending = false
		if r.Code == 354 && c.mode == modeCommand {
			if c.tx == nil {
				c.openTx(ts)
			}
			c.startMessage()
		}
	case cmdEOD:
		if c.tx != nil {
			c.tx.Delivered = ok
		}
	case cmdStartTLS:
		if r.Code == 220 {
			c.sess.StartTLS = true
			c.mode = modeDone
			return true
		}
		held := c.held.B
		c.held.B = held[:0]
		c.mode = modeCommand
		_ = c.client(held, ts) // refused: what the client sent next are commands
	}
	return false
}

// record keeps the reply's code and text on the transaction, or on the
// session between transactions.
func (c *Conn) record(r lineproto.Reply) {
	codes, last := &c.sessCodes, &c.lastReply
	if c.tx != nil {
		codes, last = &c.tx.Codes, &c.tx.LastReply
	}
	if len(*codes) < maxCodes {
		*codes = append(*codes, r.Code)
	}
	*last = clip(string(r.Text))
}
