// Package pgsql reads the login of a PostgreSQL connection (frontend/
// backend protocol 3.0, start-up): the client's SSLRequest or
// GSSENCRequest and the server's one-byte answer, the StartupMessage
// (user, database, application_name), the server's authentication
// requests (method: trust, cleartext, MD5, SASL with its mechanisms), and
// the outcome: ReadyForQuery after AuthenticationOk, or an ErrorResponse
// (SQLSTATE, message). The server version comes from ParameterStatus.
// Password and SASL messages are never read. When the server accepts
// SSL, Data returns ErrSwitched: the rest of the connection is TLS.
package pgsql

import (
	"bytes"
	"encoding/binary"
	"errors"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/parsers/sqlverb"
)

// maxMessage bounds a start-up message the parser holds.
const maxMessage = 8 << 10

// Request codes in the place of a protocol version.
const (
	codeSSL    = 80877103
	codeGSSENC = 80877104
	codeCancel = 80877102
	proto30    = 3 << 16
)

// Login is what the start-up showed.
type Login struct {
	User, Database, Application string
	SSLRequested                bool
	SSLAccepted                 bool // the server answered S: the rest is TLS
	Cancel                      bool // a CancelRequest, not a login
	AuthMethods                 []string
	ServerVersion               string
	Result                      string // success, failure, "" while unknown
	SQLState, ErrorMessage      string
	Severity                    string
	Limited                     bool
	Notes                       []string
}

// ErrSwitched is returned once the server accepted SSL.
var ErrSwitched = parsers.ErrStartTLS

// ErrNotPgSQL stops a stream that is not PostgreSQL's start-up.
var ErrNotPgSQL = errors.New("pgsql: not a PostgreSQL start-up")

// Sniff tells whether b, the first bytes of the client's direction, start
// a PostgreSQL connection: an SSLRequest, GSSENCRequest or CancelRequest
// (their exact length and code), or a StartupMessage of protocol 3.0
// whose parameters are NUL-terminated printable pairs ending in a NUL. It
// answers More until the message is whole (for a start-up longer than
// what a caller holds, until its first parameter name is).
func Sniff(b []byte) parsers.Verdict {
	if len(b) >= 4 {
		if n := binary.BigEndian.Uint32(b); n < 8 || n > maxMessage {
			return parsers.No
		}
	} else {
		if len(b) >= 1 && b[0] != 0 {
			return parsers.No
		}
		return parsers.More
	}
	if len(b) < 8 {
		return parsers.More
	}
	n, code := int(binary.BigEndian.Uint32(b)), binary.BigEndian.Uint32(b[4:])
	switch code {
	case codeSSL, codeGSSENC:
		if n == 8 {
			return parsers.Yes
		}
		return parsers.No
	case codeCancel:
		if n == 16 {
			return parsers.Yes
		}
		return parsers.No
	case proto30:
	default:
		return parsers.No
	}
	if len(b) < n {
		return parsers.More
	}
	if !startupParams(b[8:n], nil) {
		return parsers.No
	}
	return parsers.Yes
}

// startupParams checks (and, with l, reads) the parameters of a
// StartupMessage: printable names and values, each NUL-terminated, the
// list ended by a NUL.
func startupParams(p []byte, l *Login) bool {
	for {
		if len(p) == 1 && p[0] == 0 {
			return true
		}
		k := bytes.IndexByte(p, 0)
		if k < 1 || !parsers.Printable(p[:k]) {
			return false
		}
		name := p[:k]
		p = p[k+1:]
		v := bytes.IndexByte(p, 0)
		if v < 0 {
			return false
		}
		if l != nil {
			switch string(name) {
			case "user":
				l.User = string(p[:v])
			case "database":
				l.Database = string(p[:v])
			case "application_name":
				l.Application = string(p[:v])
			}
		}
		p = p[v+1:]
	}
}

// Phases.
const (
	phaseStart = iota // the client's first message
	phaseSSL          // waiting for the server's S or N
	phaseAuth         // server messages until ReadyForQuery or an error
	phaseDone
)

// Conn is a parsers.StreamParser for one PostgreSQL connection's start-up.
type Conn struct {
	parsers.Once[Login]
	phase  int
	authOK bool
	login  Login
	// After a successful login, with OnStatements set: the client's
	// queries, counted per verb and emitted at the end of the connection.
	sqlverb.Follow[Login]
}

// NewConn returns a parser that calls emit once, when the login outcome
// is known or the connection ends.
func NewConn(acct *budget.Account, emit func(*Login)) *Conn {
	c := &Conn{}
	c.Init(acct, &c.login, &c.login.Notes, emit)
	return c
}

func startLen(h []byte) (int, error) {
	n := int(binary.BigEndian.Uint32(h))
	if n < 8 || n > maxMessage {
		return 0, ErrNotPgSQL
	}
	return n, nil
}

func typedLen(h []byte) (int, error) {
	n := int(binary.BigEndian.Uint32(h[1:]))
	if n < 4 || n > maxMessage {
		return 0, ErrNotPgSQL
	}
	return 1 + n, nil
}

