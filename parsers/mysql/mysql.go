// Package mysql reads the login of a MySQL connection (client/server
// protocol, "Connection Phase"): the server's greeting (version, auth
// plugin), the client's handshake response (user, database, auth plugin,
// client program from the connection attributes) and the server's verdict
// (OK, ERR with its code, auth switches in between). Passwords and their
// hashes are never read. A client that asks for TLS (SSL request) makes
// Data return ErrSwitched: the rest of the connection is TLS.
package mysql

import (
	"bytes"
	"encoding/binary"
	"errors"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/parsers/sqlverb"
)

// maxPacket bounds a login packet the parser holds (a greeting or
// handshake response is a few hundred bytes; attributes may add some).
const maxPacket = 8 << 10

// Capability flags read.
const (
	capConnectWithDB = 0x8
	capSSL           = 0x800
	capSecureConn    = 0x8000
	capPluginAuth    = 0x80000
	capConnectAttrs  = 0x100000
	capLenencAuth    = 0x200000
	capCompress      = 0x20
	capZstd          = 1 << 26
	capQueryAttrs    = 1 << 27
)

// Commands whose statements are counted.
const (
	comInitDB      = 0x02
	comQuery       = 0x03
	comStmtPrepare = 0x16
)

// Login is what the connection phase showed.
type Login struct {
	ServerVersion string
	ServerPlugin  string // the server's default auth plugin (greeting)
	User          string
	Database      string
	ClientPlugin  string // the plugin the client answered with
	SwitchPlugin  string // the plugin the server switched to (0xfe), if any
	Client        string // connect attributes: _client_name and _client_version, or program_name
	Program       string
	TLS           bool   // the client asked for TLS: the rest is encrypted
	Result        string // success, failure, or "" while unknown
	ErrorCode     int
	ErrorMessage  string
	SQLState      string
	Limited       bool // the memory budget refused a split packet
	Notes         []string
}

// ErrSwitched is returned once the client has asked for TLS.
var ErrSwitched = parsers.ErrStartTLS

// ErrNotMySQL stops a stream whose packets are not MySQL's.
var ErrNotMySQL = errors.New("mysql: not a MySQL connection")

// Sniff tells whether b, the first bytes of a direction, start a server
// greeting: a packet of sequence 0 whose payload is protocol 10, a
// printable version string ending in NUL, the 8 bytes of auth data and
// their NUL filler. It answers More until the packet is whole.
func Sniff(b []byte) parsers.Verdict {
	if len(b) >= 3 {
		if n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16; n < 20 || n > 1024 {
			return parsers.No
		}
	}
	if (len(b) >= 4 && b[3] != 0) || (len(b) >= 5 && b[4] != 10) {
		return parsers.No
	}
	if len(b) < 4 {
		return parsers.More
	}
	n := 4 + (int(b[0]) | int(b[1])<<8 | int(b[2])<<16)
	if len(b) < n {
		return parsers.More
	}
	if _, err := parseGreeting(b[4:n], &Login{}); err != nil {
		return parsers.No
	}
	return parsers.Yes
}

// parseGreeting reads a HandshakeV10 payload, returning the capabilities.
func parseGreeting(p []byte, l *Login) (uint32, error) {
	if len(p) < 1 || p[0] != 10 {
		return 0, ErrNotMySQL
	}
	i := bytes.IndexByte(p[1:], 0)
	if i < 1 || i > 64 || !parsers.Printable(p[1:1+i]) {
		return 0, ErrNotMySQL
	}
	l.ServerVersion = string(p[1 : 1+i])
	r := p[2+i:]
	// connection id (4), auth data 1 (8), filler (1), capabilities low (2)
	if len(r) < 15 || r[12] != 0 {
		return 0, ErrNotMySQL
	}
	caps := uint32(binary.LittleEndian.Uint16(r[13:]))
	r = r[15:]
	// charset (1), status (2), capabilities high (2), auth data length (1), reserved (10)
	if len(r) < 16 {
		return caps, nil
	}
	caps |= uint32(binary.LittleEndian.Uint16(r[3:])) << 16
	authLen := int(r[5])
	r = r[16:]
	if caps&capSecureConn != 0 {
		r = r[min(len(r), max(13, authLen-8)):]
	}
	if caps&capPluginAuth != 0 {
		l.ServerPlugin = parsers.CString(r, 256)
	}
	return caps, nil
}

