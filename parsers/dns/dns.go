// Package dns decodes DNS wire messages (RFC 1035, EDNS0 RFC 6891) into a
// reusable Message, frames DNS over TCP (RFC 1035 section 4.2.2 / RFC 7766)
// and pairs queries with responses within one flow.
//
// The package is pure code over bytes: no I/O, no clocks (callers pass packet
// time), bounded memory on hostile input. Every name, label, pointer chain,
// record count and buffer has a cap, and a short read is an error, never a
// panic.
//
// Presentation forms follow the master-file syntax used by Suricata and
// Packetbeat (see RR.Data). Names keep the case they have on the wire, have no
// trailing dot (the root is "."), and escape label bytes that could forge
// structure: a dot or backslash inside a label becomes "\." or "\\", and a
// byte outside the printable ASCII range 0x21..0x7e (space included) becomes
// "\DDD" with three decimal digits (space is "\032").
//
// For the sensor, Conn bundles the per-flow pieces: Datagram for each UDP
// payload, or the parsers.StreamParser methods for a TCP connection; the
// finished Transactions go to a callback.
package dns

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/packetsleuth/packetsleuth/internal/intern"
)

// Limits applied by Parse.
const (
	// MaxRRsPerSection is how many questions or records per section Parse
	// decodes; the rest are walked (so later sections and EDNS are still
	// found), counted in Message.SkippedRRs and flagged by Message.Capped.
	MaxRRsPerSection = 256
	// MaxNameLen is the longest name on the wire, root label included.
	MaxNameLen = 255
	// MaxLabelLen is the longest label.
	MaxLabelLen = 63
	// MaxPointers caps the compression pointers followed for one name.
	// Pointers may go forward as well as back, and chain, as tshark reads
	// them; this cap (Wireshark's), with MaxNameLen on the label bytes,
	// bounds the work a looping name can cause.
	MaxPointers = 255
	// MaxOptions caps the EDNS options recorded in EDNS.Options.
	MaxOptions = 32
)

// Sentinel errors. Parse wraps them in an *Error carrying the offset; test
// with errors.Is.
var (
	// ErrTruncated means the message ended in the middle of a field.
	ErrTruncated = errors.New("dns: message truncated")
	// ErrPointerLoop means a name followed more than MaxPointers
	// compression pointers: pointers that loop, or a chain too long.
	ErrPointerLoop = errors.New("dns: compression pointer loop")
	// ErrLabelTooLong means a label length byte of 64..127 (prefix bits 01,
	// the retired extended-label type): a label longer than 63 bytes.
	ErrLabelTooLong = errors.New("dns: label longer than 63 bytes")
	// ErrNameTooLong means a name longer than 255 bytes on the wire.
	ErrNameTooLong = errors.New("dns: name longer than 255 bytes")
	// ErrBadLabel means the reserved label prefix bits 10.
	ErrBadLabel = errors.New("dns: unsupported label type")
)

// Error is what Parse returns: where decoding stopped and why.
type Error struct {
	Offset  int    // byte offset in the message where the bad field starts
	Section string // "header", "question", "answer", "authority", "additional"
	Err     error  // one of the sentinel errors
}

func (e *Error) Error() string {
	return "dns: " + e.Section + " at offset " + strconv.Itoa(e.Offset) + ": " + trimPrefix(e.Err.Error())
}

// Unwrap returns the sentinel error.
func (e *Error) Unwrap() error { return e.Err }

func trimPrefix(s string) string {
	if len(s) > 5 && s[:5] == "dns: " {
		return s[5:]
	}
	return s
}

// Question is one entry of the question section.
type Question struct {
	Name  string // presentation form, see the package comment
	Type  uint16
	Class uint16

	name span
}

