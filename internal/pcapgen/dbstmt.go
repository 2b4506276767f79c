package pcapgen

import (
	"net/netip"
	"time"
)

// MySQLCommand is a client command packet (sequence 0): the command byte
// (0x03 COM_QUERY, 0x16 COM_STMT_PREPARE, 0x02 COM_INIT_DB…) and its text.
func MySQLCommand(cmd byte, text string) []byte {
	return mysqlPacket(0, append([]byte{cmd}, text...))
}

// PgQuery is a simple Query message; PgParse an extended-protocol Parse
// of a named statement with no parameter types.
func PgQuery(text string) []byte { return PgMessage('Q', append([]byte(text), 0)) }

func PgParse(name, text string) []byte {
	b := append(append([]byte(name), 0), text...)
	return PgMessage('P', append(b, 0, 0, 0))
}

// MySQLSession is a successful MySQL login followed by the client's
// commands (each answered with OK), cut into segments of mss bytes.
func MySQLSession(client, server netip.AddrPort, t time.Time, mss int, cmds ...[]byte) []Packet {
	c := NewTCPConn(client, server, t).Handshake().
		Data(false, MySQLGreeting("8.0.36", "caching_sha2_password"), mss).
		Data(true, MySQLLoginResponse("app", "shop", "caching_sha2_password", "pcapgen"), mss).
		Data(false, MySQLOK(2), mss)
	for _, cmd := range cmds {
		c.Data(true, cmd, mss).Data(false, MySQLOK(1), mss)
	}
	return c.Close().Packets
}
