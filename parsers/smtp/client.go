package smtp

import (
	"bytes"
	"slices"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/parsers/internal/lineproto"
)

// client reads the client's bytes: commands, AUTH lines, messages.
func (c *Conn) client(b []byte, ts time.Time) error {
	s := &c.lines[parsers.ToServer]
	for len(b) > 0 && c.mode != modeDone {
		switch c.mode {
		case modeBDAT:
			k := int(min(int64(len(b)), c.bdatLeft))
			c.msg.raw(b[:k])
			c.tx.DataBytes += int64(k)
			c.bdatLeft -= int64(k)
			b = b[k:]
			if c.bdatLeft == 0 {
				c.endBDAT()
			}
			continue
		case modeHoldTLS:
			c.hold(b)
			return nil
		}
		p, rest, ok := s.Next(b, maxLine, c.acct)
		c.limited = c.limited || s.Limited
		if !ok {
			return nil
		}
		b = rest
		switch c.mode {
		case modeAuth:
			// The AUTH exchange's lines carry credentials: never read. A
			// lone "*" cancels it, which the server's reply will say.
		case modeMessage:
			c.messageLine(p)
		default:
			if p.First {
				c.command(p, ts)
			}
		}
	}
	return nil
}

// messageLine handles a line of a DATA message: "." ends it; a leading
// dot of any other line is removed (RFC 5321 §4.5.2).
func (c *Conn) messageLine(p lineproto.Piece) {
	line := p.Line
	if p.First && len(line) > 0 && line[0] == '.' {
		if p.Last && len(p.Text()) == 1 {
			c.msg.end()
			c.push(cmdEOD)
			c.mode = modeCommand
			return
		}
		line = line[1:]
	}
	c.tx.DataBytes += int64(len(line))
	c.msg.line(line, p.First, p.Last)
}

// command handles a client command line (the first piece of a long one).
func (c *Conn) command(p lineproto.Piece, ts time.Time) {
	verb, arg := splitCommand(p.Text())
	if c.dataPending && c.tx != nil && !known(verb) {
		// DATA's 354 was not seen but the message has begun: no reply
		// to DATA will come.
		c.dataPending = false
		if i := slices.Index(c.pending, cmdData); i >= 0 {
			c.pending = slices.Delete(c.pending, i, i+1)
		}
		c.startMessage()
		c.messageLine(p)
		return
	}
	k := cmdOther
	switch verb {
	case "HELO", "EHLO":
		k = cmdHelo
		c.sess.Helo = clip(string(arg))
		if c.tx != nil {
			c.finishTx() // a new HELO resets the transaction (RFC 5321 §4.1.4)
		}
	case "MAIL":
		k = cmdMail
		c.openTx(ts)
		c.tx.MailFrom = path(arg, "FROM:")
	case "RCPT":
		k = cmdRcpt
		if c.tx == nil {
			c.note("smtp.rcpt_without_mail: RCPT TO before MAIL FROM")
			break
		}
		c.tx.RcptCount++
		if len(c.tx.RcptTo) < maxRcpt {
			c.tx.RcptTo = append(c.tx.RcptTo, path(arg, "TO:"))
		}
	case "DATA":
		k = cmdData
		c.dataPending = c.tx != nil
	case "BDAT":
		k = cmdBDAT
		c.bdat(arg)
	case "RSET":
		k = cmdRset
		c.finishTx()
	case "AUTH":
		k = cmdAuth
		mech, _, _ := bytes.Cut(arg, []byte{' '})
		c.sess.AuthMechanism, c.sess.AuthOutcome = clip(string(bytes.ToUpper(mech))), ""
		c.mode = modeAuth
	case "STARTTLS":
		k = cmdStartTLS
		c.mode = modeHoldTLS
	case "QUIT":
		k = cmdQuit
	}
	c.push(k)
}

