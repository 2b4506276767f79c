package tls

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// Record layer content types.
const (
	recordChangeCipherSpec = 20
	recordAlert            = 21
	recordHandshake        = 22
	recordApplicationData  = 23
	recordHeartbeat        = 24
)

// Handshake message types.
const (
	msgClientHello       = 1
	msgServerHello       = 2
	msgCertificate       = 11
	msgServerKeyExchange = 12
	msgServerHelloDone   = 14
	msgCertificateStatus = 22
)

const (
	recordHeaderLen = 5
	// MaxRecordLen is the largest record payload accepted: 2^14 plus the
	// 2048 bytes of expansion TLSCiphertext allows.
	MaxRecordLen = 16384 + 2048
	// DefaultMaxHandshakeMessage is the default cap on one handshake message
	// (a Certificate chain is the largest one seen in clear text).
	DefaultMaxHandshakeMessage = 64 << 10
	maxNotes                   = 16
)

// ErrNotTLS is returned by Conn.Data when a direction's bytes stop looking like
// TLS records.
var ErrNotTLS = errors.New("tls: not a TLS record stream")

// Config tunes a Conn. The zero value is usable.
type Config struct {
	// MaxHandshakeMessage caps one handshake message (bytes); a longer one
	// stops parsing of its direction. Zero means DefaultMaxHandshakeMessage.
	MaxHandshakeMessage int
	// MaxAlerts caps how many alerts are kept (default 8).
	MaxAlerts int
	// SkipCertificates skips X.509 parsing (no Certificates in the result).
	SkipCertificates bool
	// Certs remembers certificates across the Conns of one goroutine
	// (nil: each is described anew).
	Certs *CertCache `yaml:"-"`
	// Pool recycles per-connection state across the Conns of one
	// goroutine (nil: allocated per connection); see Pool for what it
	// changes in the lifetime of an emitted Handshake.
	Pool *Pool `yaml:"-"`
}

func (c Config) withDefaults() Config {
	if c.MaxHandshakeMessage <= 0 {
		c.MaxHandshakeMessage = DefaultMaxHandshakeMessage
	}
	if c.MaxAlerts <= 0 {
		c.MaxAlerts = 8
	}
	return c
}

// Alert is one TLS alert record seen in the clear (Encrypted false), or an
// alert record sent after ChangeCipherSpec whose content is not visible.
type Alert struct {
	Dir         parsers.Dir
	Level       uint8 // 1 warning, 2 fatal
	Description uint8 // e.g. 40 handshake_failure, 0 close_notify
	Encrypted   bool
}

// Handshake is the result for one connection, emitted once.
//
// After a HelloRetryRequest the client sends a second ClientHello: ClientHello,
// JA3 and JA4 always describe the FIRST ClientHello (the one a client shows to
// every server), and RetryJA3 / RetryJA4 the second. ServerHello is the last
// ServerHello seen (the real one after a HelloRetryRequest), and RetryJA3S is
// the JA3S of the HelloRetryRequest.
type Handshake struct {
	HasClientHello bool
	ClientHello    ClientHello
	JA3String      string // JA3 string (GREASE removed)
	JA3            string // lowercase hex MD5 of JA3String
	JA4            string // JA4 client fingerprint, protocol "t"
	JA4R           string // JA4_r (raw, sorted lists)

	HasServerHello bool
	ServerHello    ServerHello
	JA3SString     string
	JA3S           string

	HelloRetryRequest bool
	RetryJA3          string // JA3 of the second ClientHello, "" if none
	RetryJA4          string // JA4 of the second ClientHello, "" if none
	RetryJA4R         string // JA4_r of the second ClientHello, "" if none
	RetryJA3S         string // JA3S of the HelloRetryRequest

	// Certificates is the server chain in wire order, leaf first (TLS <= 1.2
	// only: in TLS 1.3 the chain is encrypted).
	Certificates []Certificate
	// OCSP is the stapled OCSP response (CertificateStatus), nil if none.
	OCSP *OCSPStaple
	// certRoom is the array of a pooled Handshake's Certificates, kept for
	// its next connection.
	certRoom []Certificate

	VersionCode     uint16 // negotiated version (supported_versions if present)
	Version         string // ECS tls.version: "1.2", "1.3"
	VersionProtocol string // ECS tls.version_protocol: "tls", "ssl"
	CipherSuite     uint16
	Cipher          string // IANA name, or "0x" hex when unknown
	Curve           string // key exchange group: "x25519", "secp256r1", ...
	NextProtocol    string // ALPN selected by the server
	Established     bool
	Resumed         bool

	ClientChangeCipherSpec bool
	ServerChangeCipherSpec bool
	ClientAppDataRecords   int // application_data records from the client after the ServerHello
	ServerAppDataRecords   int // application_data records from the server after the ServerHello

	Alerts []Alert
	Notes  []string // parse problems, gaps and limits hit
}

