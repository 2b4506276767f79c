// Package ftp reads the control connection of FTP (RFC 959, RFC 2428):
// the client's commands — the password never: PASS and ACCT arguments are
// replaced by a marker — the server's replies, matched in order (a 1xx
// reply is preliminary: the final one follows), the user, the login
// outcome, the current directory, file names and transfer sizes, and the
// data connections PORT/EPRT and PASV/EPSV announce. One Command is
// emitted per command, with its final reply. Lines are bounded and their
// held bytes paid from the memory budget.
package ftp

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/parsers/internal/lineproto"
)

// Redacted replaces the argument of PASS and ACCT.
const Redacted = "<redacted>"

// Login outcomes.
const (
	LoginSuccess = "success"
	LoginFailure = "failure"
)

// ErrNotFTP is returned by Conn.Data when the server sent too many lines
// that are not replies. Data returns parsers.ErrStartTLS when the server
// accepted AUTH TLS (234): the rest is TLS, starting with Switched().
var ErrNotFTP = errors.New("ftp: not an FTP stream")

const (
	maxLine       = 2048
	maxPending    = 64
	maxValue      = 1024
	maxBadReplies = 8
	maxNotes      = 8
)

// Command is one command and its reply.
type Command struct {
	Time    time.Time // when the command was sent
	Command string    // the verb, upper case
	Tx      uint64    // the command's number in the connection, from 1
	Arg     string    // its argument (Redacted for PASS and ACCT)
	User    string    // the user of the session so far (USER's argument)
	Cwd     string    // the current directory, as far as PWD replies and CWDs tell
	// ReplyCode and ReplyText are the final reply's (0: none came);
	// Preliminary is the code of a 1xx reply before it (150).
	ReplyCode   int
	ReplyText   string
	Preliminary int
	// File is the path a file command names (RETR, STOR, STOU, APPE,
	// DELE, SIZE, MDTM, RNFR, RNTO, MLST) or a listing's argument.
	File string
	// Size is a transfer's size from "(N bytes)" in its 150 or 226
	// reply, or a SIZE reply's; -1 unknown.
	Size int64
	// Data is the data connection PORT/EPRT (active: the client listens)
	// or PASV/EPSV (passive: the server listens) announced; an EPSV
	// endpoint has no address: it is the server's.
	Data DataChannel
	// Channel is, on a command that uses a data connection, the one
	// announced last before it (by PORT/EPRT, or PASV/EPSV's reply).
	Channel DataChannel
	// Login is the outcome of USER/PASS (230 success, 530 failure).
	Login string
	Notes []string
}

// DataChannel is an announced data connection endpoint.
type DataChannel struct {
	Addr    netip.AddrPort // an invalid address with a port for EPSV
	Passive bool
	Set     bool
}

type pending struct {
	cmd Command
}

// Conn is a parsers.StreamParser for one FTP control connection.
type Conn struct {
	acct *budget.Account
	emit func(*Command)
	// OnData, when set, is called with a command that moves bytes over a
	// data connection (RETR, STOR, STOU, APPE, LIST, NLST, MLSD) as soon as
	// it is read, and again at its preliminary (1xx) reply, which may say
	// the size: the data connection's bytes come between the two and its
	// command's final reply, which is too late to name them.
	OnData   func(*Command)
	ncmd     uint64
	lastData DataChannel // the data connection announced last
	lines    [2]lineproto.Splitter
	queue    []pending
	user     string
	cwd      string
	greeted  bool
	bad      int
	done     bool
	ended    bool
	tls      bool // AUTH TLS sent, waiting for 234
	multi    int  // the code of the multi-line reply being read
	rest     [2][]byte
	held     []byte // client bytes after AUTH TLS, before its reply
	notes    []string
	limited  bool
}

// NewConn returns a parser that calls emit for each command (valid only
// during the call). Held bytes are paid on acct (pool Parsers).
func NewConn(acct *budget.Account, emit func(*Command)) *Conn {
	return &Conn{acct: acct, emit: emit}
}

