// Package snmp parses SNMP messages (v1 RFC 1157, v2c RFC 1901, v3 RFC
// 3412/3414) from their BER encoding: version, community (v1/v2c), user
// name (v3 USM), PDU type, request id, error status and the OIDs of the
// variable bindings (at most MaxOIDs kept; the rest counted). Values are
// not read. Parse fills a caller-owned Message whose byte fields point
// into the datagram: it allocates nothing.
package snmp

import (
	"errors"
	"strconv"
)

// MaxOIDs bounds the OIDs kept of one message.
const MaxOIDs = 16

// Message is one SNMP message.
type Message struct {
	Version     int // 0 v1, 1 v2c, 3 v3
	Community   []byte
	UserName    []byte // v3 USM
	Encrypted   bool   // v3 with privacy: the PDU is not readable
	PDU         int    // context tag number: 0 get ... 8 report; -1 unknown
	RequestID   int64
	ErrorStatus int
	OIDs        [MaxOIDs][]byte // BER contents of the names
	NumOIDs     int
	MoreOIDs    int // bindings past MaxOIDs
}

// Errors.
var (
	ErrBER     = errors.New("snmp: bad BER encoding")
	ErrVersion = errors.New("snmp: unknown version")
)

// tlv reads one BER element: tag, contents and the rest.
func tlv(b []byte) (tag byte, val, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, ErrBER
	}
	tag, n, b := b[0], int(b[1]), b[2:]
	if tag&0x1f == 0x1f { // multi-byte tags are not SNMP's
		return 0, nil, nil, ErrBER
	}
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 3 || len(b) < k {
			return 0, nil, nil, ErrBER
		}
		n = 0
		for _, c := range b[:k] {
			n = n<<8 | int(c)
		}
		b = b[k:]
	}
	if n > len(b) {
		return 0, nil, nil, ErrBER
	}
	return tag, b[:n], b[n:], nil
}

func integer(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 8 {
		return 0, false
	}
	n := int64(int8(v[0]))
	for _, c := range v[1:] {
		n = n<<8 | int64(c)
	}
	return n, true
}

// expect reads an element of tag t.
func expect(b []byte, t byte) (val, rest []byte, err error) {
	tag, val, rest, err := tlv(b)
	if err == nil && tag != t {
		err = ErrBER
	}
	return val, rest, err
}

// Parse reads one datagram into m (reset first).
func Parse(b []byte, m *Message) error {
	*m = Message{PDU: -1}
	msg, rest, err := expect(b, 0x30)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return ErrBER // a datagram holds one message
	}
	v, msg, err := expect(msg, 0x02)
	if err != nil {
		return err
	}
	ver, ok := integer(v)
	if !ok || (ver != 0 && ver != 1 && ver != 3) {
		return ErrVersion
	}
	m.Version = int(ver)
	if ver == 3 {
		return m.v3(msg)
	}
	if m.Community, msg, err = expect(msg, 0x04); err != nil {
		return err
	}
	return m.pdu(msg)
}

// v3 reads msgGlobalData, the USM security parameters and the scoped PDU.
func (m *Message) v3(b []byte) error {
	global, b, err := expect(b, 0x30)
	if err != nil {
		return err
	}
	var flags []byte
	for range 3 { // msgID, msgMaxSize, msgFlags
		if _, flags, global, err = tlv(global); err != nil {
			return err
		}
	}
	sec, b, err := expect(b, 0x04)
	if err != nil {
		return err
	}
	if usm, _, err := expect(sec, 0x30); err == nil {
		// engineID, boots, time, userName
		for i := 0; i < 4 && err == nil; i++ {
			var val []byte
			_, val, usm, err = tlv(usm)
			if i == 3 && err == nil {
				m.UserName = val
			}
		}
	}
	if len(flags) == 1 && flags[0]&2 != 0 {
		m.Encrypted = true
		return nil
	}
	scoped, _, err := expect(b, 0x30)
	if err != nil {
		return err
	}
	for range 2 { // contextEngineID, contextName
		if _, _, scoped, err = tlv(scoped); err != nil {
			return err
		}
	}
	return m.pdu(scoped)
}

// pdu reads a PDU: its type, request id, error status and binding names.
func (m *Message) pdu(b []byte) error {
	tag, p, _, err := tlv(b)
	if err != nil {
		return err
	}
	if tag&0xe0 != 0xa0 || tag&0x1f > 8 {
		return ErrBER
	}
	m.PDU = int(tag & 0x1f)
	if m.PDU == 4 { // v1 trap: enterprise, agent address, generic, specific, time stamp
		for range 5 {
			if _, _, p, err = tlv(p); err != nil {
				return err
			}
		}
	} else {
		var v []byte
		if v, p, err = expect(p, 0x02); err != nil {
			return err
		}
		m.RequestID, _ = integer(v)
		if v, p, err = expect(p, 0x02); err != nil {
			return err
		}
		es, _ := integer(v)
		m.ErrorStatus = int(es)
		if _, p, err = expect(p, 0x02); err != nil {
			return err
		}
	}
	binds, _, err := expect(p, 0x30)
	if err != nil {
		return err
	}
	for len(binds) > 0 {
		var vb, name []byte
		if vb, binds, err = expect(binds, 0x30); err != nil {
			return err
		}
		if name, _, err = expect(vb, 0x06); err != nil {
			return err
		}
		if m.NumOIDs < MaxOIDs {
			m.OIDs[m.NumOIDs] = name
			m.NumOIDs++
		} else {
			m.MoreOIDs++
		}
	}
	return nil
}

// Sniff tells whether a UDP payload is one whole SNMP message.
func Sniff(b []byte) bool {
	var m Message
	return Parse(b, &m) == nil
}

// AppendOID appends the dotted form of a BER-encoded OID.
func AppendOID(dst, oid []byte) []byte {
	var v uint64
	first := true
	for i, c := range oid {
		v = v<<7 | uint64(c&0x7f)
		if c&0x80 != 0 && i+1 < len(oid) {
			continue
		}
		if first {
			a := min(v/40, 2)
			dst = strconv.AppendUint(dst, a, 10)
			dst = append(dst, '.')
			dst = strconv.AppendUint(dst, v-40*a, 10)
			first = false
		} else {
			dst = append(dst, '.')
			dst = strconv.AppendUint(dst, v, 10)
		}
		v = 0
	}
	return dst
}

var pduNames = [...]string{"get_request", "get_next_request", "response", "set_request", "trap", "get_bulk_request",
	"inform_request", "snmpv2_trap", "report"}

// PDUName names a PDU type.
func PDUName(t int) string {
	if t >= 0 && t < len(pduNames) {
		return pduNames[t]
	}
	return ""
}

// defaults are community strings devices ship with or scanners try first.
var defaults = map[string]bool{"public": true, "private": true, "community": true, "manager": true, "admin": true,
	"cisco": true, "snmp": true, "snmpd": true, "default": true, "monitor": true, "secret": true, "read": true,
	"write": true, "all private": true, "ILMI": true, "system": true, "test": true, "tivoli": true, "openview": true}

// DefaultCommunity says whether c is a well-known default community.
func DefaultCommunity(c []byte) bool { return defaults[string(c)] }