func (h *Handshake) note(format string, a ...any) {
	if len(h.Notes) < maxNotes {
		h.Notes = append(h.Notes, fmt.Sprintf(format, a...))
	}
}

// dirState is the record and handshake reassembly state of one direction.
type dirState struct {
	rec       []byte // a partial record (header included)
	skip      int    // payload bytes still to come of a record not buffered (see reads)
	skipTyp   byte   // that record's type
	skipLen   int    // and payload length
	hs        []byte // a partial handshake message (header included)
	encrypted bool   // handshake records are encrypted from here on
	lost      bool   // gap or parse error: this direction is not parsed any more
}

// Conn parses the TLS records of one TCP connection; it implements
// parsers.StreamParser. It calls emit exactly once, with a Handshake the
// callee may keep (unless Config.Pool is set): when the handshake is established (both sides switched to
// encrypted traffic), or at End for handshakes that never got there. After
// that Data ignores its input (see Done). A Conn that saw no valid TLS record
// emits nothing. A Conn is not safe for concurrent use.
type Conn struct {
	cfg     Config
	to      Handler // NewConn's emit, or NewConnHandler's h
	h       *Handshake
	dirs    [2]dirState
	done    bool
	sawSHD  bool
	retryCH ClientHello
	fp      []byte
}

var _ parsers.StreamParser = (*Conn)(nil)

// NewConn returns a parser for one TCP connection (with cfg.Pool, maybe an
// ended one given back by Release).
func NewConn(cfg Config, emit func(*Handshake)) *Conn {
	if emit == nil {
		return NewConnHandler(cfg, nil)
	}
	return NewConnHandler(cfg, emitFunc(emit))
}

// Handler takes the Handshake of a Conn made by NewConnHandler, as
// NewConn's emit does: one interface value per connection where a method
// value passed as emit is an allocation each.
type Handler interface {
	Handshake(h *Handshake)
}

// emitFunc is NewConn's emit as a Handler (a func in an interface is no
// allocation).
type emitFunc func(*Handshake)

func (f emitFunc) Handshake(h *Handshake) { f(h) }

// NewConnHandler is NewConn delivering to h.
func NewConnHandler(cfg Config, h Handler) *Conn {
	c := cfg.Pool.conn()
	c.cfg, c.to = cfg.withDefaults(), h
	return c
}

// Done reports whether the Handshake was emitted; the caller may stop feeding.
func (c *Conn) Done() bool { return c.done }