// known says whether verb is an SMTP command (RFC 5321 and extensions).
func known(verb string) bool {
	switch verb {
	case "HELO", "EHLO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "QUIT",
		"VRFY", "EXPN", "HELP", "AUTH", "STARTTLS", "TURN", "ETRN", "ATRN", "XCLIENT", "XFORWARD":
		return true
	}
	return false
}

func (c *Conn) push(k kind) {
	if len(c.pending) >= maxPending {
		c.note("smtp.pipeline_overflow: too many commands waiting for replies")
		copy(c.pending, c.pending[1:])
		c.pending = c.pending[:len(c.pending)-1]
	}
	c.pending = append(c.pending, k)
}

// bdat starts a BDAT chunk (RFC 3030): "BDAT size [LAST]".
func (c *Conn) bdat(arg []byte) {
	n, last, ok := parseBDAT(arg)
	if !ok || c.tx == nil {
		c.note("smtp.bad_bdat: BDAT without a valid size or transaction")
		return
	}
	if !c.tx.Data {
		c.startMessage()
	}
	c.bdatLeft, c.bdatLast = n, last
	c.mode = modeBDAT
	if n == 0 {
		c.endBDAT()
	}
}

func parseBDAT(arg []byte) (n int64, last bool, ok bool) {
	size, rest, _ := bytes.Cut(arg, []byte{' '})
	if len(size) == 0 || len(size) > 15 {
		return 0, false, false
	}
	for _, ch := range size {
		if ch < '0' || ch > '9' {
			return 0, false, false
		}
		n = n*10 + int64(ch-'0')
	}
	return n, bytes.EqualFold(bytes.TrimSpace(rest), []byte("LAST")), true
}

func (c *Conn) endBDAT() {
	c.mode = modeCommand
	if c.bdatLast {
		c.msg.end()
		c.pending = c.pending[:max(0, len(c.pending)-1)] // BDAT LAST's reply is the end of data's
		c.push(cmdEOD)
	}
}

func (c *Conn) startMessage() {
	c.tx.Data = true
	c.mode = modeMessage
}

// hold keeps the client bytes sent after STARTTLS before its reply: the
// start of TLS if the server accepts, more commands if it refuses.
func (c *Conn) hold(b []byte) {
	n := min(len(b), maxTLSHeld-len(c.held.B))
	if n < len(b) {
		c.note("smtp.starttls_held: client bytes before the STARTTLS reply beyond the bound were not kept")
	}
	if !c.held.Append(c.acct, b[:n], maxTLSHeld) {
		c.limited = true
	}
}

// splitCommand cuts a command line into its verb (upper case) and argument.
func splitCommand(line []byte) (string, []byte) {
	verb, arg, _ := bytes.Cut(line, []byte{' '})
	if len(verb) > 16 {
		return "", nil
	}
	return upperVerb(verb), bytes.TrimSpace(arg)
}

// upperVerb returns the verb in upper case, without allocating for the
// usual ones.
func upperVerb(v []byte) string {
	for _, k := range [...]string{"HELO", "EHLO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "QUIT", "AUTH", "STARTTLS", "VRFY"} {
		if len(v) == len(k) && bytes.EqualFold(v, []byte(k)) {
			return k
		}
	}
	return string(bytes.ToUpper(v))
}

// path reads the address of "FROM:<a@b> SIZE=1" or "TO:<a@b>" (brackets
// optional, spaces after the colon tolerated).
func path(arg []byte, prefix string) string {
	if len(arg) >= len(prefix) && bytes.EqualFold(arg[:len(prefix)], []byte(prefix)) {
		arg = bytes.TrimLeft(arg[len(prefix):], " ")
	}
	if len(arg) > 0 && arg[0] == '<' {
		if i := bytes.IndexByte(arg, '>'); i > 0 {
			return clip(string(arg[1:i]))
		}
		arg = arg[1:]
	}
	a, _, _ := bytes.Cut(arg, []byte{' '})
	return clip(string(a))
}

func clip(s string) string {
	if len(s) > maxValue {
		return s[:maxValue]
	}
	return s
}