// Phases of the login.
const (
	phaseGreeting = iota // waiting for the server's greeting
	phaseResponse        // waiting for the client's handshake response
	phaseAuth            // exchanges until OK or ERR
	phaseDone
)

// Conn is a parsers.StreamParser for one MySQL connection's login.
type Conn struct {
	parsers.Once[Login]
	phase int
	caps  uint32 // the client's capabilities
	login Login
	// After a successful login, with OnStatements set: the client's
	// commands, counted per verb and emitted at the end of the connection.
	sqlverb.Follow[Login]
}

// NewConn returns a parser that calls emit once, when the login outcome
// is known or the connection ends.
func NewConn(acct *budget.Account, emit func(*Login)) *Conn {
	c := &Conn{}
	c.Init(acct, &c.login, &c.login.Notes, emit)
	return c
}

func packetLen(h []byte) (int, error) {
	n := int(h[0]) | int(h[1])<<8 | int(h[2])<<16
	if n > maxPacket {
		return 0, ErrNotMySQL
	}
	return 4 + n, nil
}

func (c *Conn) Data(d parsers.Dir, b []byte, ts time.Time) error {
	if c.Following() {
		// After the login: every client packet of sequence 0 starts a
		// command, and only its first bytes are held.
		c.Feed(d, b, 4, payloadLen)
		return nil
	}
	for len(b) > 0 && !c.Done {
		p, rest, err := c.Frames[d].Next(b, 4, packetLen)
		switch {
		case err == parsers.ErrBudget:
			c.login.Limited = true
			c.Finish()
			return nil
		case err != nil:
			c.Note(err.Error())
			c.Finish()
			return err
		case p == nil:
			return nil
		}
		b = rest
		if err := c.packet(d, p[4:]); err != nil {
			if err == ErrSwitched {
				c.Handed[d] = b
			} else {
				c.Note(err.Error())
				c.Finish()
			}
			return err
		}
	}
	return nil
}

func (c *Conn) packet(d parsers.Dir, p []byte) error {
	l := &c.login
	switch {
	case c.phase == phaseGreeting && d == parsers.ToClient:
		if len(p) > 0 && p[0] == 0xff { // the server refuses the host before any login
			c.serverError(p)
			return nil
		}
		if _, err := parseGreeting(p, l); err != nil {
			return err
		}
		c.phase = phaseResponse
	case c.phase == phaseResponse && d == parsers.ToServer:
		if len(p) < 32 {
			return ErrNotMySQL
		}
		caps := binary.LittleEndian.Uint32(p)
		if len(p) == 32 && caps&capSSL != 0 {
			l.TLS = true
			c.Finish()
			return ErrSwitched
		}
		c.caps = caps
		c.response(caps, p[32:])
		c.phase = phaseAuth
	case c.phase == phaseAuth && d == parsers.ToClient && len(p) > 0:
		switch p[0] {
		case 0x00:
			l.Result = "success"
			c.Finish()
			if c.Enabled() && c.caps&(capCompress|capZstd) == 0 {
				// Compressed packets are not read: no statements then.
				c.Start(c.Frames[0].Acct, c.command)
			}
		case 0xff:
			c.serverError(p)
		case 0xfe: // auth switch request: the plugin to use instead
			l.SwitchPlugin = parsers.CString(p[1:], 256)
		}
	}
	return nil
}

