package dhcp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// DHCPv6 (RFC 8415): a 4-byte header (message type, 24-bit transaction
// id) or, for relay messages, a 34-byte one (type, hop count, link and
// peer addresses), then options of a 2-byte code and a 2-byte length.

// DHCPv6 message types.
const (
	V6Solicit = 1 + iota
	V6Advertise
	V6Request
	V6Confirm
	V6Renew
	V6Rebind
	V6Reply
	V6Release
	V6Decline
	V6Reconfigure
	V6InformationRequest
	V6RelayForw
	V6RelayRepl
)

var typeNames6 = [...]string{"", "solicit", "advertise", "request", "confirm", "renew", "rebind", "reply",
	"release", "decline", "reconfigure", "information-request", "relay-forw", "relay-repl"}

// TypeName6 names a DHCPv6 message type ("reply"), or gives its number.
func TypeName6(t uint8) string {
	if int(t) < len(typeNames6) && t != 0 {
		return typeNames6[t]
	}
	return fmt.Sprint(t)
}

// DHCPv6 option codes read.
const (
	Opt6ClientID    = 1
	Opt6ServerID    = 2
	Opt6IANA        = 3
	Opt6IAAddr      = 5
	Opt6ORO         = 6
	Opt6RelayMsg    = 9
	Opt6StatusCode  = 13
	Opt6VendorClass = 16
	Opt6IAPD        = 25
	Opt6IAPrefix    = 26
	Opt6ClientFQDN  = 39
)

// MaxRelayHops bounds the relay messages nested in one another: RFC 8415
// §7.6 HOP_COUNT_LIMIT.
const MaxRelayHops = 32

// MaxIAAddrs is how many IA addresses a Message6 keeps (the rest are
// counted in NAddrs).
const MaxIAAddrs = 4

// DHCPv6 errors. A message with a malformed option keeps what was read
// before it.
var (
	ErrShort6       = errors.New("dhcpv6: shorter than its header")
	ErrType6        = errors.New("dhcpv6: unknown message type")
	ErrOption6      = errors.New("dhcpv6: option runs past the end of its container")
	ErrRelayDepth   = errors.New("dhcpv6: relay messages nested deeper than 32")
	ErrNoRelayedMsg = errors.New("dhcpv6: relay message without a relay-message option")
)

// IAAddr is one IA address (option 5 in an IA_NA) or delegated prefix
// (option 26 in an IA_PD).
type IAAddr struct {
	Addr             [16]byte
	PrefixLen        uint8 // prefixes only
	Preferred, Valid uint32
}

// Message6 is what one DHCPv6 message carries; for a relay message, the
// message it relays (innermost). Byte slices point into the datagram.
type Message6 struct {
	Type  uint8  // the client or server message's type (of the innermost message when relayed)
	XID   uint32 // 24-bit transaction id
	Relay uint8  // the outermost relay message's type (V6RelayForw, V6RelayRepl); 0 when not relayed
	Hops  int    // relay messages around the message
	// LinkAddr and PeerAddr are the innermost relay's: the client's link
	// and the client's address as the first relay saw it.
	LinkAddr, PeerAddr [16]byte

	ClientID, ServerID []byte             // DUIDs (options 1 and 2)
	IAID, T1, T2       uint32             // of the first IA_NA, else the first IA_PD
	IAKind             uint16             // Opt6IANA or Opt6IAPD: whose IAID this is; 0 without IA
	Addrs              [MaxIAAddrs]IAAddr // IA_NA addresses, in order
	NAddrs             int                // IA_NA addresses seen (may exceed MaxIAAddrs)
	Prefix             IAAddr             // the first IA_PD prefix
	NPrefixes          int
	Status             uint16 // the message's status code, else the first IA's
	HasStatus          bool
	FQDNFlags          uint8
	FQDN               []byte // option 39's domain name, DNS wire format (AppendFQDN)
	HasFQDN            bool
	VendorEnterprise   uint32
	VendorClass        []byte // option 16's first vendor-class-data item
	ORO                []byte // option 6: option codes, 2 bytes each
	Repeated           bool   // an option came more than once: the first is kept
}

// Sniff6 tells whether a UDP datagram is a DHCPv6 message: a known
// message type whose options (and those of a relayed message) fill the
// datagram exactly, with a well-formed client or server DUID. A datagram
// is whole, so the answer is Yes or No.
func Sniff6(b []byte) bool {
	var m Message6
	if Parse6(b, &m) != nil {
		return false
	}
	return validDUID(m.ClientID) || validDUID(m.ServerID)
}