// RR is one resource record.
type RR struct {
	Name  string
	Type  uint16
	Class uint16
	TTL   uint32
	// Data is the record data in presentation form:
	//   A, AAAA             address text ("192.0.2.1", "2001:db8::1")
	//   NS CNAME PTR DNAME  the target name (also MD MF MB MG MR)
	//   MX                  "pref exchange"
	//   TXT, SPF            the character-strings concatenated with no
	//                       separator (as SPF and DKIM read them), each byte
	//                       escaped like a label except that space and '.'
	//                       are kept; Message.TXT gives the strings apart
	//   SOA                 "mname rname serial refresh retry expire minimum"
	//   SRV                 "priority weight port target"
	//   SVCB, HTTPS         "priority target key=value ..." (RFC 9460 keys:
	//                       mandatory alpn no-default-alpn port ipv4hint ech
	//                       ipv6hint dohpath ohttp, others "keyN=value")
	//   CAA                 `flags tag "value"`
	//   DS, CDS             "keytag algorithm digesttype HEXDIGEST"
	//   DNSKEY, CDNSKEY     "flags protocol algorithm base64key"
	//   RRSIG               "covered algorithm labels origttl expiration
	//                       inception keytag signer base64signature" with
	//                       times as YYYYMMDDHHMMSS UTC (RFC 4034)
	//   NSEC                "next TYPE TYPE ..."
	//   anything else       RFC 3597 "\# len hex" (also for rdata that
	//                       does not decode as its type; see BadRData)
	Data string
	// Target is the domain name carried in the rdata, alone: the CNAME, NS,
	// PTR or DNAME target, the MX exchange, the SRV or SVCB/HTTPS target,
	// the SOA mname. It is "" for other types.
	Target string

	name, data, target span
	txtLo, txtHi       int // this record's strings in Message.txt
}

// ClientSubnet is the EDNS Client Subnet option (RFC 7871).
type ClientSubnet struct {
	Family       uint16     // 1 IPv4, 2 IPv6
	SourcePrefix uint8      // SOURCE PREFIX-LENGTH
	ScopePrefix  uint8      // SCOPE PREFIX-LENGTH
	Address      netip.Addr // the address bits sent, zero padded; invalid if malformed
}

// EDNS is what the OPT pseudo-record carried (RFC 6891). It is not listed
// among Message.Additionals.
type EDNS struct {
	Present       bool
	UDPSize       uint16 // requestor's payload size (the OPT class)
	ExtRCode      uint8  // upper 8 bits of the 12-bit RCODE
	Version       uint8
	DO            bool     // DNSSEC OK
	Options       []uint16 // option codes in order (at most MaxOptions)
	HasECS        bool     // a Client Subnet option was present
	ECS           ClientSubnet
	ExtraOPT      int // further OPT records seen (a FORMERR per RFC 6891); ignored
	BadOptions    bool
	optionsCapped bool
}

// Message is a decoded DNS message. Parse resets it and reuses its slices, so
// one Message per worker decodes every packet without allocating beyond one
// string per message (all names and data share it).
type Message struct {
	ID uint16
	// IDText is ID in decimal (dns.id), part of the message's text: a
	// message read without its header has none.
	IDText             string
	Response           bool // QR
	Opcode             uint8
	Authoritative      bool // AA
	Truncated          bool // TC
	RecursionDesired   bool // RD
	RecursionAvailable bool // RA
	Zero               bool // the reserved Z bit
	AuthenticData      bool // AD
	CheckingDisabled   bool // CD
	// RCode is the response code, extended with the OPT record's upper
	// bits when EDNS is present (so BADVERS is 16).
	RCode uint16

	// Section counts as the header states them.
	QDCount, ANCount, NSCount, ARCount uint16

	Questions   []Question
	Answers     []RR
	Authorities []RR
	Additionals []RR // without the OPT record, see EDNS
	EDNS        EDNS

	// Capped is set when a section held more than MaxRRsPerSection entries;
	// SkippedRRs counts those walked but not decoded.
	Capped     bool
	SkippedRRs int
	// BadRData counts records whose rdata did not decode as their type
	// (their Data falls back to RFC 3597 hex).
	BadRData int
	// Size is the length of the wire message.
	Size int
	// TextSize is the length of the string holding all names and data of
	// the message: what keeping m (or a copy) keeps alive.
	TextSize int
	// Err is the error Parse returned (an *Error), nil for a whole
	// message. A message with Err keeps what was decoded before the bad
	// field, and copies of it keep the error.
	Err error

	txt   []string // TXT strings, indexed by RR.txtLo..txtHi
	txtSp []span
	arena []byte
	// deferred: the names and data are still spans of arena (parseDeferred)
	deferred bool
	cache    [8]nameCache
	ncach    int
}

type span struct{ lo, hi uint32 }

type nameCache struct {
	off int
	sp  span
}

// TXT returns the character-strings of a TXT or SPF record of this message,
// each escaped as in RR.Data. The slice is owned by m.
func (m *Message) TXT(rr *RR) []string {
	if rr.txtHi <= rr.txtLo || rr.txtHi > len(m.txt) {
		return nil
	}
	return m.txt[rr.txtLo:rr.txtHi]
}

