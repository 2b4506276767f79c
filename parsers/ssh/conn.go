// Package ssh reads what an SSH connection shows in the clear: the version
// line of each side, the binary packets of the key exchange up to NEWKEYS
// (both KEXINITs, from which HASSH, HASSHServer and the negotiated
// algorithms follow), and after that only the sizes of the encrypted
// chunks, from which the authentication outcome is inferred as Zeek does.
package ssh

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// Message codes (RFC 4253 §12, RFC 4419, RFC 5656).
const (
	msgKexInit = 20
	msgNewKeys = 21
	// Key-exchange method messages are 30..49; the client always sends the
	// first one (KEXDH_INIT / KEX_ECDH_INIT 30, GEX_REQUEST 34, the old
	// GEX_REQUEST 30), the server answers 31.
	msgKexFirst = 30
	msgKexLast  = 49
)

const (
	// maxPacket bounds a clear-text binary packet (RFC 4253 §6.1 requires
	// 35000 bytes to be handled); a larger length is not SSH.
	maxPacket = 35000
	// minPacket: padding length byte, a message code, 4 bytes of padding.
	minPacket = 6
	maxNotes  = 8
	// maxServerChunks bounds how many encrypted server chunks are watched
	// for the authentication outcome before it is left unknown.
	maxServerChunks = 256
)

// Authentication outcomes.
const (
	AuthSuccess = "success"
	AuthFailure = "failure"
)

// ErrNotSSH is returned by Conn.Data when a direction stops looking like SSH.
var ErrNotSSH = errors.New("ssh: not an SSH stream")

// Session is what one connection showed, emitted once. Client and Server
// are the SSH roles, which the key exchange decides: on a reverse SSH
// connection the TCP originator is the server (Reversed).
type Session struct {
	Client, Server Banner
	// Version is the protocol the two sides speak: 2, 1, or 0 when they
	// share none or a version line is missing.
	Version int

	ClientKex, ServerKex       KexInit
	HasClientKex, HasServerKex bool
	HASSH, HASSHAlgorithms     string
	HASSHServer                string
	HASSHServerAlgorithms      string

	// Negotiated algorithms (RFC 4253 §7.1); Cipher, MAC and Compression
	// are those of the client-to-server direction, the *S2C ones the other.
	Kex, HostKey                      string
	Cipher, MAC, Compression          string
	CipherS2C, MACS2C, CompressionS2C string

	Reversed bool // the TCP responder is the SSH client
	// MemoryLimited: the memory budget refused to hold a line or packet
	// split across segments, and its direction was not read further.
	MemoryLimited bool
	// Encrypted: both sides sent NEWKEYS.
	Encrypted bool
	// Auth is AuthSuccess, AuthFailure (attempts seen, no success) or ""
	// (unknown), with the attempts counted, as Zeek infers them.
	Auth         string
	AuthAttempts int
	Notes        []string
}

type phase uint8

const (
	phaseBanner phase = iota
	phasePackets
	phaseEncrypted
	phaseStopped
)

// side is the state of one TCP direction.
type side struct {
	phase    phase
	buf      []byte // a partial line or packet
	preLines int
	banner   Banner
	has      bool // banner seen
	kex      KexInit
	hasKex   bool
	kexMsg   byte // first key-exchange method message sent (30..49)
}

// Conn is a parsers.StreamParser for one SSH connection.
type Conn struct {
	emit    func(*Session)
	acct    *budget.Account // pays for the held bytes (pool Parsers); nil: unbounded
	paid    int64
	s       [2]side
	auth    authState
	emitted bool
	sess    Session
}

// NewConn returns a parser that calls emit once with the session. The
// bytes it holds of a line or packet split across segments (at most one
// packet per direction) are reserved on acct.
func NewConn(acct *budget.Account, emit func(*Session)) *Conn {
	return &Conn{acct: acct, emit: emit}
}

// errBudget stops a direction whose bytes the memory budget would not hold.
var errBudget = errors.New("ssh: memory budget spent: direction not read further")

// room makes s.buf able to hold n bytes, the growth reserved on the budget.
func (c *Conn) room(s *side, n int) error {
	if n <= cap(s.buf) {
		return nil
	}
	n = max(n, min(2*cap(s.buf), maxPreLine))
	if !c.acct.Reserve(budget.Parsers, int64(n-cap(s.buf))) {
		c.sess.MemoryLimited = true
		return errBudget
	}
	c.paid += int64(n - cap(s.buf))
	s.buf = append(make([]byte, 0, n), s.buf...)
	return nil
}