// validDUID tells whether d is a DUID of a known type with its fixed
// part (RFC 8415 §11).
func validDUID(d []byte) bool {
	if len(d) < 2 || len(d) > 130 {
		return false
	}
	switch binary.BigEndian.Uint16(d) {
	case 1: // LLT: hardware type, time, link-layer address
		return len(d) > 8
	case 2: // EN: enterprise number, identifier
		return len(d) > 6
	case 3: // LL: hardware type, link-layer address
		return len(d) > 4
	case 4: // UUID
		return len(d) == 18
	}
	return false
}

// Parse6 reads the DHCPv6 message b into m (reset first), unwrapping relay
// messages.
func Parse6(b []byte, m *Message6) error {
	*m = Message6{}
	for {
		if len(b) < 4 {
			return ErrShort6
		}
		t := b[0]
		if t == 0 || int(t) >= len(typeNames6) {
			return ErrType6
		}
		if t != V6RelayForw && t != V6RelayRepl {
			m.Type = t
			m.XID = uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
			return m.options(b[4:], 0)
		}
		if len(b) < 34 {
			return ErrShort6
		}
		if m.Hops++; m.Hops > MaxRelayHops {
			return ErrRelayDepth
		}
		if m.Relay == 0 {
			m.Relay = t
		}
		copy(m.LinkAddr[:], b[2:18])
		copy(m.PeerAddr[:], b[18:34])
		inner, err := relayed(b[34:])
		if err != nil {
			return err
		}
		b = inner
	}
}

// relayed finds the relay-message option among a relay message's options
// (all of which must be well-formed).
func relayed(b []byte) ([]byte, error) {
	var inner []byte
	found := false
	for len(b) > 0 {
		code, v, rest, err := option6(b)
		if err != nil {
			return nil, err
		}
		if code == Opt6RelayMsg && !found {
			inner, found = v, true
		}
		b = rest
	}
	if !found {
		return nil, ErrNoRelayedMsg
	}
	return inner, nil
}

// option6 splits the option at the head of b.
func option6(b []byte) (code uint16, v, rest []byte, err error) {
	if len(b) < 4 {
		return 0, nil, nil, ErrOption6
	}
	n := int(binary.BigEndian.Uint16(b[2:]))
	if len(b) < 4+n {
		return 0, nil, nil, ErrOption6
	}
	return binary.BigEndian.Uint16(b), b[4 : 4+n], b[4+n:], nil
}

// options reads an option list; ia is the container's code (IA_NA,
// IA_PD) or 0 at the message level.
func (m *Message6) options(b []byte, ia uint16) error {
	for len(b) > 0 {
		code, v, rest, err := option6(b)
		if err != nil {
			return err
		}
		b = rest
		if err := m.option(code, v, ia); err != nil {
			return err
		}
	}
	return nil
}