// response reads a HandshakeResponse41 after its 32 fixed bytes. The auth
// response (a password hash) is skipped, never kept.
func (c *Conn) response(caps uint32, r []byte) {
	l := &c.login
	l.User = parsers.CString(r, 256)
	r = r[min(len(r), len(l.User)+1):]
	switch {
	case caps&capLenencAuth != 0:
		n, k := lenenc(r)
		r = r[min(len(r), k+n):]
	case caps&capSecureConn != 0 && len(r) > 0:
		r = r[min(len(r), 1+int(r[0])):]
	default:
		r = r[min(len(r), len(parsers.CString(r, 256))+1):]
	}
	if caps&capConnectWithDB != 0 {
		l.Database = parsers.CString(r, 256)
		r = r[min(len(r), len(l.Database)+1):]
	}
	if caps&capPluginAuth != 0 {
		l.ClientPlugin = parsers.CString(r, 256)
		r = r[min(len(r), len(l.ClientPlugin)+1):]
	}
	if caps&capConnectAttrs != 0 {
		n, k := lenenc(r)
		c.attrs(r[min(len(r), k):min(len(r), k+n)])
	}
}

// attrs reads the connection attributes the sensor reports.
func (c *Conn) attrs(r []byte) {
	var name, version string
	for len(r) > 0 {
		k, rest, ok := lenencStr(r)
		if !ok {
			return
		}
		v, rest, ok := lenencStr(rest)
		if !ok {
			return
		}
		r = rest
		switch string(k) {
		case "_client_name":
			name = string(v)
		case "_client_version":
			version = string(v)
		case "program_name":
			c.login.Program = string(v)
		}
	}
	c.login.Client = name
	if name != "" && version != "" {
		c.login.Client = name + " " + version
	}
}

func (c *Conn) serverError(p []byte) {
	l := &c.login
	l.Result = "failure"
	if len(p) >= 3 {
		l.ErrorCode = int(binary.LittleEndian.Uint16(p[1:]))
		m := p[3:]
		if len(m) >= 6 && m[0] == '#' {
			l.SQLState, m = string(m[1:6]), m[6:]
		}
		l.ErrorMessage = string(m[:min(len(m), 256)])
	}
	c.Finish()
}

// lenenc reads a length-encoded integer: its value and size.
func lenenc(b []byte) (int, int) {
	if len(b) == 0 {
		return 0, 0
	}
	switch b[0] {
	case 0xfc:
		if len(b) >= 3 {
			return int(binary.LittleEndian.Uint16(b[1:])), 3
		}
	case 0xfd:
		if len(b) >= 4 {
			return int(b[1]) | int(b[2])<<8 | int(b[3])<<16, 4
		}
	case 0xfe, 0xff:
		return len(b), 1 // 8-byte lengths do not fit a login packet: the rest
	default:
		return int(b[0]), 1
	}
	return len(b), len(b)
}

func lenencStr(b []byte) (s, rest []byte, ok bool) {
	n, k := lenenc(b)
	if k == 0 || k+n > len(b) {
		return nil, nil, false
	}
	return b[k : k+n], b[k+n:], true
}

func payloadLen(h []byte) (int, error) { return int(h[0]) | int(h[1])<<8 | int(h[2])<<16, nil }

func (c *Conn) command(h []byte, n int, p []byte) {
	if h[3] != 0 || len(p) == 0 {
		return // a continuation, or LOAD DATA LOCAL's file contents
	}
	s, cut := c.Counts(), len(p) < n
	switch p[0] {
	case comQuery:
		q := p[1:]
		if c.caps&capQueryAttrs != 0 {
			// parameter_count, parameter_set_count; with parameters, their
			// types and values come first: the verb is not looked for.
			// The text is not seen: one statement of verb UNKNOWN, unsplit.
			n, k := lenenc(q)
			if n != 0 || k == 0 {
				s.AddQuery(nil, true, true)
				return
			}
			_, k2 := lenenc(q[k:])
			q = q[min(len(q), k+k2):]
		}
		s.AddQuery(q, true, cut)
	case comStmtPrepare:
		s.Add(p[1:], true, cut)
	case comInitDB:
		s.UseDatabase(p[1:])
	}
}

// Gap stops the counting of statements, or ends the login.
func (c *Conn) Gap(d parsers.Dir, n int, ts time.Time) {
	if c.Following() {
		c.Follow.Gap(d)
		return
	}
	c.Once.Gap(d, n, ts)
}

// End emits the login if not done, and the statements counted.
func (c *Conn) End(ts time.Time) {
	c.Once.End(ts)
	c.Flush(&c.login)
}
