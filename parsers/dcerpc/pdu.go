// Package dcerpc reads connection-oriented DCE/RPC (MS-RPCE, C706 ch. 12)
// as it crosses TCP (port 135 and the dynamic ports the endpoint mapper
// hands out) and SMB named pipes: binds and alter-contexts with the
// interfaces they name and the answers, requests with their operation
// numbers matched to their responses or faults, and the endpoints the
// endpoint mapper announces. Stub data is not decoded, except an endpoint
// mapper's ept_map answer; fragments of one call are counted into one
// call, and only the endpoint mapper's are held, bounded by maxStub.
package dcerpc

import (
	"encoding/binary"
	"fmt"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// PDU types (C706 §12.6.4).
const (
	ptRequest     = 0
	ptResponse    = 2
	ptFault       = 3
	ptBind        = 11
	ptBindAck     = 12
	ptBindNak     = 13
	ptAlter       = 14
	ptAlterResp   = 15
	ptAuth3       = 16
	ptShutdown    = 17
	ptCoCancel    = 18
	ptOrphaned    = 19
	ptLast        = 19
	headerLen     = 16
	reqHeaderLen  = 24 // header, alloc_hint, p_cont_id, opnum (or cancel_count) — also the response's
	authTrailer   = 8  // auth_type, auth_level, pad, reserved, context id
	flagFirstFrag = 0x01
	flagLastFrag  = 0x02
	flagObject    = 0x80
)

// header is the common header of a connection-oriented PDU.
type header struct {
	ptype   uint8
	flags   uint8
	order   binary.ByteOrder
	fragLen int
	authLen int
	callID  uint32
}

// parseHeader checks the 16 bytes of b as a PDU header: version 5.0 or
// 5.1, a known PDU type, a data representation of ASCII characters and
// IEEE/VAX/Cray/IBM floats with its two reserved bytes zero, and lengths
// that fit (the fragment holds the header, the authentication trailer and
// its value).
func parseHeader(b []byte) (header, error) {
	var h header
	if len(b) < headerLen {
		return h, fmt.Errorf("dcerpc: %d-byte header", len(b))
	}
	if b[0] != 5 || b[1] > 1 {
		return h, fmt.Errorf("dcerpc: version %d.%d", b[0], b[1])
	}
	if b[2] > ptLast {
		return h, fmt.Errorf("dcerpc: PDU type %d", b[2])
	}
	if b[4]&^0x11 != 0 || b[5] > 3 || b[6] != 0 || b[7] != 0 {
		return h, fmt.Errorf("dcerpc: data representation % x", b[4:8])
	}
	h.ptype, h.flags = b[2], b[3]
	h.order = binary.ByteOrder(binary.BigEndian)
	if b[4]&0x10 != 0 {
		h.order = binary.LittleEndian
	}
	h.fragLen = int(h.order.Uint16(b[8:]))
	h.authLen = int(h.order.Uint16(b[10:]))
	h.callID = h.order.Uint32(b[12:])
	min := headerLen
	if h.authLen > 0 {
		min += authTrailer + h.authLen
	}
	if h.fragLen < min {
		return h, fmt.Errorf("dcerpc: fragment length %d below %d (auth length %d)", h.fragLen, min, h.authLen)
	}
	return h, nil
}

// Sniff tells whether b, the first bytes a side sent, start a DCE/RPC
// connection: a bind, an alter_context or the first fragment of a request
// with a header parseHeader accepts. It answers More below 16 bytes while
// those seen could still start one.
func Sniff(b []byte) parsers.Verdict {
	switch {
	case len(b) > 0 && b[0] != 5, len(b) > 1 && b[1] > 1:
		return parsers.No
	case len(b) > 2 && b[2] != ptBind && b[2] != ptAlter && b[2] != ptRequest:
		return parsers.No
	}
	if len(b) < headerLen {
		return parsers.More
	}
	h, err := parseHeader(b)
	if err != nil {
		return parsers.No
	}
	switch {
	case h.ptype == ptRequest && (h.flags&flagFirstFrag == 0 || h.fragLen < reqHeaderLen):
		return parsers.No
	case h.ptype != ptRequest && h.fragLen < headerLen+12: // max_xmit, max_recv, assoc_group, n_context_elem...
		return parsers.No
	}
	return parsers.Yes
}

// uuid formats the 16 bytes of a UUID on the wire in the byte order of
// the PDU (its first three fields are integers).
func uuid(b []byte, o binary.ByteOrder) string {
	var buf [36]byte
	const hex = "0123456789abcdef"
	put := func(at int, v uint64, n int) {
		for i := n - 1; i >= 0; i-- {
			buf[at+i] = hex[v&0xf]
			v >>= 4
		}
	}
	put(0, uint64(o.Uint32(b)), 8)
	buf[8] = '-'
	put(9, uint64(o.Uint16(b[4:])), 4)
	buf[13] = '-'
	put(14, uint64(o.Uint16(b[6:])), 4)
	buf[18] = '-'
	put(19, uint64(binary.BigEndian.Uint16(b[8:])), 4)
	buf[23] = '-'
	put(24, binary.BigEndian.Uint64(b[8:])&0xffffffffffff, 12)
	return string(buf[:])
}
