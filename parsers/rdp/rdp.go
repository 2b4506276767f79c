// Package rdp reads the clear-text start of an RDP connection ([MS-RDPBCGR]
// 1.3.1.1): the client's X.224 Connection Request (routing cookie
// `mstshash=`, requested security protocols), the server's Connection
// Confirm (selected protocol or negotiation failure), and, under standard
// RDP security, the GCC user data of the MCS Connect Initial and Connect
// Response (client name, build, keyboard, desktop size; encryption method
// and level). When TLS, CredSSP or RDSTLS is selected the rest of the
// connection is TLS: Data returns ErrSwitched and Switched hands over the
// bytes already received, for the caller to inspect as a new stream.
package rdp

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// Bounds. A Connection Request is a few dozen bytes; maxRequest bounds
// what detection and the parser accept as one. maxFrame bounds a TPKT
// frame the parser holds (an MCS Connect Response carries the server's
// certificate under standard security).
const (
	maxRequest = 300
	maxFrame   = 16 << 10
)

// Security protocol bits ([MS-RDPBCGR] 2.2.1.1.1).
const (
	ProtoRDP      = 0
	ProtoTLS      = 1
	ProtoCredSSP  = 2
	ProtoRDSTLS   = 4
	ProtoCredSSPX = 8
	ProtoRDSAAD   = 0x10
)

var protoNames = []struct {
	bit  uint32
	name string
}{{ProtoTLS, "tls"}, {ProtoCredSSP, "credssp"}, {ProtoRDSTLS, "rdstls"}, {ProtoCredSSPX, "credssp_early_user_auth"}, {ProtoRDSAAD, "rdsaad"}}

// ProtocolNames names the bits of a requested-protocols mask, "rdp"
// (standard RDP security) for 0, and "0x..." for unknown bits.
func ProtocolNames(mask uint32) []string {
	if mask == 0 {
		return []string{"rdp"}
	}
	var out []string
	for _, p := range protoNames {
		if mask&p.bit != 0 {
			out = append(out, p.name)
			mask &^= p.bit
		}
	}
	if mask != 0 {
		out = append(out, "0x"+hex32(mask))
	}
	return out
}

// ProtocolName names one selected protocol.
func ProtocolName(p uint32) string {
	n := ProtocolNames(p)
	if len(n) == 1 {
		return n[0]
	}
	return "0x" + hex32(p)
}

func hex32(v uint32) string {
	const digits = "0123456789abcdef"
	var b [8]byte
	for i := 7; i >= 0; i-- {
		b[i] = digits[v&15]
		v >>= 4
	}
	return string(b[:])
}

// FailureName names an RDP_NEG_FAILURE code (2.2.1.2.2).
func FailureName(code uint32) string {
	names := [...]string{"", "ssl_required_by_server", "ssl_not_allowed_by_server", "ssl_cert_not_on_server",
		"inconsistent_flags", "hybrid_required_by_server", "ssl_with_user_auth_required_by_server"}
	if code < uint32(len(names)) && code != 0 {
		return names[code]
	}
	return "0x" + hex32(code)
}

// Session is what the clear-text start of one connection showed.
type Session struct {
	Cookie       string // the mstshash= value, as sent (trailing spaces kept)
	RoutingToken string // a routing token that is not an mstshash cookie (load balancers)
	HasRequest   bool   // an RDP_NEG_REQ came
	Requested    uint32
	HasSelected  bool // an RDP_NEG_RSP came
	Selected     uint32
	HasFailure   bool
	Failure      uint32
	Confirmed    bool // the server sent its Connection Confirm
	TLS          bool // the rest of the connection is TLS (handed over)

	// Standard RDP security only (clear-text GCC user data).
	ClientName                      string
	ClientBuild, KeyboardLayout     uint32
	DesktopWidth, DesktopHeight     uint16
	HasEncryption                   bool
	EncryptionMethod, EncryptionLvl uint32

	MemoryLimited bool
	Notes         []string
}

// ErrSwitched is returned by Data once the connection goes on as TLS.
var ErrSwitched = parsers.ErrStartTLS

// ErrNotRDP stops a stream that stops looking like RDP.
var ErrNotRDP = errors.New("rdp: not an RDP connection start")

