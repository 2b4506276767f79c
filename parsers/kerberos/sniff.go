package kerberos

import (
	"encoding/binary"
	"errors"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// Sniff tells whether b, the first bytes a client sent on TCP, start a
// Kerberos request: a record marker in bounds, then an AS-REQ or TGS-REQ
// application tag whose length fills the record exactly, a SEQUENCE that
// fills the tag, and pvno [1] = 5 and msg-type [2] equal to the tag. It
// answers More while b is a prefix of such a start.
func Sniff(b []byte) parsers.Verdict {
	if len(b) < 4 {
		if len(b) > 0 && b[0] != 0 {
			return parsers.No // a record over 16 MiB
		}
		return parsers.More
	}
	l := binary.BigEndian.Uint32(b)
	if !recordInBounds(l) { // without recordLen's error: most streams are not Kerberos
		return parsers.No
	}
	return sniffMessage(b[4:], int(l))
}

// SniffDatagram tells whether a UDP datagram is a Kerberos request: it
// must parse whole as an AS-REQ or TGS-REQ. A datagram that does not open
// with a constructed application tag is refused before Parse, whose error
// would be an allocation for most UDP flows' first datagram.
func SniffDatagram(b []byte) bool {
	if len(b) == 0 || b[0]&0xe0 != 0x60 {
		return false
	}
	m, err := Parse(b)
	return err == nil && m.IsRequest()
}

// sniffMessage checks the start of a message of length total.
func sniffMessage(b []byte, total int) parsers.Verdict {
	if len(b) > 0 && b[0] != 0x60|ASReq && b[0] != 0x60|TGSReq {
		return parsers.No
	}
	hl, vl, err := header(b)
	switch {
	case errors.Is(err, errTruncated):
		return parsers.More
	case err != nil || hl+vl != total:
		return parsers.No
	}
	tag := int(b[0] & 0x1f)
	b = b[hl:]
	if len(b) > 0 && b[0] != 0x30 {
		return parsers.No
	}
	shl, svl, err := header(b)
	switch {
	case errors.Is(err, errTruncated):
		return parsers.More
	case err != nil || shl+svl != vl:
		return parsers.No
	}
	b = b[shl:]
	// pvno [1] INTEGER 5, msg-type [2] INTEGER tag: short, fixed encodings.
	want := []byte{0xa1, 3, 2, 1, 5, 0xa2, 3, 2, 1, byte(tag)}
	for i, c := range want {
		if i >= len(b) {
			return parsers.More
		}
		if b[i] != c {
			return parsers.No
		}
	}
	return parsers.Yes
}
