package pcapgen

import (
	"net/netip"
	"strconv"
	"time"
)

// SMTPMessage is a MIME message with an RFC 2047 subject, a quoted-printable
// text part and a base64 attachment whose RFC 2231 name hides a double
// extension ("invoice.pdf.exe", 16 bytes decoded: "MZ" and 14 zeros).
const SMTPMessage = "From: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.com>\r\n" +
	"To: Bob <bob@example.org>, carol@example.org\r\n" +
	"Cc: \"Dave\" <dave@example.net>\r\n" +
	"Subject: =?UTF-8?B?UmVjaG51bmcgZsO8cg==?= November\r\n" +
	"Message-ID: <gen.1@example.com>\r\n" +
	"Date: Tue, 24 Nov 2026 10:00:00 +0000\r\n" +
	"X-Mailer: pcapgen 1.0\r\n" +
	"Received: from a.example.com by mx.example.org\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n" +
	"\r\n" +
	"preamble\r\n" +
	"--b1\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Gr=C3=BC=C3=9Fe\r\n" +
	"..a line that starts with a dot\r\n" +
	"--b1\r\n" +
	"Content-Type: application/octet-stream\r\n" +
	"Content-Disposition: attachment;\r\n" +
	" filename*0=\"invoice.pdf\";\r\n" +
	" filename*1=\".exe\"\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"TVoAAAAAAAAAAAAAAAAAAA==\r\n" +
	"--b1--\r\n" +
	"epilogue\r\n"

// SMTPSession is a pipelined ESMTP session: greeting, EHLO, AUTH PLAIN
// (its secret in the clear, which the sensor must never report), MAIL FROM
// and two RCPT TO in one segment with DATA, the message SMTPMessage, QUIT.
func SMTPSession(client, server netip.AddrPort, t time.Time) []Packet {
	return NewTCPConn(client, server, t).Handshake().
		Data(false, []byte("220 mx.example.org ESMTP pcapgen\r\n"), 1460).
		Data(true, []byte("EHLO client.example.com\r\n"), 1460).
		Data(false, []byte("250-mx.example.org\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n"), 1460).
		Data(true, []byte("AUTH PLAIN AGpvZXJnAHMzY3JldA==\r\n"), 1460).
		Data(false, []byte("235 2.7.0 Authentication successful\r\n"), 1460).
		Data(true, []byte("MAIL FROM:<joerg@example.com>\r\nRCPT TO:<bob@example.org>\r\nRCPT TO:<carol@example.org>\r\nDATA\r\n"), 1460).
		Data(false, []byte("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"), 1460).
		Data(true, []byte(SMTPMessage+".\r\n"), 1460).
		Data(false, []byte("250 2.0.0 Ok: queued\r\n"), 1460).
		Data(true, []byte("QUIT\r\n"), 1460).
		Data(false, []byte("221 2.0.0 Bye\r\n"), 1460).
		Close().Packets
}

// FTPSession is an FTP control connection with a passive upload: a
// multi-line greeting, login (the password hunter2, which the sensor must
// never report), PWD, EPSV, STOR of a PHP script, and the data connection
// the EPSV reply announced, to dataPort of the server.
func FTPSession(client, server netip.AddrPort, dataPort uint16, t time.Time) []Packet {
	ctl := NewTCPConn(client, server, t).Handshake().
		Data(false, []byte("220-Welcome\r\n to pcapgen FTP\r\n220 ready\r\n"), 1460).
		Data(true, []byte("USER alice\r\n"), 1460).
		Data(false, []byte("331 Password required\r\n"), 1460).
		Data(true, []byte("PASS hunter2\r\n"), 1460).
		Data(false, []byte("230 Logged in\r\n"), 1460).
		Data(true, []byte("PWD\r\n"), 1460).
		Data(false, []byte("257 \"/home/alice\" is the current directory\r\n"), 1460).
		Data(true, []byte("EPSV\r\n"), 1460).
		Data(false, []byte("229 Entering Extended Passive Mode (|||"+strconv.Itoa(int(dataPort))+"|)\r\n"), 1460).
		Data(true, []byte("STOR up.php\r\n"), 1460).
		Data(false, []byte("150 Ok to send data.\r\n"), 1460)
	data := NewTCPConn(netip.AddrPortFrom(client.Addr(), client.Port()+1), netip.AddrPortFrom(server.Addr(), dataPort), ctl.T).
		Handshake().Data(true, []byte("<?php system($_GET['c']); ?>\n"), 1460).Close()
	pkts := ctl.Packets
	ctl.Packets, ctl.T = nil, data.T
	ctl.Data(false, []byte("226 Transfer complete (29 bytes).\r\n"), 1460).
		Data(true, []byte("QUIT\r\n"), 1460).
		Data(false, []byte("221 Goodbye\r\n"), 1460).Close()
	return append(append(pkts, data.Packets...), ctl.Packets...)
}