// Phases of each direction.
const (
	phaseNeg  = iota // the X.224 request (client) or confirm (server)
	phaseWait        // client: waits for the confirm; server: nothing after it yet
	phaseMCS         // the MCS Connect Initial / Response
	phaseDone
)

type side struct {
	buf   []byte // a TPKT frame split across segments
	phase int
	rest  []byte // client bytes after its request, kept until the confirm tells what they are
}

// Conn is a parsers.StreamParser for the start of one RDP connection.
type Conn struct {
	emit    func(*Session)
	acct    *budget.Account
	paid    int64
	s       [2]side
	sess    Session
	emitted bool
	sw      [2][]byte
}

// NewConn returns a parser that calls emit once; held bytes are reserved
// on acct (pool Parsers).
func NewConn(acct *budget.Account, emit func(*Session)) *Conn {
	return &Conn{acct: acct, emit: emit}
}

// Sniff tells whether b, the first bytes of a direction, start an X.224
// Connection Request as RDP sends it: a TPKT header (version 3) whose
// length covers the X.224 header exactly (LI = length - 5), code 0xE0,
// destination reference 0, class 0, and a variable part that is empty, a
// routing token or cookie ending in CR LF, and/or an 8-byte RDP_NEG_REQ.
// It answers More until the whole request is there.
func Sniff(b []byte) parsers.Verdict {
	head := [...]byte{3, 0}
	for i := 0; i < len(head) && i < len(b); i++ {
		if b[i] != head[i] {
			return parsers.No
		}
	}
	if len(b) < 4 {
		return parsers.More
	}
	n := int(binary.BigEndian.Uint16(b[2:]))
	if n < 11 || n > maxRequest {
		return parsers.No
	}
	if len(b) >= 6 && (int(b[4]) != n-5 || b[5] != 0xe0) {
		return parsers.No
	}
	if len(b) < n {
		return parsers.More
	}
	if _, err := parseRequest(b[:n], &Session{}); err != nil {
		return parsers.No
	}
	return parsers.Yes
}

// parseRequest reads a whole TPKT frame holding a Connection Request.
func parseRequest(f []byte, s *Session) (int, error) {
	if len(f) < 11 || int(f[4]) != len(f)-5 || f[5] != 0xe0 || f[6] != 0 || f[7] != 0 || f[10]&0xf0 != 0 {
		return 0, ErrNotRDP
	}
	v := f[11:]
	if len(v) > 0 && v[0] != 1 { // a routing token or cookie, up to CR LF
		end := -1
		for i := 0; i+1 < len(v); i++ {
			if v[i] == '\r' && v[i+1] == '\n' {
				end = i
				break
			}
		}
		if end < 0 {
			return 0, ErrNotRDP
		}
		tok := v[:end]
		v = v[end+2:]
		const cookie = "Cookie: mstshash="
		if len(tok) >= len(cookie) && string(tok[:len(cookie)]) == cookie {
			s.Cookie = string(tok[len(cookie):])
		} else {
			s.RoutingToken = string(tok)
		}
	}
	if len(v) > 0 {
		// RDP_NEG_REQ: type 1, flags, length 8, requestedProtocols;
		// a routing token may be followed by an RDP_CORRELATION_INFO.
		if len(v) < 8 || v[0] != 1 || binary.LittleEndian.Uint16(v[2:]) != 8 {
			return 0, ErrNotRDP
		}
		s.HasRequest, s.Requested = true, binary.LittleEndian.Uint32(v[4:])
	}
	return len(f), nil
}

// parseConfirm reads a Connection Confirm frame.
func (c *Conn) parseConfirm(f []byte) error {
	if len(f) < 11 || int(f[4]) != len(f)-5 || f[5]&0xf0 != 0xd0 {
		return ErrNotRDP
	}
	s := &c.sess
	s.Confirmed = true
	if v := f[11:]; len(v) >= 8 && binary.LittleEndian.Uint16(v[2:]) == 8 {
		switch v[0] {
		case 2:
			s.HasSelected, s.Selected = true, binary.LittleEndian.Uint32(v[4:])
		case 3:
			s.HasFailure, s.Failure = true, binary.LittleEndian.Uint32(v[4:])
		}
	}
	return nil
}

