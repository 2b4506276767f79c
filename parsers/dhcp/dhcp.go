// Package dhcp parses DHCPv4 messages (RFC 2131, options RFC 2132): the
// fixed BOOTP header and the options the sensor reports, with option
// overload (option 52: options continued in the file and sname fields).
//
// Parse fills a caller-owned Message whose byte fields are sub-slices of
// the datagram: parsing allocates nothing.
package dhcp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// Layout of the fixed header (RFC 2131 §2).
const (
	offSName   = 44
	offFile    = 108
	offCookie  = 236
	headerSize = 240 // through the magic cookie
	cookie     = 0x63825363
)

// Option codes read (RFC 2132).
const (
	OptPad         = 0
	OptSubnetMask  = 1
	OptRouter      = 3
	OptDNS         = 6
	OptHostname    = 12
	OptDomain      = 15
	OptRequestedIP = 50
	OptLeaseTime   = 51
	OptOverload    = 52
	OptMessageType = 53
	OptServerID    = 54
	OptParamList   = 55
	OptVendorClass = 60
	OptClientID    = 61
	OptEnd         = 255
)

// Message types (option 53).
var typeNames = [...]string{"", "discover", "offer", "request", "decline", "ack", "nak", "release", "inform",
	"forcerenew", "leasequery", "leaseunassigned", "leaseunknown", "leaseactive", "bulkleasequery", "leasequerydone",
	"activeleasequery", "leasequerystatus", "tls"}

// TypeName names a message type ("ack"), or gives its number.
func TypeName(t uint8) string {
	if int(t) < len(typeNames) && t != 0 {
		return typeNames[t]
	}
	return fmt.Sprint(t)
}

// Message is what one DHCP message carries. Byte slices point into the
// datagram given to Parse.
type Message struct {
	Op                             uint8 // 1 request (client), 2 reply (server)
	XID                            uint32
	Secs, Flags                    uint16
	CIAddr, YIAddr, SIAddr, GIAddr [4]byte
	CHAddr                         []byte // the client hardware address, hlen bytes (at most 16)
	HType                          uint8

	Type        uint8 // option 53; 0 when absent (BOOTP)
	RequestedIP [4]byte
	ServerID    [4]byte
	SubnetMask  [4]byte
	Router      [4]byte // the first router
	LeaseTime   uint32
	Has         uint64 // bit per option read among those above: Has&(1<<bit(opt))
	Hostname    []byte
	Domain      []byte
	VendorClass []byte
	ClientID    []byte
	ParamList   []byte // option 55: option codes in the client's order
	Overload    uint8  // option 52: 1 file, 2 sname, 3 both carry options
	Repeated    bool   // an option came more than once (RFC 3396 concatenation is not done: the first is kept)
}

// bits of Message.Has.
const (
	HasRequestedIP = 1 << iota
	HasServerID
	HasSubnetMask
	HasRouter
	HasLeaseTime
	HasHostname
	HasDomain
	HasVendorClass
	HasClientID
	HasParamList
)

// Errors. A message with a malformed option list keeps what was read
// before the fault.
var (
	ErrShort     = errors.New("dhcp: shorter than the 240-byte header")
	ErrNoCookie  = errors.New("dhcp: no magic cookie")
	ErrTruncated = errors.New("dhcp: option runs past the end of its field")
)

// Sniff tells whether a UDP datagram is a DHCPv4 message: an op of 1 or 2,
// a hardware address length of at most 16, and the magic cookie at offset
// 236. A datagram is whole, so the answer is never More once it is long
// enough; a shorter one is No.
func Sniff(b []byte) parsers.Verdict {
	if len(b) < headerSize || (b[0] != 1 && b[0] != 2) || b[2] > 16 {
		return parsers.No
	}
	if binary.BigEndian.Uint32(b[offCookie:]) != cookie {
		return parsers.No
	}
	return parsers.Yes
}