func (m *Message6) option(code uint16, v []byte, ia uint16) error {
	switch {
	case code == Opt6StatusCode:
		if len(v) >= 2 && (ia == 0 || !m.HasStatus) {
			m.Status, m.HasStatus = binary.BigEndian.Uint16(v), true
		}
	case ia == Opt6IANA && code == Opt6IAAddr:
		if len(v) < 24 {
			return ErrOption6
		}
		if m.NAddrs < MaxIAAddrs {
			a := &m.Addrs[m.NAddrs]
			copy(a.Addr[:], v)
			a.Preferred, a.Valid = binary.BigEndian.Uint32(v[16:]), binary.BigEndian.Uint32(v[20:])
		}
		m.NAddrs++
		return m.options(v[24:], code)
	case ia == Opt6IAPD && code == Opt6IAPrefix:
		if len(v) < 25 {
			return ErrOption6
		}
		if m.NPrefixes == 0 {
			m.Prefix.Preferred, m.Prefix.Valid = binary.BigEndian.Uint32(v), binary.BigEndian.Uint32(v[4:])
			m.Prefix.PrefixLen = v[8]
			copy(m.Prefix.Addr[:], v[9:25])
		}
		m.NPrefixes++
		return m.options(v[25:], code)
	case ia != 0:
		// other options inside an IA or address: not read
	case code == Opt6ClientID:
		m.bytes6(&m.ClientID, v)
	case code == Opt6ServerID:
		m.bytes6(&m.ServerID, v)
	case code == Opt6IANA || code == Opt6IAPD:
		if len(v) < 12 {
			return ErrOption6
		}
		if m.IAKind == 0 || (code == Opt6IANA && m.IAKind != Opt6IANA) {
			m.IAID, m.T1, m.T2 = binary.BigEndian.Uint32(v), binary.BigEndian.Uint32(v[4:]), binary.BigEndian.Uint32(v[8:])
			m.IAKind = code
		}
		return m.options(v[12:], code)
	case code == Opt6ORO:
		m.bytes6(&m.ORO, v)
	case code == Opt6ClientFQDN:
		if len(v) < 1 {
			return ErrOption6
		}
		if m.HasFQDN {
			m.Repeated = true
			break
		}
		m.FQDNFlags, m.FQDN, m.HasFQDN = v[0], v[1:], true
	case code == Opt6VendorClass:
		if len(v) < 4 {
			return ErrOption6
		}
		if m.VendorClass != nil {
			m.Repeated = true
			break
		}
		m.VendorEnterprise = binary.BigEndian.Uint32(v)
		if len(v) >= 6 {
			n := int(binary.BigEndian.Uint16(v[4:]))
			if len(v) < 6+n {
				return ErrOption6
			}
			m.VendorClass = v[6 : 6+n]
		}
	}
	return nil
}

func (m *Message6) bytes6(dst *[]byte, v []byte) {
	if *dst != nil {
		m.Repeated = true
		return
	}
	*dst = v
}

// IAAddrs returns the IA_NA addresses kept.
func (m *Message6) IAAddrs() []IAAddr { return m.Addrs[:min(m.NAddrs, MaxIAAddrs)] }

// DUIDMAC returns the link-layer address of a DUID-LLT or DUID-LL whose
// hardware type is Ethernet (1), else nil.
func DUIDMAC(d []byte) []byte {
	if len(d) < 4 || binary.BigEndian.Uint16(d[2:]) != 1 {
		return nil
	}
	switch binary.BigEndian.Uint16(d) {
	case 1:
		if len(d) == 14 {
			return d[8:]
		}
	case 3:
		if len(d) == 10 {
			return d[4:]
		}
	}
	return nil
}

var duidTypes = [...]string{"", "llt", "en", "ll", "uuid"}

// DUIDType names a DUID's type ("llt"), "" when it has none known.
func DUIDType(d []byte) string {
	if len(d) < 2 {
		return ""
	}
	if t := binary.BigEndian.Uint16(d); t < uint16(len(duidTypes)) {
		return duidTypes[t]
	}
	return ""
}

var statusNames = [...]string{"Success", "UnspecFail", "NoAddrsAvail", "NoBinding", "NotOnLink", "UseMulticast", "NoPrefixAvail"}

// StatusName names a DHCPv6 status code (RFC 8415 §21.13), or gives its
// number.
func StatusName(c uint16) string {
	if int(c) < len(statusNames) {
		return statusNames[c]
	}
	return fmt.Sprint(c)
}

// ErrFQDN is a client FQDN option whose labels run past its end.
var ErrFQDN = errors.New("dhcpv6: client FQDN label runs past the option")

// AppendFQDN appends the client FQDN option's domain name to dst as
// dotted text ("host.example.com"; a partial name, without the final
// root label, reads the same). Labels are copied as sent.
func (m *Message6) AppendFQDN(dst []byte) ([]byte, error) {
	b := m.FQDN
	for i := 0; len(b) > 0; i++ {
		n := int(b[0])
		if n == 0 {
			break
		}
		if len(b) < 1+n {
			return dst, ErrFQDN
		}
		if i > 0 {
			dst = append(dst, '.')
		}
		dst = append(dst, b[1:1+n]...)
		b = b[1+n:]
	}
	return dst, nil
}

// AppendFingerprint appends the option request list (option 6) as decimal
// codes joined by commas, in the client's order ("23,24,39"): the DHCPv6
// counterpart of the DHCPv4 fingerprint.
func (m *Message6) AppendFingerprint(dst []byte) []byte {
	for i := 0; i+1 < len(m.ORO); i += 2 {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendUint(dst, uint64(binary.BigEndian.Uint16(m.ORO[i:])), 10)
	}
	return dst
}
