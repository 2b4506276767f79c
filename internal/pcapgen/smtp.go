package pcapgen

import (
	"net/netip"
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