// Reset clears m, keeping its buffers.
func (m *Message) Reset() {
	*m = Message{
		Questions:   m.Questions[:0],
		Answers:     m.Answers[:0],
		Authorities: m.Authorities[:0],
		Additionals: m.Additionals[:0],
		EDNS:        EDNS{Options: m.EDNS.Options[:0]},
		txt:         m.txt[:0],
		txtSp:       m.txtSp[:0],
		arena:       m.arena[:0],
	}
}

// CopyTo makes dst a deep copy of m that shares no slice with it (strings
// are immutable and shared). dst's buffers are reused.
func (m *Message) CopyTo(dst *Message) {
	q, an, ns, ar, op, tx := dst.Questions[:0], dst.Answers[:0], dst.Authorities[:0], dst.Additionals[:0], dst.EDNS.Options[:0], dst.txt[:0]
	ts, ab := dst.txtSp[:0], dst.arena[:0]
	*dst = *m
	dst.Questions = append(q, m.Questions...)
	dst.Answers = append(an, m.Answers...)
	dst.Authorities = append(ns, m.Authorities...)
	dst.Additionals = append(ar, m.Additionals...)
	dst.EDNS.Options = append(op, m.EDNS.Options...)
	dst.txt = append(tx, m.txt...)
	dst.txtSp, dst.arena = ts, ab
	if m.deferred { // the text is still m's arena: the copy needs its own
		dst.txtSp = append(ts, m.txtSp...)
		dst.arena = append(ab, m.arena...)
	}
	dst.ncach = 0
}

// Clone returns a deep copy of m (see CopyTo).
func (m *Message) Clone() *Message {
	c := new(Message)
	m.CopyTo(c)
	return c
}

// HeaderFlags returns the ECS dns.header_flags values set on m, in the order
// AA TC RD RA AD CD DO.
func (m *Message) HeaderFlags() []string { return m.AppendHeaderFlags(nil) }

// AppendHeaderFlags appends the HeaderFlags values to dst.
func (m *Message) AppendHeaderFlags(dst []string) []string {
	if m.Authoritative {
		dst = append(dst, "AA")
	}
	if m.Truncated {
		dst = append(dst, "TC")
	}
	if m.RecursionDesired {
		dst = append(dst, "RD")
	}
	if m.RecursionAvailable {
		dst = append(dst, "RA")
	}
	if m.AuthenticData {
		dst = append(dst, "AD")
	}
	if m.CheckingDisabled {
		dst = append(dst, "CD")
	}
	if m.EDNS.DO {
		dst = append(dst, "DO")
	}
	return dst
}

// Section names used in Error.Section.
const (
	secHeader     = "header"
	secQuestion   = "question"
	secAnswer     = "answer"
	secAuthority  = "authority"
	secAdditional = "additional"
)

// Parse decodes the DNS message b into m. m is reset first and its slices
// reused; m keeps no reference to b. On error m holds what was decoded before
// the failing field (always the header when b has 12 bytes), m.Err is set,
// and the error is an *Error wrapping ErrTruncated, ErrPointerLoop,
// ErrLabelTooLong, ErrNameTooLong or ErrBadLabel.
//
// A name that loops (ErrPointerLoop, or ErrNameTooLong reached through
// pointers) still has a known length on the wire, so, as tshark does, Parse
// goes on past it: the question or record is kept with an empty name, and
// the error (the first one met) is returned at the end.
func Parse(b []byte, m *Message) error {
	err := parseDeferred(b, m)
	m.resolve(string(m.arena), nil)
	return err
}

// parseDeferred is Parse leaving the message's text in m.arena (m.deferred):
// a Pairer makes one string of a query's and its response's text when it
// delivers them (resolveText).
func parseDeferred(b []byte, m *Message) error {
	m.Reset()
	m.Size = len(b)
	if err := parse(b, m); m.Err == nil {
		m.Err = err
	}
	m.seal()
	return m.Err
}

// pastBadName decides whether parsing goes on after the name at off failed
// with err: it records the error in m.Err (the first one only) and returns
// the offset after the name, or ok false when the name's length is unknown
// or the message is cut.
func (m *Message) pastBadName(b []byte, off int, err error, sec string) (end int, ok bool) {
	if !errors.Is(err, ErrPointerLoop) && !errors.Is(err, ErrNameTooLong) {
		return 0, false
	}
	end, serr := skipName(b, off)
	if serr != nil {
		return 0, false
	}
	if m.Err == nil {
		m.Err = &Error{Offset: off, Section: sec, Err: err}
	}
	return end, true
}