func (c *Conn) Data(d parsers.Dir, b []byte, ts time.Time) error {
	if c.emitted {
		return nil
	}
	s := &c.s[d]
	for len(b) > 0 {
		if d == parsers.ToServer && s.phase == phaseWait {
			// The client's bytes after its request wait for the confirm:
			// TLS or MCS, which only the server's answer tells.
			if len(s.rest)+len(b) > maxFrame || !c.room(&s.rest, len(s.rest)+len(b)) {
				c.note("client bytes before the confirm not held")
				return c.finish()
			}
			s.rest = append(s.rest, b...)
			return nil
		}
		if s.phase == phaseDone || (d == parsers.ToClient && s.phase == phaseWait) {
			return nil
		}
		f, rest, err := c.frame(s, b)
		if err != nil {
			return err
		}
		b = rest
		if f == nil {
			return nil // a partial frame, held
		}
		err = c.handle(d, s, f)
		s.buf = s.buf[:0]
		if err == ErrSwitched {
			c.sw[parsers.ToClient] = b
			return err
		}
		if err != nil {
			return err
		}
		if c.s[0].phase == phaseDone && c.s[1].phase == phaseDone {
			return c.finish()
		}
		if cl := &c.s[parsers.ToServer]; cl.phase == phaseMCS && len(cl.rest) > 0 {
			// Standard security: the client's held bytes are its MCS
			// Connect Initial. (Its capacity stays paid until finish.)
			held := cl.rest
			cl.rest = nil
			if err := c.Data(parsers.ToServer, held, ts); err != nil {
				return err
			}
		}
	}
	return nil
}

// frame cuts the next TPKT frame from b, or completes the one held; nil
// when it is not whole yet (its bytes are then held).
func (c *Conn) frame(s *side, b []byte) (f, rest []byte, err error) {
	if len(s.buf) == 0 && len(b) >= 4 {
		n, err := frameLen(b)
		if err != nil {
			return nil, nil, err
		}
		if len(b) >= n {
			return b[:n], b[n:], nil
		}
	}
	for len(b) > 0 {
		need := 4 - len(s.buf)
		if len(s.buf) >= 4 {
			n, err := frameLen(s.buf)
			if err != nil {
				return nil, nil, err
			}
			need = n - len(s.buf)
		}
		take := min(need, len(b))
		if !c.room(&s.buf, len(s.buf)+take) {
			return nil, nil, c.finish()
		}
		s.buf = append(s.buf, b[:take]...)
		b = b[take:]
		if len(s.buf) >= 4 {
			if n, err := frameLen(s.buf); err != nil {
				return nil, nil, err
			} else if len(s.buf) == n {
				return s.buf, b, nil
			}
		}
	}
	if len(s.buf) > 0 && s.buf[0] != 3 {
		return nil, nil, ErrNotRDP
	}
	return nil, nil, nil
}

// frameLen is the length of the TPKT frame whose header starts h.
func frameLen(h []byte) (int, error) {
	n := int(binary.BigEndian.Uint16(h[2:]))
	if h[0] != 3 || n < 7 || n > maxFrame {
		return 0, ErrNotRDP
	}
	return n, nil
}

func (c *Conn) handle(d parsers.Dir, s *side, f []byte) error {
	switch {
	case d == parsers.ToServer && s.phase == phaseNeg:
		if _, err := parseRequest(f, &c.sess); err != nil {
			return err
		}
		s.phase = phaseWait
	case d == parsers.ToClient && s.phase == phaseNeg:
		if c.s[parsers.ToServer].phase == phaseNeg {
			c.note("confirm before the request")
			return ErrNotRDP
		}
		if err := c.parseConfirm(f); err != nil {
			return err
		}
		switch {
		case c.sess.HasFailure:
			c.s[0].phase, s.phase = phaseDone, phaseDone
		case c.sess.HasSelected && c.sess.Selected != ProtoRDP:
			c.sess.TLS = true
			c.sw[parsers.ToServer] = c.s[0].rest
			return ErrSwitched
		default:
			s.phase, c.s[parsers.ToServer].phase = phaseMCS, phaseMCS
		}
	case s.phase == phaseMCS:
		c.mcs(d, f)
		s.phase = phaseDone
	}
	return nil
}

