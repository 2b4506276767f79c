package pcapgen

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// mysqlPacket frames a MySQL payload with its 3-byte length and sequence.
func mysqlPacket(seq byte, p []byte) []byte {
	n := len(p)
	return append([]byte{byte(n), byte(n >> 8), byte(n >> 16), seq}, p...)
}

// MySQLGreeting is a server's HandshakeV10 (sequence 0).
func MySQLGreeting(version, plugin string) []byte {
	p := append([]byte{10}, version...)
	p = append(p, 0, 1, 0, 0, 0)             // connection id
	p = append(p, "abcdefgh"...)             // auth data part 1
	p = append(p, 0, 0xff, 0xff, 0x21, 2, 0) // filler, caps low, charset, status
	p = append(p, 0xff, 0x3f, 21)            // caps high (plugin auth, attrs, lenenc auth), auth data length
	p = append(p, make([]byte, 10)...)
	p = append(p, "ijklmnopqrst\x00"...) // auth data part 2
	p = append(append(p, plugin...), 0)
	return mysqlPacket(0, p)
}

// MySQLLoginResponse is a client's HandshakeResponse41 (sequence 1) with
// a 20-byte auth response, the database, plugin and a _client_name
// attribute.
func MySQLLoginResponse(user, db, plugin, client string) []byte {
	const caps = 0x8 | 0x200 | 0x8000 | 0x80000 | 0x100000 | 0x200000
	p := binary.LittleEndian.AppendUint32(nil, caps)
	p = binary.LittleEndian.AppendUint32(p, 1<<24)
	p = append(p, 33)
	p = append(p, make([]byte, 23)...)
	p = append(append(p, user...), 0)
	p = append(append(p, 20), make([]byte, 20)...) // auth response: a hash, never read
	p = append(append(p, db...), 0)
	p = append(append(p, plugin...), 0)
	attr := append([]byte{12}, "_client_name"...)
	attr = append(append(attr, byte(len(client))), client...)
	p = append(append(p, byte(len(attr))), attr...)
	return mysqlPacket(1, p)
}

// MySQLSSLRequest is a client's 32-byte SSL request (sequence 1).
func MySQLSSLRequest() []byte {
	p := binary.LittleEndian.AppendUint32(nil, 0x8|0x200|0x800|0x8000|0x80000)
	return mysqlPacket(1, append(p, make([]byte, 28)...))
}

// MySQLOK is an OK packet; MySQLError an ERR packet with code, SQL state and message.
func MySQLOK(seq byte) []byte { return mysqlPacket(seq, []byte{0, 0, 0, 2, 0, 0, 0}) }

func MySQLError(seq byte, code uint16, state, msg string) []byte {
	p := binary.LittleEndian.AppendUint16([]byte{0xff}, code)
	return mysqlPacket(seq, append(append(p, '#'), state+msg...))
}

// MySQLLogin is a MySQL connection whose login succeeds (ok) or is denied.
func MySQLLogin(client, server netip.AddrPort, t time.Time, user string, ok bool) []Packet {
	verdict := MySQLError(2, 1045, "28000", "Access denied for user '"+user+"'")
	if ok {
		verdict = MySQLOK(2)
	}
	return NewTCPConn(client, server, t).Handshake().
		Data(false, MySQLGreeting("8.0.36", "caching_sha2_password"), 1460).
		Data(true, MySQLLoginResponse(user, "shop", "caching_sha2_password", "pcapgen"), 1460).
		Data(false, verdict, 1460).Close().Packets
}

// PgStartup is a StartupMessage (protocol 3.0) with the pairs given.
func PgStartup(pairs ...string) []byte {
	p := binary.BigEndian.AppendUint32(nil, 3<<16)
	for _, s := range pairs {
		p = append(append(p, s...), 0)
	}
	p = append(p, 0)
	return append(binary.BigEndian.AppendUint32(nil, uint32(4+len(p))), p...)
}

// PgSSLRequest is the 8-byte SSLRequest.
func PgSSLRequest() []byte { return []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f} }

// PgMessage is a typed backend or frontend message.
func PgMessage(typ byte, body []byte) []byte {
	return append(binary.BigEndian.AppendUint32([]byte{typ}, uint32(4+len(body))), body...)
}

// PgAuth is an authentication request with its code and extra bytes.
func PgAuth(code uint32, extra ...byte) []byte {
	return PgMessage('R', append(binary.BigEndian.AppendUint32(nil, code), extra...))
}

// PgError is an ErrorResponse with severity FATAL, SQLSTATE code and message.
func PgError(code, msg string) []byte {
	return PgMessage('E', []byte("SFATAL\x00C"+code+"\x00M"+msg+"\x00\x00"))
}

// PgLogin is a PostgreSQL connection: SSLRequest refused, start-up, MD5
// challenge, password, then AuthenticationOk, server_version and
// ReadyForQuery (ok) or an ErrorResponse 28P01.
func PgLogin(client, server netip.AddrPort, t time.Time, user string, ok bool) []Packet {
	verdict := PgError("28P01", `password authentication failed for user "`+user+`"`)
	if ok {
		verdict = append(append(PgAuth(0), PgMessage('S', []byte("server_version\x0016.2\x00"))...), PgMessage('Z', []byte{'I'})...)
	}
	return NewTCPConn(client, server, t).Handshake().
		Data(true, PgSSLRequest(), 1460).Data(false, []byte{'N'}, 1460).
		Data(true, PgStartup("user", user, "database", "shop", "application_name", "pcapgen"), 1460).
		Data(false, PgAuth(5, 1, 2, 3, 4), 1460).
		Data(true, PgMessage('p', []byte("md5c0ffee\x00")), 1460).
		Data(false, verdict, 1460).Close().Packets
}