// HeaderSize is the length of the DNS header: a message shorter than it
// has nothing to decode (Parse fails with ErrTruncated at offset 0).
const HeaderSize = 12

func parse(b []byte, m *Message) error {
	if len(b) < HeaderSize {
		return &Error{Offset: 0, Section: secHeader, Err: ErrTruncated}
	}
	m.ID = binary.BigEndian.Uint16(b)
	f := binary.BigEndian.Uint16(b[2:])
	m.Response = f&0x8000 != 0
	m.Opcode = uint8(f>>11) & 0xF
	m.Authoritative = f&0x0400 != 0
	m.Truncated = f&0x0200 != 0
	m.RecursionDesired = f&0x0100 != 0
	m.RecursionAvailable = f&0x0080 != 0
	m.Zero = f&0x0040 != 0
	m.AuthenticData = f&0x0020 != 0
	m.CheckingDisabled = f&0x0010 != 0
	m.RCode = f & 0xF
	m.QDCount = binary.BigEndian.Uint16(b[4:])
	m.ANCount = binary.BigEndian.Uint16(b[6:])
	m.NSCount = binary.BigEndian.Uint16(b[8:])
	m.ARCount = binary.BigEndian.Uint16(b[10:])

	off := 12
	for i := 0; i < int(m.QDCount); i++ {
		start := off
		var sp span
		var err error
		if i < MaxRRsPerSection {
			sp, off, err = m.name(b, off)
			if err != nil {
				if end, ok := m.pastBadName(b, start, err, secQuestion); ok {
					sp, off, err = span{}, end, nil
				}
			}
		} else {
			off, err = skipName(b, off)
		}
		if err != nil {
			return &Error{Offset: start, Section: secQuestion, Err: err}
		}
		if off+4 > len(b) {
			return &Error{Offset: start, Section: secQuestion, Err: ErrTruncated}
		}
		if i < MaxRRsPerSection {
			m.Questions = append(m.Questions, Question{
				Type:  binary.BigEndian.Uint16(b[off:]),
				Class: binary.BigEndian.Uint16(b[off+2:]),
				name:  sp,
			})
		} else {
			m.Capped = true
			m.SkippedRRs++
		}
		off += 4
	}
	var err error
	if m.Answers, off, err = m.section(b, off, int(m.ANCount), m.Answers, secAnswer); err != nil {
		return err
	}
	if m.Authorities, off, err = m.section(b, off, int(m.NSCount), m.Authorities, secAuthority); err != nil {
		return err
	}
	if m.Additionals, _, err = m.section(b, off, int(m.ARCount), m.Additionals, secAdditional); err != nil {
		return err
	}
	if m.EDNS.Present {
		m.RCode |= uint16(m.EDNS.ExtRCode) << 4
	}
	return nil
}

// seal ends the message's text, its names and data in the arena (the
// ID's decimal is not among them: IDText is a piece of idDigits).
func (m *Message) seal() {
	m.TextSize = len(m.arena)
	m.deferred = true
}

// resolve turns the arena spans of a deferred message into strings: those
// names keeps (an intern.Table: most names and data recur), else pieces of
// s, the arena's text (made by the caller: one allocation per message, or
// per transaction). IDText is a piece of idDigits either way.
func (m *Message) resolve(s string, names *intern.Table) {
	if !m.deferred {
		return
	}
	m.deferred = false
	str := func(sp span) string {
		if names != nil {
			return names.String(m.arena[sp.lo:sp.hi])
		}
		return s[sp.lo:sp.hi]
	}
	m.IDText = ""
	if m.Size >= HeaderSize { // the header, and so the ID, was read
		m.IDText = idText(m.ID)
	}
	for i := range m.Questions {
		m.Questions[i].Name = str(m.Questions[i].name)
	}
	for _, sec := range [3][]RR{m.Answers, m.Authorities, m.Additionals} {
		for i := range sec {
			rr := &sec[i]
			rr.Name = str(rr.name)
			rr.Data = str(rr.data)
			rr.Target = str(rr.target)
		}
	}
	for _, sp := range m.txtSp {
		m.txt = append(m.txt, str(sp))
	}
}

