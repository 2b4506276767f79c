// Package ntp parses NTP messages (RFC 5905; control messages, mode 6,
// RFC 1305 appendix B; ntpd's private mode 7): version, mode, stratum,
// poll, reference id, and for modes 6 and 7 the opcode or request code,
// which is what amplification (monlist) and reconnaissance (readvar)
// use. Parse fills a caller-owned Message and allocates nothing.
package ntp

import (
	"encoding/binary"
	"errors"
)

// Modes.
const (
	ModeSymActive  = 1
	ModeSymPassive = 2
	ModeClient     = 3
	ModeServer     = 4
	ModeBroadcast  = 5
	ModeControl    = 6
	ModePrivate    = 7
)

// Private (mode 7) request codes that dump state: ntpd's MON_GETLIST and
// MON_GETLIST_1 (monlist), the classic amplification vector.
const (
	ReqMonGetList  = 20
	ReqMonGetList1 = 42
)

// Message is one NTP message.
type Message struct {
	Version, Mode uint8
	Leap          uint8
	// Modes 1-5.
	Stratum   uint8
	Poll      int8
	Precision int8
	RefID     [4]byte
	// Mode 6: opcode, response bit, sequence, association, data count.
	// Mode 7: request code, implementation, response bit, data item count.
	Opcode         uint8
	Response       bool
	Implementation uint8
	Sequence       uint16
	Count          int
	// Bytes after the 48-byte header of modes 1-5: extension fields and a MAC.
	Trailer int
}

// Errors.
var (
	ErrShort = errors.New("ntp: message shorter than its header")
	ErrMode  = errors.New("ntp: mode 0 or version outside 1-4")
)

// Parse reads b, one UDP payload, into m (reset first).
func Parse(b []byte, m *Message) error {
	*m = Message{}
	if len(b) < 1 {
		return ErrShort
	}
	m.Leap, m.Version, m.Mode = b[0]>>6, (b[0]>>3)&7, b[0]&7
	if m.Mode == 0 || m.Version < 1 || m.Version > 4 {
		return ErrMode
	}
	switch m.Mode {
	case ModeControl:
		if len(b) < 12 {
			return ErrShort
		}
		m.Response, m.Opcode = b[1]&0x80 != 0, b[1]&0x1f
		m.Sequence = binary.BigEndian.Uint16(b[2:])
		m.Count = int(binary.BigEndian.Uint16(b[10:]))
	case ModePrivate:
		if len(b) < 8 {
			return ErrShort
		}
		m.Response, m.Sequence = b[0]&0x80 != 0, uint16(b[1]&0x7f)
		// In mode 7 the first byte is R, M, version and mode: R is its top bit.
		m.Leap = 0
		m.Implementation, m.Opcode = b[2], b[3]
		m.Count = int(binary.BigEndian.Uint16(b[4:]) & 0x0fff)
	default:
		if len(b) < 48 {
			return ErrShort
		}
		m.Stratum, m.Poll, m.Precision = b[1], int8(b[2]), int8(b[3])
		copy(m.RefID[:], b[12:16])
		m.Trailer = len(b) - 48
	}
	return nil
}

// Sniff tells whether a UDP payload is an NTP message, on any port: the
// whole datagram must fit one. Modes 1-5: 48 bytes, or 48 plus extension
// fields and a MAC (a multiple of 4), version 1-4, stratum at most 16, a
// poll exponent and precision an NTP host would send. Mode 6: a 12-byte
// header whose count fits the datagram. Mode 7: version 2-4 and a known
// implementation number (0 universal, 2 xntpd old, 3 xntpd).
func Sniff(b []byte) bool {
	var m Message
	if Parse(b, &m) != nil {
		return false
	}
	switch m.Mode {
	case ModeControl:
		return m.Opcode >= 1 && m.Opcode <= 31 && 12+m.Count <= len(b) && len(b) <= 12+m.Count+3+96
	case ModePrivate:
		return m.Version >= 2 && (m.Implementation == 0 || m.Implementation == 2 || m.Implementation == 3)
	}
	return m.Trailer%4 == 0 && m.Trailer <= 1024 && m.Stratum <= 16 && m.Poll >= 0 && m.Poll <= 17 && m.Precision <= 0 && m.Precision >= -32
}

// ModeName names a mode.
func ModeName(mode uint8) string {
	names := [...]string{"reserved", "symmetric_active", "symmetric_passive", "client", "server", "broadcast", "control", "private"}
	return names[mode&7]
}

// OpcodeName names a mode 6 opcode or a mode 7 request code the sensor
// knows; "" otherwise.
func OpcodeName(mode, op uint8) string {
	switch mode {
	case ModeControl:
		return controlOps[op]
	case ModePrivate:
		return privateReqs[op]
	}
	return ""
}

var (
	controlOps = map[uint8]string{1: "readstat", 2: "readvar", 3: "writevar", 4: "readclock", 5: "writeclock", 6: "setrap",
		7: "asyncmsg", 8: "configure", 9: "saveconfig", 10: "readmru", 11: "readordlist", 12: "reqnonce", 31: "unsetrap"}
	privateReqs = map[uint8]string{0: "peer_list", 1: "peer_list_sum", 2: "peer_info", 3: "peer_stats", 4: "sys_info", 5: "sys_stats",
		6: "io_stats", 7: "mem_stats", 8: "loop_info", 9: "timer_stats", ReqMonGetList: "mon_getlist", ReqMonGetList1: "mon_getlist_1"}
)