// Data consumes in-order bytes of direction d.
func (c *Conn) Data(d parsers.Dir, b []byte, _ time.Time) error {
	if c.done || d > parsers.ToClient {
		return nil
	}
	st := &c.dirs[d]
	if st.lost {
		return nil
	}
	for len(b) > 0 && !c.done {
		if st.skip > 0 {
			take := min(st.skip, len(b))
			st.skip -= take
			b = b[take:]
			if st.skip == 0 {
				if err := c.record(d, st.skipTyp, unread[:st.skipLen]); err != nil {
					return err
				}
			}
			continue
		}
		if len(st.rec) == 0 && len(b) >= recordHeaderLen {
			n, err := c.checkHeader(d, b)
			if err != nil {
				return err
			}
			if len(b) >= recordHeaderLen+n {
				if err := c.record(d, b[0], b[recordHeaderLen:recordHeaderLen+n]); err != nil {
					return err
				}
				b = b[recordHeaderLen+n:]
				continue
			}
			if !c.reads(d, b[0]) {
				st.skip, st.skipTyp, st.skipLen = n, b[0], n
				b = b[recordHeaderLen:]
				continue
			}
		}
		// Buffer a partial record: complete the header first, then the payload.
		if st.rec == nil {
			st.rec = c.cfg.Pool.buf()
		}
		if len(st.rec) < recordHeaderLen {
			take := min(recordHeaderLen-len(st.rec), len(b))
			st.rec = append(st.rec, b[:take]...)
			b = b[take:]
			if len(st.rec) < recordHeaderLen {
				return nil
			}
		}
		n, err := c.checkHeader(d, st.rec)
		if err != nil {
			return err
		}
		if len(st.rec) == recordHeaderLen && n > 0 && !c.reads(d, st.rec[0]) {
			st.skip, st.skipTyp, st.skipLen = n, st.rec[0], n
			st.rec = st.rec[:0]
			continue
		}
		if cap(st.rec) < recordHeaderLen+n {
			st.rec = append(make([]byte, 0, recordHeaderLen+n), st.rec...)
		}
		take := min(recordHeaderLen+n-len(st.rec), len(b))
		st.rec = append(st.rec, b[:take]...)
		b = b[take:]
		if len(st.rec) == recordHeaderLen+n {
			err := c.record(d, st.rec[0], st.rec[recordHeaderLen:])
			st.rec = st.rec[:0]
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// reads says whether record reads the payload of a record of type typ from
// d. Other records (application data, and everything encrypted) are
// counted from their header: their payload is skipped as it arrives
// instead of being buffered, and record gets a stand-in of the same length
// (unread). A direction only ever turns encrypted, so a record buffered
// because it was clear text is still handled right if it is encrypted by
// the time it completes.
func (c *Conn) reads(d parsers.Dir, typ byte) bool {
	switch typ {
	case recordHandshake, recordAlert:
		return !c.dirs[d].encrypted
	}
	return false
}

// unread stands in for the payload of a record whose bytes were skipped.
var unread [MaxRecordLen]byte

// pending is the number of bytes of an incomplete record or handshake
// message direction d holds or skipped.
func (st *dirState) pending() int {
	n := len(st.rec) + len(st.hs)
	if st.skip > 0 {
		n += recordHeaderLen + st.skipLen - st.skip
	}
	return n
}

// checkHeader validates a record header and returns the payload length.
func (c *Conn) checkHeader(d parsers.Dir, b []byte) (int, error) {
	typ, major, minor := b[0], b[1], b[2]
	n := int(binary.BigEndian.Uint16(b[3:]))
	switch {
	case typ < recordChangeCipherSpec || typ > recordHeartbeat:
		return 0, c.fail(d, fmt.Errorf("%w: %s record type %d", ErrNotTLS, d, typ))
	case major != 3 || minor > 4:
		return 0, c.fail(d, fmt.Errorf("%w: %s record version %#02x%02x", ErrNotTLS, d, major, minor))
	case n > MaxRecordLen:
		return 0, c.fail(d, fmt.Errorf("%w: %s record length %d over %d", ErrNotTLS, d, n, MaxRecordLen))
	}
	return n, nil
}

// fail stops parsing direction d, records err as a note and returns it.
func (c *Conn) fail(d parsers.Dir, err error) error {
	st := &c.dirs[d]
	st.lost = true
	st.rec, st.hs, st.skip = st.rec[:0], st.hs[:0], 0
	if c.h != nil {
		c.h.note("%v", err)
	}
	return err
}

func (c *Conn) result() *Handshake {
	if c.h == nil {
		c.h = c.cfg.Pool.handshake()
	}
	return c.h
}

// record handles one complete record payload.
func (c *Conn) record(d parsers.Dir, typ byte, p []byte) error {
	h := c.result()
	st := &c.dirs[d]
	switch typ {
	case recordChangeCipherSpec:
		if d == parsers.ToServer {
			h.ClientChangeCipherSpec = true
		} else {
			h.ServerChangeCipherSpec = true
			if h.HasServerHello && h.VersionCode <= 0x0303 && !c.sawSHD && h.ServerHello.Version != 0 {
				h.Resumed = true // abbreviated handshake: CCS straight after ServerHello
			}
		}
		// In TLS 1.3 a ChangeCipherSpec is only middlebox camouflage (RFC 8446
		// D.4); the real switch is the ServerHello.
		if !c.tls13() {
			st.encrypted = true
		}
	case recordAlert:
		if len(p) == 0 {
			break
		}
		if st.encrypted {
			if len(h.Alerts) < c.cfg.MaxAlerts {
				h.Alerts = append(h.Alerts, Alert{Dir: d, Encrypted: true})
			}
			break
		}
		// Clear-text alerts are 2 bytes each, level 1 (warning) or 2 (fatal).
		if len(p)%2 != 0 {
			return c.fail(d, fmt.Errorf("%w: %s alert record of %d bytes", ErrNotTLS, d, len(p)))
		}
		for i := 0; i < len(p); i += 2 {
			if p[i] != 1 && p[i] != 2 {
				return c.fail(d, fmt.Errorf("%w: %s alert level %d", ErrNotTLS, d, p[i]))
			}
			if len(h.Alerts) < c.cfg.MaxAlerts {
				h.Alerts = append(h.Alerts, Alert{Dir: d, Level: p[i], Description: p[i+1]})
			}
		}
	case recordHandshake:
		if st.encrypted {
			c.countEncrypted(d)
			break
		}
		if err := c.handshakeBytes(d, p); err != nil {
			return err
		}
	case recordApplicationData:
		c.countEncrypted(d)
	case recordHeartbeat:
		h.note("heartbeat record from %s", d)
	}
	c.checkEstablished()
	return nil
}

// tls13 reports whether the connection is (or, before the ServerHello, may
// be) TLS 1.3: the server selected it, or no ServerHello was seen yet and the
// client offered it.
func (c *Conn) tls13() bool {
	h := c.h
	if h.HasServerHello {
		return h.VersionCode == 0x0304
	}
	if !h.HasClientHello {
		return false
	}
	for _, v := range h.ClientHello.SupportedVersions {
		if v == 0x0304 {
			return true
		}
	}
	return false
}

func (c *Conn) countEncrypted(d parsers.Dir) {
	h := c.h
	if !h.HasServerHello {
		return // early data or mid-stream pick-up: not part of the handshake we follow
	}
	if d == parsers.ToServer {
		h.ClientAppDataRecords++
	} else {
		h.ServerAppDataRecords++
	}
}

// handshakeBytes reassembles handshake messages from a record payload. When
// nothing is pending, complete messages are parsed in place and only a
// trailing partial message is copied.
func (c *Conn) handshakeBytes(d parsers.Dir, p []byte) error {
	st := &c.dirs[d]
	data := p
	if len(st.hs) > 0 {
		st.hs = append(st.hs, p...)
		data = st.hs
	}
	for len(data) >= 4 {
		typ := data[0]
		n := int(data[1])<<16 | int(data[2])<<8 | int(data[3])
		if n > c.cfg.MaxHandshakeMessage {
			return c.fail(d, fmt.Errorf("%w: %s handshake message type %d length %d over %d",
				ErrNotTLS, d, typ, n, c.cfg.MaxHandshakeMessage))
		}
		if len(data) < 4+n {
			break
		}
		c.message(d, typ, data[4:4+n])
		data = data[4+n:]
		if st.encrypted || c.done {
			// A ServerHello selecting TLS 1.3 encrypts what follows it.
			data = nil
		}
	}
	// Keep the rest (copy handles the overlap when data aliases st.hs).
	if st.hs == nil && len(data) > 0 {
		st.hs = c.cfg.Pool.buf()
	}
	st.hs = append(st.hs[:0], data...)
	return nil
}

// fingerprint sets the four client fingerprints of h. They share one
// string (one allocation, none for a client met before), after the JA3
// string's length in two bytes. A ClientHello whose JA3 inputs and the
// lists only JA4 reads were met before takes that string from the Pool's
// memo, without the JA3 string's decimals, the MD5, the sorts and the
// SHA-256s of working it out: most clients connect again and again.
func (c *Conn) fingerprint(h *Handshake) {
	ch := &h.ClientHello
	b := appendJA3Inputs(c.scratch(), ch)
	b = appendJA4Inputs(b, ch)
	memo := c.memo()
	fps, ok := memo.Get(b)
	if !ok {
		key := len(b)
		b = AppendJA3(append(b, 0, 0), ch) // at most ~5 KB: the lists are bounded
		binary.BigEndian.PutUint16(b[key:], uint16(len(b)-key-2))
		b = AppendMD5Hex(b, b[key+2:])
		b = AppendJA4(b, ch, JA4TCP)
		b = AppendJA4Raw(b, ch, JA4TCP)
		fps = c.strs().String(b[key:])
		memo.Put(b[:key], fps)
	}
	c.keepScratch(b)
	ja3 := 2 + (int(fps[0])<<8 | int(fps[1]))
	md5, ja4 := ja3+2*16, ja3+2*16+ja4Len
	h.JA3String, h.JA3, h.JA4, h.JA4R = fps[2:ja3], fps[ja3:md5], fps[md5:ja4], fps[ja4:]
}

// message handles one complete handshake message body.
func (c *Conn) message(d parsers.Dir, typ byte, body []byte) {
	h := c.h
	if d == parsers.ToServer {
		if typ != msgClientHello {
			return
		}
		if !h.HasClientHello {
			if err := ParseClientHello(body, &h.ClientHello); err != nil {
				h.note("%v", err)
				return
			}
			h.HasClientHello = true
			c.fingerprint(h)
			return
		}
		if h.RetryJA3 != "" {
			return
		}
		if err := ParseClientHello(body, &c.retryCH); err != nil {
			h.note("second %v", err)
			return
		}
		fp := AppendJA3(c.scratch(), &c.retryCH)
		h.RetryJA3 = string(AppendMD5Hex(nil, fp))
		fp = AppendJA4(fp[:0], &c.retryCH, JA4TCP)
		h.RetryJA4 = string(fp)
		fp = AppendJA4Raw(fp[:0], &c.retryCH, JA4TCP)
		h.RetryJA4R = string(fp)
		c.keepScratch(fp)
		return
	}
	switch typ {
	case msgServerHello:
		if h.HasServerHello && !h.ServerHello.HelloRetryRequest {
			return
		}
		if err := ParseServerHello(body, &h.ServerHello); err != nil {
			h.note("%v", err)
			return
		}
		h.HasServerHello = true
		b := AppendJA3S(c.scratch(), &h.ServerHello)
		n := len(b)
		b = AppendMD5Hex(b, b[:n])
		c.keepScratch(b)
		fps := c.strs().String(b) // both in one string
		ja3s := fps[n:]
		if h.ServerHello.HelloRetryRequest {
			h.HelloRetryRequest = true
			h.RetryJA3S = ja3s
		}
		h.JA3SString = fps[:n]
		h.JA3S = ja3s
		c.negotiated()
	case msgCertificate:
		if c.cfg.SkipCertificates || h.Certificates != nil {
			return
		}
		certs, err := c.cfg.Certs.appendCertificates(h.certRoom[:0], body)
		if err != nil {
			h.note("%v", err)
		}
		for i := range certs {
			if certs[i].Err != nil {
				h.note("certificate %d: %v", i, certs[i].Err)
			}
		}
		if certs == nil {
			certs = []Certificate{}
		}
		h.Certificates, h.certRoom = certs, certs
	case msgCertificateStatus:
		if c.cfg.SkipCertificates || h.OCSP != nil {
			return
		}
		s, err := ParseCertificateStatus(body)
		if err != nil {
			h.note("%v", err)
			return
		}
		if s.Err != nil {
			h.note("ocsp staple: %v", s.Err)
		}
		h.OCSP = s
	case msgServerKeyExchange:
		// ECDHE ServerECDHParams: curve_type 3 (named_curve), then the group.
		if strings.Contains(h.Cipher, "_ECDHE_") && len(body) >= 3 && body[0] == 3 {
			h.Curve = GroupName(binary.BigEndian.Uint16(body[1:]))
		}
	case msgServerHelloDone:
		c.sawSHD = true
	}
}

// negotiated fills the version, cipher and friends from the ServerHello.
func (c *Conn) negotiated() {
	h := c.h
	sh := &h.ServerHello
	h.VersionCode = sh.Version
	if sh.SupportedVersion != 0 {
		h.VersionCode = sh.SupportedVersion
	}
	h.Version, h.VersionProtocol = VersionString(h.VersionCode)
	h.CipherSuite = sh.CipherSuite
	h.Cipher = CipherSuiteName(sh.CipherSuite)
	h.NextProtocol = sh.ALPN
	if sh.KeyShareGroup != 0 {
		h.Curve = GroupName(sh.KeyShareGroup)
	}
	if sh.HelloRetryRequest {
		return // the client answers with a second ClientHello in the clear
	}
	if h.VersionCode == 0x0304 {
		h.Resumed = sh.PreSharedKey
		// Everything after the ServerHello is encrypted in TLS 1.3.
		c.dirs[parsers.ToClient].encrypted = true
		c.dirs[parsers.ToServer].encrypted = true
	} else if len(sh.SessionID) > 0 && string(sh.SessionID) == string(h.ClientHello.SessionID) {
		h.Resumed = true
	}
}

// checkEstablished emits the Handshake once both sides are encrypting: for
// TLS <= 1.2 a ChangeCipherSpec (or application data) each way; for TLS 1.3 an
// encrypted record from the server (its encrypted handshake) and one from the
// client (its Finished, then application data).
func (c *Conn) checkEstablished() {
	h := c.h
	if !h.HasServerHello || h.ServerHello.HelloRetryRequest {
		return
	}
	appBoth := h.ClientAppDataRecords > 0 && h.ServerAppDataRecords > 0
	if h.VersionCode == 0x0304 {
		h.Established = appBoth
	} else {
		h.Established = appBoth || h.ClientChangeCipherSpec && h.ServerChangeCipherSpec
	}
	if h.Established {
		c.finish()
	}
}

func (c *Conn) finish() {
	if c.done {
		return
	}
	c.done = true
	c.putBufs()
	if c.h == nil {
		return
	}
	if c.to != nil {
		c.to.Handshake(c.h)
	}
	if c.cfg.Pool != nil {
		c.cfg.Pool.putHandshake(c.h)
		c.h = nil
	}
}

// Gap records n lost bytes in direction d; that direction is not parsed any
// more (TLS records cannot be re-synchronised safely).
func (c *Conn) Gap(d parsers.Dir, n int, _ time.Time) {
	if c.done || d > parsers.ToClient {
		return
	}
	st := &c.dirs[d]
	if !st.lost {
		st.lost = true
		st.rec, st.hs, st.skip = st.rec[:0], st.hs[:0], 0
		if c.h != nil {
			c.h.note("gap of %d bytes %s", n, d)
		}
	}
}

// End emits the Handshake if it was not emitted yet and any TLS record was
// seen.
func (c *Conn) End(_ time.Time) {
	if c.done {
		return
	}
	h := c.h
	if h != nil {
		for d := range c.dirs {
			if n := c.dirs[d].pending(); n > 0 && !c.dirs[d].lost {
				h.note("%d bytes of an incomplete record or message %s at end", n, parsers.Dir(d))
			}
		}
	}
	c.finish()
}

// Sniff tells whether b starts like a TLS connection's first client record:
// a handshake record (type 22) of version 0x0300 to 0x0304 with a plausible
// length, holding a ClientHello (handshake type 1). It answers More while b
// is too short to tell (fewer than 6 bytes that agree so far).
func Sniff(b []byte) parsers.Verdict {
	switch {
	case len(b) > 0 && b[0] != recordHandshake,
		len(b) > 1 && b[1] != 3,
		len(b) > 2 && b[2] > 4:
		return parsers.No
	case len(b) < 5:
		return parsers.More
	}
	if n := int(binary.BigEndian.Uint16(b[3:])); n < 4 || n > MaxRecordLen {
		return parsers.No
	}
	switch {
	case len(b) < 6:
		return parsers.More
	case b[5] == msgClientHello:
		return parsers.Yes
	}
	return parsers.No
}