// resolveText gives the deferred messages among ms their strings: those
// names keeps, or without it all in one allocation.
func resolveText(names *intern.Table, ms ...*Message) {
	if names != nil {
		for _, m := range ms {
			if m != nil {
				m.resolve("", names)
			}
		}
		return
	}
	var b strings.Builder
	n := 0
	for _, m := range ms {
		if m != nil && m.deferred {
			n += len(m.arena)
		}
	}
	b.Grow(n)
	for _, m := range ms {
		if m != nil && m.deferred {
			b.Write(m.arena)
		}
	}
	s := b.String()
	for _, m := range ms {
		if m != nil && m.deferred {
			m.resolve(s[:len(m.arena)], nil)
			s = s[len(m.arena):]
		}
	}
}

// idDigits is every DNS ID in decimal, 0 to 65535, one after another
// (316,570 bytes, made once): a message's IDText is a piece of it, where a
// transaction's random ID would miss any table of recent strings.
var idDigits = sync.OnceValue(func() string {
	b := make([]byte, 0, 316570)
	for id := range 1 << 16 {
		b = strconv.AppendUint(b, uint64(id), 10)
	}
	return string(b)
})

// idText is id in decimal, a piece of idDigits.
func idText(id uint16) string {
	n := int(id)
	var at, w int
	switch {
	case n < 10:
		at, w = n, 1
	case n < 100:
		at, w = 10+(n-10)*2, 2
	case n < 1000:
		at, w = 190+(n-100)*3, 3
	case n < 10000:
		at, w = 2890+(n-1000)*4, 4
	default:
		at, w = 38890+(n-10000)*5, 5
	}
	return idDigits()[at : at+w]
}

// questionName is the first question's name; while the text is deferred,
// a view of the arena, for comparing only.
func (m *Message) questionName() string {
	q := &m.Questions[0]
	if !m.deferred || q.name.hi <= q.name.lo {
		return q.Name
	}
	return unsafe.String(&m.arena[q.name.lo], q.name.hi-q.name.lo)
}

func (m *Message) section(b []byte, off, count int, rrs []RR, sec string) ([]RR, int, error) {
	for i := 0; i < count; i++ {
		start := off
		// The owner name is decoded lazily: a skipped record only walks it.
		nameEnd, err := skipName(b, off)
		if err != nil {
			return rrs, off, &Error{Offset: start, Section: sec, Err: err}
		}
		if nameEnd+10 > len(b) {
			return rrs, off, &Error{Offset: start, Section: sec, Err: ErrTruncated}
		}
		typ := binary.BigEndian.Uint16(b[nameEnd:])
		class := binary.BigEndian.Uint16(b[nameEnd+2:])
		ttl := binary.BigEndian.Uint32(b[nameEnd+4:])
		rdlen := int(binary.BigEndian.Uint16(b[nameEnd+8:]))
		rd := nameEnd + 10
		if rd+rdlen > len(b) {
			return rrs, off, &Error{Offset: start, Section: sec, Err: ErrTruncated}
		}
		off = rd + rdlen
		if typ == TypeOPT && sec == secAdditional {
			m.opt(class, ttl, b[rd:rd+rdlen])
			continue
		}
		if len(rrs) >= MaxRRsPerSection {
			m.Capped = true
			m.SkippedRRs++
			continue
		}
		nsp, _, err := m.name(b, start)
		if err != nil {
			if _, ok := m.pastBadName(b, start, err, sec); !ok {
				return rrs, start, &Error{Offset: start, Section: sec, Err: err}
			}
		}
		rr := RR{Type: typ, Class: class, TTL: ttl, name: nsp}
		m.rdata(&rr, b[:rd+rdlen], rd)
		rrs = append(rrs, rr)
	}
	return rrs, off, nil
}

// opt records the OPT pseudo-record (RFC 6891 section 6.1).
func (m *Message) opt(class uint16, ttl uint32, rd []byte) {
	e := &m.EDNS
	if e.Present {
		e.ExtraOPT++
		return
	}
	e.Present = true
	e.UDPSize = class
	e.ExtRCode = uint8(ttl >> 24)
	e.Version = uint8(ttl >> 16)
	e.DO = ttl&0x8000 != 0
	for len(rd) > 0 {
		if len(rd) < 4 {
			e.BadOptions = true
			return
		}
		code := binary.BigEndian.Uint16(rd)
		n := int(binary.BigEndian.Uint16(rd[2:]))
		if 4+n > len(rd) {
			e.BadOptions = true
			return
		}
		v := rd[4 : 4+n]
		rd = rd[4+n:]
		if len(e.Options) < MaxOptions {
			e.Options = append(e.Options, code)
		} else {
			e.optionsCapped = true
		}
		if code == OptionClientSubnet && !e.HasECS {
			e.HasECS = true
			e.ECS = parseECS(v)
			if !e.ECS.Address.IsValid() {
				e.BadOptions = true
			}
		}
	}
}