// Switched returns, after parsers.ErrStartTLS, the bytes of each direction that
// followed the 234: the start of the TLS stream.
func (c *Conn) Switched() [2][]byte { return c.rest }

// MemoryLimited says the budget refused to hold a partial line.
func (c *Conn) MemoryLimited() bool { return c.limited }

func (c *Conn) Data(d parsers.Dir, b []byte, ts time.Time) error {
	if c.done {
		return nil
	}
	if d == parsers.ToServer && c.tls {
		if len(c.held)+len(b) <= maxLine {
			c.held = append(c.held, b...) // small: a ClientHello's start is enough to detect it
		}
		return nil
	}
	s := &c.lines[d]
	for len(b) > 0 {
		p, rest, ok := s.Next(b, maxLine, c.acct)
		c.limited = c.limited || s.Limited
		if !ok {
			return nil
		}
		b = rest
		if !p.First {
			continue
		}
		if d == parsers.ToServer {
			c.command(p.Text(), ts)
			if c.tls {
				c.held = append(c.held[:0], b[:min(len(b), maxLine)]...)
				return nil
			}
			continue
		}
		if err := c.reply(p.Text()); err != nil {
			if err == parsers.ErrStartTLS {
				c.rest = [2][]byte{c.held, b}
			}
			return err
		}
	}
	return nil
}

func (c *Conn) Gap(d parsers.Dir, n int, ts time.Time) {
	if c.done {
		return
	}
	c.lines[d].Free(c.acct)
	c.note(fmt.Sprintf("ftp.gap: %d bytes missing from %s", n, d))
	if d == parsers.ToClient {
		c.flush() // the replies are lost: the commands go without
	}
}

func (c *Conn) End(ts time.Time) {
	if c.ended {
		return
	}
	c.ended, c.done = true, true
	c.flush()
	for i := range c.lines {
		c.lines[i].Free(c.acct)
	}
}

// flush emits the commands waiting for a reply, without one.
func (c *Conn) flush() {
	for i := range c.queue {
		c.emit(&c.queue[i].cmd)
	}
	c.queue = c.queue[:0]
}

func (c *Conn) note(n string) {
	if len(c.notes) < maxNotes {
		c.notes = append(c.notes, n)
	}
}

// command handles a client command line.
func (c *Conn) command(line []byte, ts time.Time) {
	verb, arg, _ := bytes.Cut(line, []byte{' '})
	if len(verb) == 0 || len(verb) > 16 {
		c.note("ftp.bad_command: a client line is not a command")
		return
	}
	c.ncmd++
	cmd := Command{Time: ts, Tx: c.ncmd, Command: strings.ToUpper(string(verb)), Arg: clip(string(bytes.TrimSpace(arg))), Size: -1, Notes: c.notes}
	c.notes = nil
	switch cmd.Command {
	case "PASS", "ACCT":
		if cmd.Arg != "" {
			cmd.Arg = Redacted
		}
	case "USER":
		c.user = cmd.Arg
	case "RETR", "STOR", "STOU", "APPE", "DELE", "SIZE", "MDTM", "RNFR", "RNTO", "MLST", "LIST", "NLST", "MLSD":
		cmd.File, cmd.Channel = c.abs(cmd.Arg), c.lastData
	case "PORT":
		cmd.Data = DataChannel{Addr: parsePort(cmd.Arg), Set: true}
		c.lastData = cmd.Data
	case "EPRT":
		cmd.Data = DataChannel{Addr: parseEPRT(cmd.Arg), Set: true}
		c.lastData = cmd.Data
	case "AUTH":
		a := strings.ToUpper(cmd.Arg)
		c.tls = a == "TLS" || a == "SSL" || a == "TLS-C"
	}
	cmd.User, cmd.Cwd = c.user, c.cwd
	if len(c.queue) >= maxPending {
		c.note("ftp.pipeline_overflow: too many commands waiting for replies")
		c.emit(&c.queue[0].cmd)
		c.queue = c.queue[1:]
	}
	c.queue = append(c.queue, pending{cmd})
	c.dataCommand(&c.queue[len(c.queue)-1].cmd)
}

