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
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"strconv"
	"time"
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
	ID                 uint16
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
	cache [8]nameCache
	ncach int
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
	*dst = *m
	dst.Questions = append(q, m.Questions...)
	dst.Answers = append(an, m.Answers...)
	dst.Authorities = append(ns, m.Authorities...)
	dst.Additionals = append(ar, m.Additionals...)
	dst.EDNS.Options = append(op, m.EDNS.Options...)
	dst.txt = append(tx, m.txt...)
	dst.txtSp = nil
	dst.arena = nil // spans are resolved to strings; nothing refers to it
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
func Parse(b []byte, m *Message) error {
	m.Reset()
	m.Size = len(b)
	err := parse(b, m)
	m.finish()
	if err != nil {
		m.Err = err
	}
	return err
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

// finish turns the arena spans into strings: one allocation per message.
func (m *Message) finish() {
	if len(m.arena) == 0 {
		return
	}
	s := string(m.arena)
	m.TextSize = len(s)
	str := func(sp span) string { return s[sp.lo:sp.hi] }
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
			return rrs, start, &Error{Offset: start, Section: sec, Err: err}
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

// appendLabel appends one label in presentation form.
func appendLabel(dst, l []byte) []byte {
	for _, c := range l {
		switch {
		case c == '.' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x21 || c > 0x7e:
			dst = appendDDD(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func appendDDD(dst []byte, c byte) []byte {
	return append(dst, '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
}

// appendText appends a character-string: backslash and non-printable bytes
// are escaped, space is kept.
func appendText(dst, s []byte, extra byte) []byte {
	for _, c := range s {
		switch {
		case c == '\\' || (extra != 0 && c == extra):
			dst = append(dst, '\\', c)
		case c < 0x20 || c > 0x7e:
			dst = appendDDD(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// rdata fills rr.data (and rr.target) from the rdata at b[off:], where b
// ends at the end of the rdata. Undecodable rdata falls back to RFC 3597.
func (m *Message) rdata(rr *RR, b []byte, off int) {
	start := len(m.arena)
	txtStart := len(m.txtSp)
	known := m.known(rr.Type)
	if !known || !m.appendRData(rr, b, off) {
		m.arena = m.arena[:start]
		m.txtSp = m.txtSp[:txtStart]
		rr.target = span{}
		if known {
			m.BadRData++
		}
		m.arena = appendUnknown(m.arena, b[off:])
	}
	rr.data = span{uint32(start), uint32(len(m.arena))}
	if rr.Type == TypeTXT || rr.Type == TypeSPF {
		rr.txtLo, rr.txtHi = txtStart, len(m.txtSp)
	}
}

// known reports whether appendRData has a presentation form for t.
func (m *Message) known(t uint16) bool {
	switch t {
	case TypeA, TypeAAAA, TypeNS, TypeMD, TypeMF, TypeCNAME, TypeMB, TypeMG, TypeMR, TypePTR, TypeDNAME,
		TypeMX, TypeTXT, TypeSPF, TypeSOA, TypeSRV, TypeSVCB, TypeHTTPS, TypeCAA, TypeDS, TypeCDS, TypeDLV,
		TypeDNSKEY, TypeCDNSKEY, TypeRRSIG, TypeNSEC:
		return true
	}
	return false
}

func appendUnknown(dst, rd []byte) []byte {
	dst = append(dst, `\# `...)
	dst = strconv.AppendInt(dst, int64(len(rd)), 10)
	if len(rd) > 0 {
		dst = append(dst, ' ')
		dst = hex.AppendEncode(dst, rd)
	}
	return dst
}

// rdName decodes a name that must end exactly at or before len(b); it
// writes it to the arena and returns the offset after it.
func (m *Message) rdName(b []byte, off int) (span, int, bool) {
	sp, end, err := m.name(b, off)
	if err != nil {
		return span{}, off, false
	}
	// The cached span may lie anywhere in the arena; the data must be
	// contiguous, so copy it when it is not the text just written.
	if int(sp.hi) != len(m.arena) {
		m.arena = append(m.arena, m.arena[sp.lo:sp.hi]...)
		sp = span{uint32(len(m.arena)) - (sp.hi - sp.lo), uint32(len(m.arena))}
	}
	return sp, end, true
}

func (m *Message) appendRData(rr *RR, b []byte, off int) bool {
	rd := b[off:]
	a := m.arena
	switch rr.Type {
	case TypeA:
		if len(rd) != 4 {
			return false
		}
		m.arena = netip.AddrFrom4([4]byte(rd)).AppendTo(a)
	case TypeAAAA:
		if len(rd) != 16 {
			return false
		}
		m.arena = netip.AddrFrom16([16]byte(rd)).AppendTo(a)
	case TypeNS, TypeMD, TypeMF, TypeCNAME, TypeMB, TypeMG, TypeMR, TypePTR, TypeDNAME:
		sp, end, ok := m.rdName(b, off)
		if !ok || end != len(b) {
			return false
		}
		rr.target = sp
	case TypeMX:
		if len(rd) < 3 {
			return false
		}
		m.arena = strconv.AppendUint(a, uint64(binary.BigEndian.Uint16(rd)), 10)
		m.arena = append(m.arena, ' ')
		sp, end, ok := m.rdName(b, off+2)
		if !ok || end != len(b) {
			return false
		}
		rr.target = sp
	case TypeTXT, TypeSPF:
		for p := 0; p < len(rd); {
			n := int(rd[p])
			if p+1+n > len(rd) {
				return false
			}
			s := len(m.arena)
			m.arena = appendText(m.arena, rd[p+1:p+1+n], 0)
			m.txtSp = append(m.txtSp, span{uint32(s), uint32(len(m.arena))})
			p += 1 + n
		}
	case TypeSOA:
		sp, p, ok := m.rdName(b, off)
		if !ok {
			return false
		}
		rr.target = sp
		m.arena = append(m.arena, ' ')
		_, p, ok = m.rdName(b, p)
		if !ok || len(b)-p != 20 {
			return false
		}
		for i := 0; i < 5; i++ {
			m.arena = append(m.arena, ' ')
			m.arena = strconv.AppendUint(m.arena, uint64(binary.BigEndian.Uint32(b[p+4*i:])), 10)
		}
	case TypeSRV:
		if len(rd) < 7 {
			return false
		}
		for i := 0; i < 3; i++ {
			m.arena = strconv.AppendUint(m.arena, uint64(binary.BigEndian.Uint16(rd[2*i:])), 10)
			m.arena = append(m.arena, ' ')
		}
		sp, end, ok := m.rdName(b, off+6)
		if !ok || end != len(b) {
			return false
		}
		rr.target = sp
	case TypeSVCB, TypeHTTPS:
		return m.appendSVCB(rr, b, off)
	case TypeCAA:
		if len(rd) < 2 || 2+int(rd[1]) > len(rd) || rd[1] == 0 {
			return false
		}
		m.arena = strconv.AppendUint(a, uint64(rd[0]), 10)
		m.arena = append(m.arena, ' ')
		m.arena = appendText(m.arena, rd[2:2+rd[1]], ' ')
		m.arena = append(m.arena, ' ', '"')
		m.arena = appendText(m.arena, rd[2+rd[1]:], '"')
		m.arena = append(m.arena, '"')
	case TypeDS, TypeCDS, TypeDLV:
		if len(rd) < 5 {
			return false
		}
		m.arena = appendHexUpper(appendKeyHead(a, rd), rd[4:])
	case TypeDNSKEY, TypeCDNSKEY:
		if len(rd) < 5 {
			return false
		}
		m.arena = base64.StdEncoding.AppendEncode(appendKeyHead(a, rd), rd[4:])
	case TypeRRSIG:
		if len(rd) < 19 {
			return false
		}
		a = AppendTypeName(a, binary.BigEndian.Uint16(rd))
		a = append(a, ' ')
		a = strconv.AppendUint(a, uint64(rd[2]), 10)
		a = append(a, ' ')
		a = strconv.AppendUint(a, uint64(rd[3]), 10)
		a = append(a, ' ')
		a = strconv.AppendUint(a, uint64(binary.BigEndian.Uint32(rd[4:])), 10)
		a = append(a, ' ')
		a = time.Unix(int64(binary.BigEndian.Uint32(rd[8:])), 0).UTC().AppendFormat(a, "20060102150405")
		a = append(a, ' ')
		a = time.Unix(int64(binary.BigEndian.Uint32(rd[12:])), 0).UTC().AppendFormat(a, "20060102150405")
		a = append(a, ' ')
		a = strconv.AppendUint(a, uint64(binary.BigEndian.Uint16(rd[16:])), 10)
		a = append(a, ' ')
		m.arena = a
		_, p, ok := m.rdName(b, off+18)
		if !ok || p >= len(b) {
			return false
		}
		m.arena = append(m.arena, ' ')
		m.arena = base64.StdEncoding.AppendEncode(m.arena, b[p:])
	case TypeNSEC:
		_, p, ok := m.rdName(b, off)
		if !ok {
			return false
		}
		var ok2 bool
		if m.arena, ok2 = appendTypeBitmap(m.arena, b[p:]); !ok2 {
			return false
		}
	default:
		return false
	}
	return true
}

// appendTypeBitmap appends the RFC 4034 section 4.1.2 type bitmap.
func appendTypeBitmap(dst, bm []byte) ([]byte, bool) {
	last := -1
	for len(bm) > 0 {
		if len(bm) < 2 {
			return dst, false
		}
		win, n := int(bm[0]), int(bm[1])
		if win <= last || n == 0 || n > 32 || 2+n > len(bm) {
			return dst, false
		}
		last = win
		for i, octet := range bm[2 : 2+n] {
			for bit := 0; bit < 8; bit++ {
				if octet&(0x80>>bit) != 0 {
					dst = append(dst, ' ')
					dst = AppendTypeName(dst, uint16(win<<8|i*8+bit))
				}
			}
		}
		bm = bm[2+n:]
	}
	return dst, true
}

func appendHexUpper(dst, src []byte) []byte {
	const digits = "0123456789ABCDEF"
	for _, c := range src {
		dst = append(dst, digits[c>>4], digits[c&0xF])
	}
	return dst
}

// SVCB parameter keys (RFC 9460 section 14.3.2).
var svcKeyNames = [...]string{"mandatory", "alpn", "no-default-alpn", "port", "ipv4hint", "ech", "ipv6hint", "dohpath", "ohttp"}

func appendSvcKey(dst []byte, k uint16) []byte {
	if int(k) < len(svcKeyNames) {
		return append(dst, svcKeyNames[k]...)
	}
	dst = append(dst, "key"...)
	return strconv.AppendUint(dst, uint64(k), 10)
}

// appendSVCB renders SVCB/HTTPS rdata (RFC 9460 section 2.1).
func (m *Message) appendSVCB(rr *RR, b []byte, off int) bool {
	rd := b[off:]
	if len(rd) < 3 {
		return false
	}
	m.arena = strconv.AppendUint(m.arena, uint64(binary.BigEndian.Uint16(rd)), 10)
	m.arena = append(m.arena, ' ')
	sp, p, ok := m.rdName(b, off+2)
	if !ok {
		return false
	}
	rr.target = sp
	for p < len(b) {
		if p+4 > len(b) {
			return false
		}
		key := binary.BigEndian.Uint16(b[p:])
		n := int(binary.BigEndian.Uint16(b[p+2:]))
		p += 4
		if p+n > len(b) {
			return false
		}
		v := b[p : p+n]
		p += n
		m.arena = append(m.arena, ' ')
		m.arena = appendSvcKey(m.arena, key)
		if n == 0 {
			continue
		}
		m.arena = append(m.arena, '=')
		a := m.arena
		switch key {
		case 0: // mandatory
			if n%2 != 0 {
				return false
			}
			for i := 0; i < n; i += 2 {
				if i > 0 {
					a = append(a, ',')
				}
				a = appendSvcKey(a, binary.BigEndian.Uint16(v[i:]))
			}
		case 1: // alpn
			for i := 0; i < n; {
				l := int(v[i])
				if i+1+l > n {
					return false
				}
				if i > 0 {
					a = append(a, ',')
				}
				a = appendText(a, v[i+1:i+1+l], ',')
				i += 1 + l
			}
		case 3: // port
			if n != 2 {
				return false
			}
			a = strconv.AppendUint(a, uint64(binary.BigEndian.Uint16(v)), 10)
		case 4: // ipv4hint
			if n%4 != 0 {
				return false
			}
			for i := 0; i < n; i += 4 {
				if i > 0 {
					a = append(a, ',')
				}
				a = netip.AddrFrom4([4]byte(v[i:])).AppendTo(a)
			}
		case 6: // ipv6hint
			if n%16 != 0 {
				return false
			}
			for i := 0; i < n; i += 16 {
				if i > 0 {
					a = append(a, ',')
				}
				a = netip.AddrFrom16([16]byte(v[i:])).AppendTo(a)
			}
		case 5: // ech, base64 as in RFC 9460 / draft-ietf-tls-svcb-ech
			a = base64.StdEncoding.AppendEncode(a, v)
		default: // dohpath and unknown keys: the value as escaped text
			a = appendText(a, v, ' ')
		}
		m.arena = a
	}
	return true
}

// appendKeyHead writes the three numbers DS and DNSKEY rdata start with
// (a 16-bit field, then two 8-bit ones: key tag, algorithm, digest type for
// DS; flags, protocol, algorithm for DNSKEY), each followed by a space.
func appendKeyHead(a, rd []byte) []byte {
	a = strconv.AppendUint(a, uint64(binary.BigEndian.Uint16(rd)), 10)
	a = append(a, ' ')
	a = strconv.AppendUint(a, uint64(rd[2]), 10)
	a = append(a, ' ')
	a = strconv.AppendUint(a, uint64(rd[3]), 10)
	return append(a, ' ')
}
