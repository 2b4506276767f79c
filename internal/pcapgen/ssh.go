package pcapgen

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"time"
)

// SSHPacket frames payload as a clear-text SSH binary packet (RFC 4253
// §6): uint32 packet_length, byte padding_length, payload, and padding to
// a multiple of 8 bytes (at least 4).
func SSHPacket(payload []byte) []byte {
	pad := 8 - (5+len(payload))%8
	if pad < 4 {
		pad += 8
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(1+len(payload)+pad))
	b = append(b, byte(pad))
	b = append(b, payload...)
	return append(b, make([]byte, pad)...)
}

// SSHKexInit is a KEXINIT packet (message 20): a 16-byte cookie, the ten
// name-lists in RFC 4253 §7.1 order (kex, host key, then encryption, MAC,
// compression and language, each client-to-server then server-to-client),
// first_kex_packet_follows and the reserved uint32.
func SSHKexInit(lists [10]string) []byte {
	p := append([]byte{20}, bytes.Repeat([]byte{0xAB}, 16)...)
	for _, l := range lists {
		p = binary.BigEndian.AppendUint32(p, uint32(len(l)))
		p = append(p, l...)
	}
	return SSHPacket(append(p, 0, 0, 0, 0, 0))
}

// The algorithm lists of SSHSession's two sides.
var (
	SSHClientLists = [10]string{"curve25519-sha256,ecdh-sha2-nistp256,ext-info-c", "ssh-ed25519,rsa-sha2-256",
		"aes128-ctr,aes256-gcm@openssh.com", "aes128-ctr,aes256-gcm@openssh.com",
		"hmac-sha2-256,hmac-sha1", "hmac-sha2-256,hmac-sha1", "none", "none", "", ""}
	SSHServerLists = [10]string{"ecdh-sha2-nistp256,curve25519-sha256", "rsa-sha2-256,ssh-ed25519",
		"aes256-gcm@openssh.com,aes128-ctr", "aes256-gcm@openssh.com,aes128-ctr",
		"hmac-sha1,hmac-sha2-256", "hmac-sha1,hmac-sha2-256", "none,zlib@openssh.com", "none,zlib@openssh.com", "", ""}
)

// SSHSession is an SSH 2 connection from handshake to FIN: version lines
// (the server's first), both KEXINITs, an ECDH exchange (30, then 31 with
// NEWKEYS), the client's NEWKEYS with its first encrypted packet, and
// encrypted segments sized as a SERVICE_ACCEPT (52 bytes), two
// USERAUTH_FAILUREs (84) and a USERAUTH_SUCCESS (36): a login that
// succeeds on the second attempt.
func SSHSession(client, server netip.AddrPort, t time.Time) []Packet {
	c := NewTCPConn(client, server, t).Handshake().
		Data(false, []byte("SSH-2.0-OpenSSH_9.6p1 Debian-4\r\n"), 1460).
		Data(true, []byte("SSH-2.0-pcapgen_1.0\r\n"), 1460).
		Data(true, SSHKexInit(SSHClientLists), 1460).
		Data(false, SSHKexInit(SSHServerLists), 1460).
		Data(true, SSHPacket(append([]byte{30}, make([]byte, 36)...)), 1460).
		Data(false, append(SSHPacket(append([]byte{31}, make([]byte, 200)...)), SSHPacket([]byte{21})...), 1460).
		Data(true, append(SSHPacket([]byte{21}), make([]byte, 44)...), 1460)
	for _, n := range []int{52, 84, 84, 36} {
		c.Data(false, bytes.Repeat([]byte{0x5A}, n), 1460).Data(true, bytes.Repeat([]byte{0xA5}, 100), 1460)
	}
	return c.Close().Packets
}