// dataCommand tells OnData about a command that uses a data connection.
func (c *Conn) dataCommand(cmd *Command) {
	if c.OnData == nil {
		return
	}
	switch cmd.Command {
	case "RETR", "STOR", "STOU", "APPE", "LIST", "NLST", "MLSD":
		c.OnData(cmd)
	}
}

// abs is p relative to the current directory, when that is known.
func (c *Conn) abs(p string) string {
	if p == "" || strings.HasPrefix(p, "/") || c.cwd == "" || strings.HasPrefix(p, "-") {
		return p
	}
	return path.Join(c.cwd, p)
}

// reply handles a server reply line.
func (c *Conn) reply(line []byte) error {
	r, ok := lineproto.ParseReply(line)
	if c.multi != 0 {
		// Inside a multi-line reply any line may come; it ends at its
		// code and a space (RFC 959 §4.2).
		if !ok || r.Code != c.multi || !r.Final {
			return nil
		}
		c.multi = 0
	} else if ok && !r.Final {
		c.multi = r.Code
	}
	if !ok {
		if c.bad++; c.bad > maxBadReplies {
			c.done = true
			return ErrNotFTP
		}
		return nil // a line inside a multi-line reply, or junk
	}
	if !r.Final {
		return nil
	}
	if !c.greeted && r.Code == 220 || len(c.queue) == 0 {
		c.greeted = true
		return nil // the greeting, or a reply nothing asked for (421)
	}
	c.greeted = true
	cmd := &c.queue[0].cmd
	text := clip(string(r.Text))
	if r.Code < 200 {
		cmd.Preliminary = r.Code
		if n, ok := bytesIn(text); ok {
			cmd.Size = n
		}
		c.dataCommand(cmd)
		return nil
	}
	cmd.ReplyCode, cmd.ReplyText = r.Code, text
	ok2 := r.Code < 300
	switch cmd.Command {
	case "USER", "PASS":
		switch {
		case r.Code == 230:
			cmd.Login = LoginSuccess
		case r.Code == 530 || cmd.Command == "PASS" && r.Code >= 400:
			cmd.Login = LoginFailure
		}
	case "PWD", "XPWD":
		if r.Code == 257 {
			c.cwd = quoted(text)
		}
	case "CWD", "XCWD":
		if ok2 && c.cwd != "" {
			if strings.HasPrefix(cmd.Arg, "/") {
				c.cwd = path.Clean(cmd.Arg)
			} else {
				c.cwd = path.Join(c.cwd, cmd.Arg)
			}
		}
	case "CDUP":
		if ok2 && c.cwd != "" {
			c.cwd = path.Dir(c.cwd)
		}
	case "PASV":
		if r.Code == 227 {
			cmd.Data = DataChannel{Addr: parsePASV(text), Passive: true, Set: true}
			c.lastData = cmd.Data
		}
	case "EPSV":
		if r.Code == 229 {
			cmd.Data = DataChannel{Addr: parseEPSV(text), Passive: true, Set: true}
			c.lastData = cmd.Data
		}
	case "SIZE":
		if r.Code == 213 {
			if n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64); err == nil && n >= 0 {
				cmd.Size = n
			}
		}
	}
	if n, ok := bytesIn(text); ok && cmd.Size < 0 {
		cmd.Size = n
	}
	tls := cmd.Command == "AUTH" && c.tls && r.Code == 234
	c.tls = false
	c.emit(cmd)
	c.queue = c.queue[1:]
	if tls {
		c.done = true
		return parsers.ErrStartTLS
	}
	if len(c.held) > 0 {
		held := c.held
		c.held = nil
		return c.Data(parsers.ToServer, held, cmd.Time) // AUTH refused: they were commands
	}
	return nil
}

func clip(s string) string {
	if len(s) > maxValue {
		return s[:maxValue]
	}
	return s
}
