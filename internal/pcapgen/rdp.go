package pcapgen

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// RDPRequest is a TPKT frame holding an X.224 Connection Request with the
// routing cookie "Cookie: mstshash=user" (none when user is "") and an
// RDP_NEG_REQ for the requested protocols mask.
func RDPRequest(user string, requested uint32) []byte {
	var v []byte
	if user != "" {
		v = append(v, "Cookie: mstshash="+user+"\r\n"...)
	}
	v = append(v, 1, 0, 8, 0)
	v = binary.LittleEndian.AppendUint32(v, requested)
	return x224(0xe0, v)
}

// RDPConfirm is a TPKT frame holding an X.224 Connection Confirm with an
// RDP_NEG_RSP selecting protocol selected.
func RDPConfirm(selected uint32) []byte {
	v := binary.LittleEndian.AppendUint32([]byte{2, 0, 8, 0}, selected)
	return x224(0xd0, v)
}

func x224(code byte, v []byte) []byte {
	n := 11 + len(v)
	b := []byte{3, 0, byte(n >> 8), byte(n), byte(n - 5), code, 0, 0, 0x12, 0x34, 0}
	return append(b, v...)
}

// RDPOverTLS is an RDP connection that negotiates CredSSP (requested TLS
// and CredSSP) and then starts TLS with a ClientHello for sni, on any port.
func RDPOverTLS(client, server netip.AddrPort, t time.Time, user, sni string) []Packet {
	return NewTCPConn(client, server, t).Handshake().
		Data(true, RDPRequest(user, 3), 1460).Data(false, RDPConfirm(2), 1460).
		Data(true, ClientHello(sni), 1460).Close().Packets
}