func (c *Conn) Data(d parsers.Dir, b []byte, ts time.Time) error {
	if c.Following() {
		c.Feed(d, b, 5, frontendLen)
		return nil
	}
	for len(b) > 0 && !c.Done {
		if d == parsers.ToClient && c.phase == phaseSSL {
			// The answer to SSLRequest is one byte, not a message.
			if b[0] == 'S' {
				c.login.SSLAccepted = true
				c.Handed[parsers.ToClient] = b[1:]
				c.Finish()
				return ErrSwitched
			}
			if b[0] != 'N' {
				return c.fail(ErrNotPgSQL)
			}
			b = b[1:]
			c.phase = phaseStart
			continue
		}
		if d == parsers.ToServer && c.phase != phaseStart {
			return nil // passwords and SASL messages: not read
		}
		if d == parsers.ToClient && c.phase != phaseAuth {
			return c.fail(ErrNotPgSQL) // the server speaks first
		}
		hdr, length := 8, startLen
		if d == parsers.ToClient {
			hdr, length = 5, typedLen
		}
		m, rest, err := c.Frames[d].Next(b, hdr, length)
		switch {
		case err == parsers.ErrBudget:
			c.login.Limited = true
			c.Finish()
			return nil
		case err != nil:
			return c.fail(err)
		case m == nil:
			return nil
		}
		b = rest
		if d == parsers.ToServer {
			err = c.start(m)
		} else {
			err = c.server(m[0], m[5:])
		}
		if err != nil {
			return c.fail(err)
		}
	}
	return nil
}

func (c *Conn) fail(err error) error {
	c.Note(err.Error())
	c.Finish()
	return err
}

// start reads the client's untyped first message.
func (c *Conn) start(m []byte) error {
	switch binary.BigEndian.Uint32(m[4:]) {
	case codeSSL, codeGSSENC:
		c.login.SSLRequested = true
		c.phase = phaseSSL
	case codeCancel:
		c.login.Cancel = true
		c.Finish()
	case proto30:
		if !startupParams(m[8:], &c.login) {
			return ErrNotPgSQL
		}
		c.phase = phaseAuth
	default:
		return ErrNotPgSQL
	}
	return nil
}

// server reads one backend message of the start-up.
func (c *Conn) server(typ byte, p []byte) error {
	l := &c.login
	switch typ {
	case 'R':
		if len(p) < 4 {
			return ErrNotPgSQL
		}
		code := binary.BigEndian.Uint32(p)
		switch code {
		case 0:
			c.authOK = true
			if len(l.AuthMethods) == 0 {
				c.method("trust")
			}
		case 10:
			// SASL: the mechanisms the server offers, NUL-terminated.
			for r := p[4:]; len(r) > 1; {
				k := bytes.IndexByte(r, 0)
				if k <= 0 {
					break
				}
				c.method(string(r[:k]))
				r = r[k+1:]
			}
		default:
			if name := authNames[code]; name != "" {
				c.method(name)
			}
		}
	case 'S':
		if k := bytes.IndexByte(p, 0); k > 0 && string(p[:k]) == "server_version" {
			l.ServerVersion = parsers.CString(p[k+1:], 256)
		}
	case 'Z':
		if c.authOK {
			l.Result = "success"
		}
		c.Finish()
		if c.authOK && c.Enabled() {
			c.Start(c.Frames[0].Acct, c.message)
		}
	case 'E':
		l.Result = "failure"
		for r := p; len(r) > 1; {
			k := bytes.IndexByte(r[1:], 0)
			if k < 0 {
				break
			}
			v := string(r[1 : 1+min(k, 256)])
			switch r[0] {
			case 'C':
				l.SQLState = v
			case 'M':
				l.ErrorMessage = v
			case 'V': // the severity never translated (9.6 and later)
				l.Severity = v
			case 'S':
				if l.Severity == "" {
					l.Severity = v
				}
			}
			r = r[k+2:]
		}
		c.Finish()
	case 'K', 'N', 'v': // key data, notices, protocol version negotiation
	default:
		return ErrNotPgSQL
	}
	return nil
}

// authNames are the authentication request codes other than OK and SASL.
var authNames = map[uint32]string{2: "kerberos_v5", 3: "cleartext", 5: "md5", 7: "gss", 9: "sspi"}

func (c *Conn) method(m string) {
	for _, x := range c.login.AuthMethods {
		if x == m {
			return
		}
	}
	if len(c.login.AuthMethods) < 8 {
		c.login.AuthMethods = append(c.login.AuthMethods, m)
	}
}

// frontendLen reads a frontend message header: type, then a length that
// counts itself.
func frontendLen(h []byte) (int, error) {
	n := int(binary.BigEndian.Uint32(h[1:]))
	if n < 4 {
		return 0, ErrNotPgSQL
	}
	return n - 4, nil
}

// message counts a frontend message after the login: a simple Query's
// statements, or a Parse's one (after the prepared statement's name).
func (c *Conn) message(h []byte, n int, p []byte) {
	s, cut := c.Counts(), len(p) < n
	switch h[0] {
	case 'Q':
		q, cut := cString(p, cut)
		s.AddQuery(q, false, cut)
	case 'P':
		if k := bytes.IndexByte(p, 0); k >= 0 {
			s.Add(p[k+1:], false, cut)
		} else {
			s.Add(nil, false, false) // a name longer than what is held
		}
	}
}

// cString is the text of a string field that starts p, as the server
// reads it: up to its NUL, and whole when the NUL is within p.
func cString(p []byte, cut bool) ([]byte, bool) {
	if k := bytes.IndexByte(p, 0); k >= 0 {
		return p[:k], false
	}
	return p, cut
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