func (c *Conn) Data(d parsers.Dir, b []byte, ts time.Time) error {
	s := &c.s[d]
	if c.emitted {
		return nil
	}
	var err error
	for len(b) > 0 && err == nil {
		switch s.phase {
		case phaseBanner:
			b, err = c.line(d, s, b)
		case phasePackets:
			b, err = c.packet(d, s, b)
		case phaseEncrypted:
			c.encrypted(d, len(b))
			b = nil
		default:
			b = nil
		}
	}
	if err != nil {
		s.phase = phaseStopped
		c.note(err.Error())
	}
	if err == errBudget {
		return nil // a limit, not a parse error: the other direction goes on
	}
	return err
}

// line consumes a version line (or a line a server may send before it).
func (c *Conn) line(d parsers.Dir, s *side, b []byte) ([]byte, error) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		if len(s.buf)+len(b) > maxPreLine {
			return nil, fmt.Errorf("%w: line longer than %d bytes", ErrNotSSH, maxPreLine)
		}
		if err := c.room(s, len(s.buf)+len(b)); err != nil {
			return nil, err
		}
		s.buf = append(s.buf, b...)
		return nil, nil
	}
	line, rest := b[:i], b[i+1:]
	if len(s.buf) > 0 {
		if len(s.buf)+len(line) > maxPreLine {
			return nil, fmt.Errorf("%w: line longer than %d bytes", ErrNotSSH, maxPreLine)
		}
		s.buf = append(s.buf, line...)
		line = s.buf
	}
	line = trimEOL(line)
	defer func() { s.buf = s.buf[:0] }()
	if !bytes.HasPrefix(line, []byte("SSH-")) {
		if s.preLines++; s.preLines > maxPreLines {
			return nil, fmt.Errorf("%w: more than %d lines before the version line", ErrNotSSH, maxPreLines)
		}
		return rest, nil
	}
	if len(line)+2 > maxLine {
		return nil, fmt.Errorf("%w: version line longer than %d bytes", ErrNotSSH, maxLine)
	}
	s.banner, s.has = parseBanner(line), true
	s.phase = phasePackets
	if isV1(s.banner.Proto) {
		// SSH 1 packets are framed otherwise and hold nothing this parser reads.
		s.phase = phaseStopped
	}
	if o := &c.s[1-d]; o.has && (isV1(s.banner.Proto) || isV1(o.banner.Proto)) {
		c.finish() // an SSH 1 session: the version lines are all there is
	}
	return rest, nil
}

// packet consumes one clear-text binary packet (RFC 4253 §6), holding the
// bytes of one that spans several pieces.
func (c *Conn) packet(d parsers.Dir, s *side, b []byte) ([]byte, error) {
	var p []byte
	switch {
	case len(s.buf) == 0 && len(b) >= 4:
		n, err := packetLen(b)
		if err != nil {
			return nil, err
		}
		if len(b) >= 4+n {
			p, b = b[4:4+n], b[4+n:]
			break
		}
		if err := c.room(s, 4+n); err != nil {
			return nil, err
		}
		s.buf = append(s.buf, b...)
		return nil, nil
	default:
		if len(s.buf) < 4 {
			if err := c.room(s, 4); err != nil {
				return nil, err
			}
			k := min(4-len(s.buf), len(b))
			s.buf, b = append(s.buf, b[:k]...), b[k:]
			if len(s.buf) < 4 {
				return b, nil
			}
		}
		n, err := packetLen(s.buf)
		if err == nil {
			err = c.room(s, 4+n)
		}
		if err != nil {
			return nil, err
		}
		k := min(4+n-len(s.buf), len(b))
		s.buf, b = append(s.buf, b[:k]...), b[k:]
		if len(s.buf) < 4+n {
			return b, nil
		}
		p = s.buf[4:]
		defer func() { s.buf = s.buf[:0] }()
	}
	pad := int(p[0])
	if pad+2 > len(p) {
		return nil, fmt.Errorf("%w: padding length %d in a packet of %d bytes", ErrNotSSH, pad, len(p))
	}
	return b, c.message(d, s, p[1:len(p)-pad])
}

func packetLen(b []byte) (int, error) {
	n := binary.BigEndian.Uint32(b)
	if n < minPacket || n > maxPacket {
		return 0, fmt.Errorf("%w: packet length %d", ErrNotSSH, n)
	}
	return int(n), nil
}

