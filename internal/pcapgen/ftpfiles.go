package pcapgen

import (
	"bytes"
	"fmt"
	"net/netip"
	"time"
)

// FTPDownloads is one FTP control connection (user bob, cwd /pub) that
// fetches over EPSV data connections, from t:
//
//  1. LIST: a listing, not a file;
//  2. RETR tool.exe: PEFile(20000), "(20134 bytes)" in its 150, whole;
//  3. RETR cut.bin: 8000 bytes declared, the data connection reset after 2920;
//  4. RETR lost.bin: 8000 bytes, 1460 of them never captured;
//  5. RETR short.bin: 8000 bytes declared, 4000 sent, then FIN.
func FTPDownloads(client, server netip.AddrPort, t time.Time) []Packet {
	ctl := NewTCPConn(client, server, t).Handshake().
		Data(false, []byte("220 ready\r\n"), 1460).
		Data(true, []byte("USER bob\r\n"), 1460).Data(false, []byte("331 Password required\r\n"), 1460).
		Data(true, []byte("PASS secret\r\n"), 1460).Data(false, []byte("230 Logged in\r\n"), 1460).
		Data(true, []byte("CWD /pub\r\n"), 1460).Data(false, []byte("250 ok\r\n"), 1460).
		Data(true, []byte("PWD\r\n"), 1460).Data(false, []byte("257 \"/pub\" is the current directory\r\n"), 1460)
	pkts := ctl.Packets
	ctl.Packets = nil
	filler := bytes.Repeat([]byte("0123456789abcdef"), 500) // 8000 bytes
	port := uint16(40000)
	transfer := func(cmd, reply, final string, data func(*TCPConn) *TCPConn) {
		port++
		ctl.Data(true, []byte("EPSV\r\n"), 1460).
			Data(false, []byte(fmt.Sprintf("229 Entering Extended Passive Mode (|||%d|)\r\n", port)), 1460).
			Data(true, []byte(cmd+"\r\n"), 1460).Data(false, []byte(reply+"\r\n"), 1460)
		pkts = append(pkts, ctl.Packets...)
		dc := NewTCPConn(netip.AddrPortFrom(client.Addr(), client.Port()+port-40000), netip.AddrPortFrom(server.Addr(), port), ctl.T).Handshake()
		dc = data(dc)
		pkts = append(pkts, dc.Packets...)
		ctl.Packets, ctl.T = nil, dc.T
		ctl.Data(false, []byte(final+"\r\n"), 1460)
	}
	transfer("LIST", "150 Here comes the directory listing", "226 Directory send OK", func(c *TCPConn) *TCPConn {
		return c.Data(false, []byte("-rw-r--r-- 1 ftp ftp 20134 Jan 01 00:00 tool.exe\r\n"), 1460).Close()
	})
	pe := PEFile(20000)
	transfer("RETR tool.exe", fmt.Sprintf("150 Opening BINARY mode data connection for tool.exe (%d bytes)", len(pe)), "226 Transfer complete", func(c *TCPConn) *TCPConn {
		return c.Data(false, pe, 1460).Close()
	})
	transfer("RETR cut.bin", "150 Opening BINARY mode data connection for cut.bin (8000 bytes)", "426 Connection closed; transfer aborted", func(c *TCPConn) *TCPConn {
		return c.Data(false, filler[:2920], 1460).Send(false, fRST|fACK, nil)
	})
	transfer("RETR lost.bin", "150 Opening BINARY mode data connection for lost.bin (8000 bytes)", "226 Transfer complete", func(c *TCPConn) *TCPConn {
		return c.Data(false, filler[:2920], 1460).Skip(false, 1460).Data(false, filler[4380:], 1460).Close()
	})
	transfer("RETR short.bin", "150 Opening BINARY mode data connection for short.bin (8000 bytes)", "226 Transfer complete", func(c *TCPConn) *TCPConn {
		return c.Data(false, filler[:4000], 1460).Close()
	})
	ctl.Data(true, []byte("QUIT\r\n"), 1460).Data(false, []byte("221 Goodbye\r\n"), 1460).Close()
	return append(pkts, ctl.Packets...)
}
