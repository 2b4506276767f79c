package pcapgen

import (
	"encoding/binary"
	"net/netip"
	"time"
)

var le = binary.LittleEndian

// DCERPCPDU is a little-endian connection-oriented DCE/RPC PDU: the 16-byte
// header, body, and an authentication trailer (NTLMSSP, privacy) with
// auth when it is not nil.
func DCERPCPDU(ptype, flags byte, callID uint32, body, auth []byte) []byte {
	b := []byte{5, 0, ptype, flags, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	b = append(b, body...)
	if auth != nil {
		b = append(b, 10, 6, 0, 0, 0, 0, 0, 0)
		b = append(b, auth...)
	}
	le.PutUint16(b[8:], uint16(len(b)))
	le.PutUint16(b[10:], uint16(len(auth)))
	le.PutUint32(b[12:], callID)
	return b
}

// UUIDBytes encodes a textual UUID as on the wire (little-endian fields).
func UUIDBytes(s string) []byte {
	var raw [16]byte
	for i, j := 0, 0; i < len(s) && j < 32; i++ {
		c := s[i]
		if c == '-' {
			continue
		}
		v := c - '0'
		if c >= 'a' {
			v = c - 'a' + 10
		}
		raw[j/2] |= v << (4 * (1 - j%2))
		j++
	}
	out := raw
	out[0], out[1], out[2], out[3] = raw[3], raw[2], raw[1], raw[0]
	out[4], out[5], out[6], out[7] = raw[5], raw[4], raw[7], raw[6]
	return out[:]
}

// NDRSyntax is the NDR transfer syntax.
const NDRSyntax = "8a885d04-1ceb-11c9-9fe8-08002b104860"

// DCERPCBindBody offers one presentation context per interface
// (version 4.0), each with the NDR transfer syntax.
func DCERPCBindBody(ifaces ...string) []byte {
	b := []byte{0xb8, 0x10, 0xb8, 0x10, 0, 0, 0, 0, byte(len(ifaces)), 0, 0, 0}
	for i, u := range ifaces {
		b = append(b, byte(i), 0, 1, 0)
		b = append(b, UUIDBytes(u)...)
		b = append(b, 4, 0, 0, 0)
		b = append(b, UUIDBytes(NDRSyntax)...)
		b = append(b, 2, 0, 0, 0)
	}
	return b
}

// DCERPCAckBody answers a bind with results (0 acceptance), after the
// secondary address "135".
func DCERPCAckBody(results ...uint16) []byte {
	b := []byte{0xb8, 0x10, 0xb8, 0x10, 1, 0, 0, 0, 4, 0, '1', '3', '5', 0, 0, 0}
	b = append(b, byte(len(results)), 0, 0, 0)
	for _, r := range results {
		b = le.AppendUint16(b, r)
		b = append(b, 0, 0)
		b = append(b, UUIDBytes(NDRSyntax)...)
		b = append(b, 2, 0, 0, 0)
	}
	return b
}

// DCERPCRequestBody is a request's alloc hint, context id, opnum and a
// zero stub of n bytes.
func DCERPCRequestBody(ctx, opnum uint16, n int) []byte {
	b := le.AppendUint32(nil, uint32(n))
	b = le.AppendUint16(b, ctx)
	b = le.AppendUint16(b, opnum)
	return append(b, make([]byte, n)...)
}

// DCERPCResponseBody is a response's alloc hint, context id, cancel count
// and stub.
func DCERPCResponseBody(ctx uint16, stub []byte) []byte {
	b := le.AppendUint32(nil, uint32(len(stub)))
	b = le.AppendUint16(b, ctx)
	b = append(b, 0, 0)
	return append(b, stub...)
}

// DRSUAPI is the directory replication interface.
const DRSUAPI = "e3514235-4b06-11d1-ab04-00c04fc2dcd2"

// DCSyncSession is a DCSync over TCP: a bind to DRSUAPI, DRSBind (opnum
// 0), then DRSGetNCChanges (opnum 3) whose request comes in three
// fragments and whose answer in two; segments of at most 200 bytes.
func DCSyncSession(client, server netip.AddrPort, t time.Time) []Packet {
	c := NewTCPConn(client, server, t).Handshake().
		Data(true, DCERPCPDU(11, 3, 1, DCERPCBindBody(DRSUAPI), nil), 200).
		Data(false, DCERPCPDU(12, 3, 1, DCERPCAckBody(0), nil), 200).
		Data(true, DCERPCPDU(0, 3, 2, DCERPCRequestBody(0, 0, 60), nil), 200).
		Data(false, DCERPCPDU(2, 3, 2, DCERPCResponseBody(0, make([]byte, 40)), nil), 200)
	var frags []byte
	for i, fl := range []byte{1, 0, 2} {
		frags = append(frags, DCERPCPDU(0, fl, 3, DCERPCRequestBody(0, 3, 100+i), nil)...)
	}
	c.Data(true, frags, 200)
	c.Data(false, append(DCERPCPDU(2, 1, 3, DCERPCResponseBody(0, make([]byte, 300)), nil),
		DCERPCPDU(2, 2, 3, DCERPCResponseBody(0, make([]byte, 50)), nil)...), 200)
	return c.Close().Packets
}