// Parse reads b into m (reset first).
func Parse(b []byte, m *Message) error {
	*m = Message{}
	if len(b) < headerSize {
		return ErrShort
	}
	if binary.BigEndian.Uint32(b[offCookie:]) != cookie {
		return ErrNoCookie
	}
	m.Op, m.HType = b[0], b[1]
	hlen := min(int(b[2]), 16)
	m.XID = binary.BigEndian.Uint32(b[4:])
	m.Secs = binary.BigEndian.Uint16(b[8:])
	m.Flags = binary.BigEndian.Uint16(b[10:])
	copy(m.CIAddr[:], b[12:16])
	copy(m.YIAddr[:], b[16:20])
	copy(m.SIAddr[:], b[20:24])
	copy(m.GIAddr[:], b[24:28])
	m.CHAddr = b[28 : 28+hlen]
	if err := m.options(b[headerSize:]); err != nil {
		return err
	}
	// RFC 2131 §4.1: the file field is read first, then sname.
	if m.Overload&1 != 0 {
		if err := m.options(b[offFile:offCookie]); err != nil {
			return fmt.Errorf("%w (file field)", err)
		}
	}
	if m.Overload&2 != 0 {
		if err := m.options(b[offSName:offFile]); err != nil {
			return fmt.Errorf("%w (sname field)", err)
		}
	}
	return nil
}

// options reads one option area, up to End or its end.
func (m *Message) options(b []byte) error {
	for len(b) > 0 {
		code := b[0]
		if code == OptPad {
			b = b[1:]
			continue
		}
		if code == OptEnd {
			return nil
		}
		if len(b) < 2 || len(b) < 2+int(b[1]) {
			return ErrTruncated
		}
		v := b[2 : 2+int(b[1])]
		b = b[2+len(v):]
		m.option(code, v)
	}
	return nil
}

func (m *Message) option(code uint8, v []byte) {
	switch code {
	case OptMessageType:
		if len(v) == 1 {
			if m.Type != 0 {
				m.Repeated = true
				return
			}
			m.Type = v[0]
		}
	case OptOverload:
		if len(v) == 1 && m.Overload == 0 {
			m.Overload = v[0] & 3 // read only in the main options field
		}
	case OptRequestedIP:
		m.addr(&m.RequestedIP, HasRequestedIP, v)
	case OptServerID:
		m.addr(&m.ServerID, HasServerID, v)
	case OptSubnetMask:
		m.addr(&m.SubnetMask, HasSubnetMask, v)
	case OptRouter:
		if len(v) >= 4 {
			m.addr(&m.Router, HasRouter, v[:4])
		}
	case OptLeaseTime:
		if len(v) == 4 && m.first(HasLeaseTime) {
			m.LeaseTime = binary.BigEndian.Uint32(v)
		}
	case OptHostname:
		m.bytes(&m.Hostname, HasHostname, v)
	case OptDomain:
		m.bytes(&m.Domain, HasDomain, v)
	case OptVendorClass:
		m.bytes(&m.VendorClass, HasVendorClass, v)
	case OptClientID:
		m.bytes(&m.ClientID, HasClientID, v)
	case OptParamList:
		m.bytes(&m.ParamList, HasParamList, v)
	}
}

// first marks bit read and says whether it is the option's first time.
func (m *Message) first(bit uint64) bool {
	if m.Has&bit != 0 {
		m.Repeated = true
		return false
	}
	m.Has |= bit
	return true
}

func (m *Message) addr(dst *[4]byte, bit uint64, v []byte) {
	if len(v) == 4 && m.first(bit) {
		copy(dst[:], v)
	}
}

func (m *Message) bytes(dst *[]byte, bit uint64, v []byte) {
	if m.first(bit) {
		*dst = v
	}
}

// AppendFingerprint appends the DHCP fingerprint of m to dst: its
// parameter request list as decimal codes joined by commas, in the
// client's order ("1,3,6,15,119,252"), the form Fingerbank and Satori
// match operating systems on.
func (m *Message) AppendFingerprint(dst []byte) []byte {
	for i, c := range m.ParamList {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendUint(dst, uint64(c), 10)
	}
	return dst
}

// AppendMAC appends a hardware address as lower-case colon-separated hex.
func AppendMAC(dst, mac []byte) []byte {
	const hex = "0123456789abcdef"
	for i, c := range mac {
		if i > 0 {
			dst = append(dst, ':')
		}
		dst = append(dst, hex[c>>4], hex[c&15])
	}
	return dst
}