func parseECS(v []byte) ClientSubnet {
	var c ClientSubnet
	if len(v) < 4 {
		return c
	}
	c.Family = binary.BigEndian.Uint16(v)
	c.SourcePrefix = v[2]
	c.ScopePrefix = v[3]
	a := v[4:]
	var max int
	switch c.Family {
	case 1:
		max = 4
	case 2:
		max = 16
	default:
		return c
	}
	// RFC 7871 section 6: ADDRESS holds exactly ceil(SOURCE/8) bytes.
	if int(c.SourcePrefix) > max*8 || len(a) != (int(c.SourcePrefix)+7)/8 {
		return c
	}
	var buf [16]byte
	copy(buf[:], a)
	if max == 4 {
		c.Address = netip.AddrFrom4([4]byte(buf[:4]))
	} else {
		c.Address = netip.AddrFrom16(buf)
	}
	return c
}

// skipName returns the offset after the name at off without decoding it.
func skipName(b []byte, off int) (int, error) {
	n := 0
	for {
		if off >= len(b) {
			return off, ErrTruncated
		}
		c := int(b[off])
		switch c & 0xC0 {
		case 0x00:
			if c == 0 {
				return off + 1, nil
			}
			n += c + 1
			if n > MaxNameLen-1 {
				return off, ErrNameTooLong
			}
			off += c + 1
		case 0xC0:
			if off+2 > len(b) {
				return off, ErrTruncated
			}
			return off + 2, nil
		case 0x40:
			return off, ErrLabelTooLong
		default:
			return off, ErrBadLabel
		}
	}
}

// name decodes the name at off into the arena and returns its span and the
// offset after it. Pointers may point anywhere in the message, forward too
// (as tshark reads them); loops end at MaxPointers jumps or MaxNameLen label
// bytes, whichever comes first.
func (m *Message) name(b []byte, off int) (span, int, error) {
	// A name that is only a pointer to a name decoded before shares its text.
	if off+1 < len(b) && b[off]&0xC0 == 0xC0 {
		t := int(b[off]&0x3F)<<8 | int(b[off+1])
		if t < off {
			for i := 0; i < m.ncach; i++ {
				if m.cache[i].off == t {
					return m.cache[i].sp, off + 2, nil
				}
			}
		}
	}
	start := len(m.arena)
	end := -1
	p := off
	wire := 0
	ptrs := 0
	for {
		if p >= len(b) {
			m.arena = m.arena[:start]
			return span{}, off, ErrTruncated
		}
		c := int(b[p])
		switch c & 0xC0 {
		case 0x00:
			if c == 0 {
				p++
				if end < 0 {
					end = p
				}
				if len(m.arena) == start {
					m.arena = append(m.arena, '.')
				}
				sp := span{uint32(start), uint32(len(m.arena))}
				if b[off]&0xC0 == 0 {
					m.cache[m.ncach%len(m.cache)] = nameCache{off, sp}
					if m.ncach < len(m.cache) {
						m.ncach++
					}
				}
				return sp, end, nil
			}
			wire += c + 1
			if wire > MaxNameLen-1 {
				m.arena = m.arena[:start]
				return span{}, off, ErrNameTooLong
			}
			if p+1+c > len(b) {
				m.arena = m.arena[:start]
				return span{}, off, ErrTruncated
			}
			if len(m.arena) > start {
				m.arena = append(m.arena, '.')
			}
			m.arena = appendLabel(m.arena, b[p+1:p+1+c])
			p += 1 + c
		case 0xC0:
			if p+2 > len(b) {
				m.arena = m.arena[:start]
				return span{}, off, ErrTruncated
			}
			t := int(c&0x3F)<<8 | int(b[p+1])
			if end < 0 {
				end = p + 2
			}
			ptrs++
			if ptrs > MaxPointers {
				m.arena = m.arena[:start]
				return span{}, off, ErrPointerLoop
			}
			p = t
		case 0x40:
			m.arena = m.arena[:start]
			return span{}, off, ErrLabelTooLong
		default:
			m.arena = m.arena[:start]
			return span{}, off, ErrBadLabel
		}
	}
}
