// Package ntlm reads NTLMSSP messages (MS-NLMP): NEGOTIATE, CHALLENGE and
// AUTHENTICATE, wherever they are carried (SMB session setup inside
// SPNEGO, HTTP Authorization/WWW-Authenticate, DCE/RPC auth verifiers,
// LDAP binds). It keeps names, flags and versions only: the server
// challenge, the LM/NT responses, the session key and the MIC are never
// copied out of the message.
package ntlm

import (
	"encoding/binary"
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Message types.
const (
	Negotiate    = 1
	Challenge    = 2
	Authenticate = 3
)

// Negotiate flags (MS-NLMP 2.2.2.5) this package looks at.
const (
	FlagUnicode      = 0x00000001
	FlagOEM          = 0x00000002
	FlagSign         = 0x00000010
	FlagSeal         = 0x00000020
	FlagLMKey        = 0x00000080
	FlagNTLM         = 0x00000200
	FlagAnonymous    = 0x00000800
	FlagAlwaysSign   = 0x00008000
	FlagExtendedSess = 0x00080000
	FlagTargetInfo   = 0x00800000
	FlagVersion      = 0x02000000
	Flag128          = 0x20000000
	FlagKeyExchange  = 0x40000000
	Flag56           = 0x80000000
)

// Signature starts every NTLMSSP message.
const Signature = "NTLMSSP\x00"

// maxField bounds a string field: NetBIOS and DNS names and user names are
// far shorter; a longer one is cut (and noted), never trusted.
const maxField = 512

// Errors of Parse.
var (
	ErrSignature = errors.New("ntlm: no NTLMSSP signature")
	ErrShort     = errors.New("ntlm: message shorter than its fixed part")
	ErrType      = errors.New("ntlm: unknown message type")
)

// Message is what one NTLMSSP message shows. Which fields are set depends
// on Type: Domain and Workstation in NEGOTIATE (when the client supplies
// them) and AUTHENTICATE; User and Version in AUTHENTICATE; the Target*
// names in CHALLENGE.
type Message struct {
	Type  int
	Flags uint32

	User, Domain, Workstation string

	// TargetName is the CHALLENGE's target name; the others come from its
	// target information (AV pairs).
	TargetName                      string
	NbComputer, NbDomain            string
	DNSComputer, DNSDomain, DNSTree string

	// OSVersion is the sender's Windows version ("10.0.19041") when the
	// message carries one.
	OSVersion string

	// Version is the response scheme of an AUTHENTICATE, inferred from the
	// length of the NT response as Wireshark and Zeek do: "v1" (24 bytes:
	// NTLMv1, with or without extended session security), "v2" (longer),
	// "anonymous" (empty NT and LM responses, or the anonymous flag), "lm"
	// (LM response only).
	Version string

	// Notes says what was odd: a field pointing outside the message, a
	// name cut at maxField bytes.
	Notes []string
}

// Parse reads one NTLMSSP message starting at b[0]. Bytes after the
// message (a carrier's trailer) are ignored: every field is addressed by
// offset from the signature. A field pointing outside b is left empty and
// noted, so a truncated message still gives what it has.
func Parse(b []byte) (Message, error) {
	var m Message
	if len(b) < 12 || string(b[:8]) != Signature {
		return m, ErrSignature
	}
	m.Type = int(binary.LittleEndian.Uint32(b[8:]))
	switch m.Type {
	case Negotiate:
		if len(b) < 16 {
			return m, ErrShort
		}
		m.Flags = binary.LittleEndian.Uint32(b[12:])
		// Names supplied by the client are OEM strings (MS-NLMP 2.2.1.1).
		if len(b) >= 32 {
			m.Domain = m.str(b, 16, false)
			m.Workstation = m.str(b, 24, false)
		}
		m.osVersion(b, 32)
	case Challenge:
		if len(b) < 32 {
			return m, ErrShort
		}
		m.Flags = binary.LittleEndian.Uint32(b[20:])
		uni := m.Flags&FlagOEM == 0 || m.Flags&FlagUnicode != 0
		m.TargetName = m.str(b, 12, uni)
		if len(b) >= 48 {
			if info, ok := m.field(b, 40); ok {
				m.avPairs(info)
			}
		}
		m.osVersion(b, 48)
	case Authenticate:
		if len(b) < 52 {
			return m, ErrShort
		}
		uni := true // an old message without flags: Unicode, as Windows sends
		if len(b) >= 64 {
			m.Flags = binary.LittleEndian.Uint32(b[60:])
			uni = m.Flags&FlagOEM == 0 || m.Flags&FlagUnicode != 0
		}
		lm := int(binary.LittleEndian.Uint16(b[12:]))
		nt := int(binary.LittleEndian.Uint16(b[20:]))
		m.Domain = m.str(b, 28, uni)
		m.User = m.str(b, 36, uni)
		m.Workstation = m.str(b, 44, uni)
		switch {
		case m.Flags&FlagAnonymous != 0 || (nt == 0 && lm <= 1):
			m.Version = "anonymous"
		case nt == 0:
			m.Version = "lm"
		case nt == 24:
			m.Version = "v1"
		default:
			m.Version = "v2"
		}
		m.osVersion(b, 64)
	default:
		return m, ErrType
	}
	return m, nil
}

// field returns the bytes a (len u16, maxlen u16, offset u32) descriptor at
// b[at:] points to.
func (m *Message) field(b []byte, at int) ([]byte, bool) {
	n := int(binary.LittleEndian.Uint16(b[at:]))
	off := int64(binary.LittleEndian.Uint32(b[at+4:]))
	if n == 0 {
		return nil, true
	}
	if off < 8 || off+int64(n) > int64(len(b)) {
		m.Notes = append(m.Notes, "ntlm.field_out_of_bounds")
		return nil, false
	}
	return b[off : off+int64(n)], true
}

func (m *Message) str(b []byte, at int, unicode bool) string {
	f, _ := m.field(b, at)
	return m.decode(f, unicode)
}

func (m *Message) decode(f []byte, unicode bool) string {
	if len(f) > maxField {
		f = f[:maxField]
		m.Notes = append(m.Notes, "ntlm.name_truncated")
	}
	if !unicode {
		return string(f)
	}
	return UTF16(f)
}

// UTF16 decodes little-endian UTF-16 (an odd last byte is dropped, unpaired
// surrogates become U+FFFD).
func UTF16(f []byte) string {
	ascii := true
	for i := 0; i+1 < len(f); i += 2 {
		if f[i] >= utf8.RuneSelf || f[i+1] != 0 {
			ascii = false
			break
		}
	}
	if ascii {
		out := make([]byte, len(f)/2)
		for i := range out {
			out[i] = f[2*i]
		}
		return string(out)
	}
	u := make([]uint16, len(f)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(f[2*i:])
	}
	return string(utf16.Decode(u))
}

// avPairs reads the CHALLENGE's target information (MS-NLMP 2.2.2.1).
func (m *Message) avPairs(b []byte) {
	for len(b) >= 4 {
		id, n := binary.LittleEndian.Uint16(b), int(binary.LittleEndian.Uint16(b[2:]))
		if id == 0 { // MsvAvEOL
			return
		}
		if 4+n > len(b) {
			m.Notes = append(m.Notes, "ntlm.av_pair_truncated")
			return
		}
		v := b[4 : 4+n]
		switch id {
		case 1:
			m.NbComputer = m.decode(v, true)
		case 2:
			m.NbDomain = m.decode(v, true)
		case 3:
			m.DNSComputer = m.decode(v, true)
		case 4:
			m.DNSDomain = m.decode(v, true)
		case 5:
			m.DNSTree = m.decode(v, true)
		}
		b = b[4+n:]
	}
}

// osVersion reads the VERSION structure at b[at:] when the flags say it is
// there and the payload does not start before it.
func (m *Message) osVersion(b []byte, at int) {
	if m.Flags&FlagVersion == 0 || len(b) < at+8 {
		return
	}
	v := b[at : at+8]
	if v[0] == 0 && v[1] == 0 {
		return
	}
	m.OSVersion = strconv.Itoa(int(v[0])) + "." + strconv.Itoa(int(v[1])) + "." + strconv.Itoa(int(binary.LittleEndian.Uint16(v[2:])))
}

// flagNames name the flags an analyst asks about, in bit order.
var flagNames = [32]string{
	0: "unicode", 1: "oem", 2: "request_target", 4: "sign", 5: "seal", 6: "datagram",
	7: "lm_key", 9: "ntlm", 11: "anonymous", 12: "oem_domain_supplied",
	13: "oem_workstation_supplied", 15: "always_sign", 16: "target_type_domain",
	17: "target_type_server", 19: "extended_session_security", 20: "identify",
	22: "request_non_nt_session_key", 23: "target_info", 25: "version", 29: "128",
	30: "key_exchange", 31: "56",
}

// FlagNames lists the names of the set flags (unnamed reserved bits as
// "bitN"), appended to dst.
func FlagNames(dst []string, flags uint32) []string {
	for i := 0; i < 32; i++ {
		if flags&(1<<i) == 0 {
			continue
		}
		if n := flagNames[i]; n != "" {
			dst = append(dst, n)
		} else {
			dst = append(dst, "bit"+strconv.Itoa(i))
		}
	}
	return dst
}