// mcs reads the GCC user data blocks of an MCS Connect Initial (client)
// or Connect Response (server) frame. They follow the H.221 key of the
// GCC conference request ("Duca") or response ("McDn") and a PER length;
// anything else is noted and skipped.
func (c *Conn) mcs(d parsers.Dir, f []byte) {
	key := "Duca"
	if d == parsers.ToClient {
		key = "McDn"
	}
	i := index(f, key)
	if i < 0 {
		c.note("mcs user data not found")
		return
	}
	b := f[i+4:]
	if len(b) < 1 {
		return
	}
	// PER length: one byte, or two with the top bit set.
	if b[0]&0x80 != 0 {
		b = b[min(2, len(b)):]
	} else {
		b = b[1:]
	}
	for len(b) >= 4 {
		typ, n := binary.LittleEndian.Uint16(b), int(binary.LittleEndian.Uint16(b[2:]))
		if n < 4 || n > len(b) {
			c.note("gcc user data block cut")
			return
		}
		blk := b[4:n]
		b = b[n:]
		switch typ {
		case 0xc001: // CS_CORE
			c.clientCore(blk)
		case 0x0c02: // SC_SECURITY
			if len(blk) >= 8 {
				s := &c.sess
				s.HasEncryption = true
				s.EncryptionMethod, s.EncryptionLvl = binary.LittleEndian.Uint32(blk), binary.LittleEndian.Uint32(blk[4:])
			}
		}
	}
}

// clientCore reads TS_UD_CS_CORE (2.2.1.3.2) after its header.
func (c *Conn) clientCore(b []byte) {
	if len(b) < 4+2+2+2+2+4+4+32 {
		c.note("client core data cut")
		return
	}
	s := &c.sess
	s.DesktopWidth, s.DesktopHeight = binary.LittleEndian.Uint16(b[4:]), binary.LittleEndian.Uint16(b[6:])
	s.KeyboardLayout, s.ClientBuild = binary.LittleEndian.Uint32(b[12:]), binary.LittleEndian.Uint32(b[16:])
	s.ClientName = utf16z(b[20:52])
}

// utf16z decodes a NUL-terminated UTF-16LE field (BMP only: a client
// name is 15 characters at most).
func utf16z(b []byte) string {
	var out []rune
	for i := 0; i+1 < len(b); i += 2 {
		r := rune(binary.LittleEndian.Uint16(b[i:]))
		if r == 0 {
			break
		}
		if r >= 0xd800 && r < 0xe000 {
			r = 0xfffd
		}
		out = append(out, r)
	}
	return string(out)
}

func index(b []byte, key string) int {
	for i := 0; i+len(key) <= len(b); i++ {
		if string(b[i:i+len(key)]) == key {
			return i
		}
	}
	return -1
}

// room makes *buf able to hold n bytes, the growth reserved on the budget.
func (c *Conn) room(buf *[]byte, n int) bool {
	if n <= cap(*buf) {
		return true
	}
	n = max(n, min(2*cap(*buf), maxFrame), 64)
	if !c.acct.Reserve(budget.Parsers, int64(n-cap(*buf))) {
		c.sess.MemoryLimited = true
		return false
	}
	c.paid += int64(n - cap(*buf))
	*buf = append(make([]byte, 0, n), *buf...)
	return true
}

func (c *Conn) note(n string) {
	if len(c.sess.Notes) < 8 {
		c.sess.Notes = append(c.sess.Notes, n)
	}
}

// finish emits the session once and frees what was held.
func (c *Conn) finish() error {
	if !c.emitted {
		c.emitted = true
		c.emit(&c.sess)
	}
	c.s[0].buf, c.s[1].buf, c.s[0].rest = nil, nil, nil
	c.acct.Release(budget.Parsers, c.paid)
	c.paid = 0
	return nil
}

// Switched returns, after ErrSwitched, the bytes of each direction
// already received that belong to the TLS stream, and emits the session.
// The slices are valid until the next call into the Conn.
func (c *Conn) Switched() [2][]byte {
	sw := c.sw
	c.emitted = true
	c.emit(&c.sess)
	return sw
}

func (c *Conn) Gap(d parsers.Dir, n int, ts time.Time) {
	if !c.emitted {
		c.note("gap in the clear-text start")
		_ = c.finish()
	}
}

func (c *Conn) End(ts time.Time) { _ = c.finish() }
