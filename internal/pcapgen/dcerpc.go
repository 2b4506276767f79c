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

// EPMapper is the endpoint mapper interface.
const EPMapper = "e1af8308-5d1f-11c9-91a4-08002b14a0fa"

// DCERPCMapAnswer is the stub of an ept_map answer with one tower: iface
// over TCP at ip:port (floors: interface, NDR, RPC connection-oriented,
// TCP port, IP address).
func DCERPCMapAnswer(iface string, ap netip.AddrPort) []byte {
	var tw []byte
	tw = le.AppendUint16(tw, 5)
	floor := func(lhs, rhs []byte) {
		tw = le.AppendUint16(tw, uint16(len(lhs)))
		tw = append(tw, lhs...)
		tw = le.AppendUint16(tw, uint16(len(rhs)))
		tw = append(tw, rhs...)
	}
	floor(append(append([]byte{0x0d}, UUIDBytes(iface)...), 4, 0), []byte{0, 0})
	floor(append(append([]byte{0x0d}, UUIDBytes(NDRSyntax)...), 2, 0), []byte{0, 0})
	floor([]byte{0x0b}, []byte{0, 0})
	floor([]byte{0x07}, binary.BigEndian.AppendUint16(nil, ap.Port()))
	ip4 := ap.Addr().As4()
	floor([]byte{0x09}, ip4[:])
	s := make([]byte, 20)         // context handle
	s = le.AppendUint32(s, 1)     // num_towers
	s = le.AppendUint32(s, 4)     // max_count
	s = le.AppendUint32(s, 0)     // offset
	s = le.AppendUint32(s, 1)     // actual_count
	s = le.AppendUint32(s, 0x300) // referent
	s = le.AppendUint32(s, uint32(len(tw)))
	s = le.AppendUint32(s, uint32(len(tw)))
	s = append(s, tw...)
	for len(s)%4 != 0 {
		s = append(s, 0)
	}
	return le.AppendUint32(s, 0) // status
}

// EndpointMapperSession asks the endpoint mapper at server (port 135)
// where iface is and is told ep.
func EndpointMapperSession(client, server netip.AddrPort, t time.Time, iface string, ep netip.AddrPort) []Packet {
	return NewTCPConn(client, server, t).Handshake().
		Data(true, DCERPCPDU(11, 3, 1, DCERPCBindBody(EPMapper), nil), 1460).
		Data(false, DCERPCPDU(12, 3, 1, DCERPCAckBody(0), nil), 1460).
		Data(true, DCERPCPDU(0, 3, 2, DCERPCRequestBody(0, 3, 120), nil), 1460).
		Data(false, DCERPCPDU(2, 3, 2, DCERPCResponseBody(0, DCERPCMapAnswer(iface, ep)), nil), 1460).
		Close().Packets
}

// DCERPCMidStream is a DCE/RPC connection picked up after its bind, in
// the middle of a call: the last fragment of request 7, its response,
// then request 8 (opnum 3) and its response. No SYN is seen.
func DCERPCMidStream(client, server netip.AddrPort, t time.Time) []Packet {
	return NewTCPConn(client, server, t).
		Data(true, DCERPCPDU(0, 2, 7, DCERPCRequestBody(0, 3, 80), nil), 1460).
		Data(false, DCERPCPDU(2, 3, 7, DCERPCResponseBody(0, make([]byte, 64)), nil), 1460).
		Data(true, DCERPCPDU(0, 3, 8, DCERPCRequestBody(0, 3, 80), nil), 1460).
		Data(false, DCERPCPDU(2, 3, 8, DCERPCResponseBody(0, make([]byte, 64)), nil), 1460).
		Close().Packets
}