// message handles one clear-text message.
func (c *Conn) message(d parsers.Dir, s *side, m []byte) error {
	switch code := m[0]; {
	case code == msgKexInit && !s.hasKex:
		if err := parseKexInit(m[1:], &s.kex); err != nil {
			return err
		}
		s.hasKex = true
	case code == msgNewKeys:
		s.phase = phaseEncrypted
	case code >= msgKexFirst && code <= msgKexLast && s.kexMsg == 0:
		s.kexMsg = code
	}
	return nil
}

func (c *Conn) Gap(d parsers.Dir, n int, ts time.Time) {
	s := &c.s[d]
	if c.emitted || s.phase == phaseStopped {
		return
	}
	c.note(fmt.Sprintf("ssh.gap: %d bytes missing from %s", n, d))
	if s.phase == phaseEncrypted {
		c.auth.gap = true // chunk sizes are no longer trustworthy
		return
	}
	s.phase = phaseStopped
}

func (c *Conn) End(ts time.Time) { c.finish() }

// clientDir is the TCP direction the SSH client's bytes travel in: the side
// that sent the first key-exchange method message (30 or 34), or whose
// peer answered (31); the TCP originator when the exchange does not tell.
func (c *Conn) clientDir() parsers.Dir {
	cl, sv := c.s[parsers.ToServer].kexMsg, c.s[parsers.ToClient].kexMsg
	switch {
	case sv != 0 && sv != msgKexFirst+1 && (cl == 0 || cl == msgKexFirst+1):
		return parsers.ToClient
	}
	return parsers.ToServer
}

// finish fills the session and emits it, once.
func (c *Conn) finish() {
	if c.emitted {
		return
	}
	c.emitted = true
	ss := &c.sess
	cd := c.clientDir()
	cl, sv := &c.s[cd], &c.s[1-cd]
	ss.Reversed = cd != parsers.ToServer
	ss.Client, ss.Server = cl.banner, sv.banner
	if cl.has && sv.has {
		ss.Version = version(cl.banner.Proto, sv.banner.Proto)
	}
	ss.ClientKex, ss.HasClientKex = cl.kex, cl.hasKex
	ss.ServerKex, ss.HasServerKex = sv.kex, sv.hasKex
	if cl.hasKex {
		ss.HASSHAlgorithms = hasshAlgorithms(&cl.kex, false)
		ss.HASSH = md5Hex(ss.HASSHAlgorithms)
	}
	if sv.hasKex {
		ss.HASSHServerAlgorithms = hasshAlgorithms(&sv.kex, true)
		ss.HASSHServer = md5Hex(ss.HASSHServerAlgorithms)
	}
	if cl.hasKex && sv.hasKex {
		k, h := &cl.kex, &sv.kex
		ss.Kex, ss.HostKey = negotiate(k.Kex, h.Kex), negotiate(k.HostKey, h.HostKey)
		ss.Cipher, ss.CipherS2C = negotiate(k.EncC2S, h.EncC2S), negotiate(k.EncS2C, h.EncS2C)
		ss.MAC, ss.MACS2C = negotiate(k.MACC2S, h.MACC2S), negotiate(k.MACS2C, h.MACS2C)
		ss.Compression, ss.CompressionS2C = negotiate(k.CompC2S, h.CompC2S), negotiate(k.CompS2C, h.CompS2C)
	}
	ss.Encrypted = cl.phase == phaseEncrypted && sv.phase == phaseEncrypted
	if !c.auth.off {
		ss.Auth, ss.AuthAttempts = c.auth.result()
	}
	c.s[0].buf, c.s[1].buf = nil, nil
	c.acct.Release(budget.Parsers, c.paid)
	c.paid = 0
	c.emit(ss)
}

// version is the protocol two version lines lead to, as Zeek decides it:
// 1.99 speaks both; SSH 1 only against SSH 2 only is 0 (no common version).
func version(client, server string) int {
	v1c, v1s := isV1(client), isV1(server)
	switch {
	case v1c && v1s, v1c && server == "1.99", v1s && client == "1.99":
		return 1
	case v1c || v1s:
		return 0
	}
	return 2
}

func (c *Conn) note(n string) {
	if len(c.sess.Notes) < maxNotes {
		c.sess.Notes = append(c.sess.Notes, n)
	}
}
