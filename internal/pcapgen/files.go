package pcapgen

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// EICAR is the antivirus test file (68 bytes); its SHA-256 is
// 275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f.
const EICAR = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

// PEFile is a small stand-in for a Windows executable: a DOS header whose
// e_lfanew points at a "PE\0\0" signature (x86-64), then n bytes of
// filler, enough for magic detection to call it a PE.
func PEFile(n int) []byte {
	b := make([]byte, 0x80+6+n)
	copy(b, "MZ")
	binary.LittleEndian.PutUint32(b[0x3c:], 0x80)
	copy(b[0x80:], "PE\x00\x00\x64\x86")
	for i := 0x86; i < len(b); i++ {
		b[i] = byte(i * 31)
	}
	return b
}

// Skip advances one side's sequence numbers over n bytes that are never
// captured: the receiver sees a gap.
func (c *TCPConn) Skip(fromClient bool, n int) *TCPConn {
	if fromClient {
		c.cseq += uint32(n)
	} else {
		c.sseq += uint32(n)
	}
	return c
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func chunkedBody(b []byte, size int) []byte {
	var out bytes.Buffer
	for len(b) > 0 {
		n := min(size, len(b))
		fmt.Fprintf(&out, "%x\r\n", n)
		out.Write(b[:n])
		out.WriteString("\r\n")
		b = b[n:]
	}
	out.WriteString("0\r\n\r\n")
	return out.Bytes()
}

// HTTPFileTransfers is four HTTP connections that carry files, one second
// apart from t:
//
//  1. GET /invoice.pdf.exe: a PE (PEFile(20000)) declared application/pdf,
//     gzip-encoded and chunked;
//  2. POST /upload: multipart/form-data with a form field and EICAR as
//     "eicar.com" (text/plain);
//  3. GET /video.mp4 answered 206 with bytes 1000-1999 of 50000;
//  4. GET /lost.zip whose 30000-byte body loses 1460 bytes in capture.
func HTTPFileTransfers(client, server netip.AddrPort, t time.Time) []Packet {
	var pkts []Packet
	conn := func(i int) *TCPConn {
		c := client
		c = netip.AddrPortFrom(c.Addr(), c.Port()+uint16(i))
		return NewTCPConn(c, server, t.Add(time.Duration(i)*time.Second)).Handshake()
	}

	body := gzipped(PEFile(20000))
	c := conn(0).Data(true, []byte("GET /invoice.pdf.exe HTTP/1.1\r\nHost: files.example.net\r\nAccept-Encoding: gzip\r\n\r\n"), 1460)
	resp := append([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"), chunkedBody(body, 4000)...)
	pkts = append(pkts, c.Data(false, resp, 1460).Close().Packets...)

	const bnd = "----pcapgenBoundary7MA4YWxk"
	form := "--" + bnd + "\r\nContent-Disposition: form-data; name=\"comment\"\r\n\r\nsee attached\r\n" +
		"--" + bnd + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"eicar.com\"\r\nContent-Type: text/plain\r\n\r\n" +
		EICAR + "\r\n--" + bnd + "--\r\n"
	req := fmt.Sprintf("POST /upload HTTP/1.1\r\nHost: files.example.net\r\nContent-Type: multipart/form-data; boundary=%s\r\nContent-Length: %d\r\n\r\n%s", bnd, len(form), form)
	c = conn(1).Data(true, []byte(req), 1460).Data(false, []byte("HTTP/1.1 204 No Content\r\n\r\n"), 1460)
	pkts = append(pkts, c.Close().Packets...)

	part := bytes.Repeat([]byte("\x00\x00\x00\x18ftypmp42"), 100) // 1000 bytes
	c = conn(2).Data(true, []byte("GET /video.mp4 HTTP/1.1\r\nHost: media.example.net\r\nRange: bytes=1000-1999\r\n\r\n"), 1460).
		Data(false, append([]byte("HTTP/1.1 206 Partial Content\r\nContent-Type: video/mp4\r\nContent-Range: bytes 1000-1999/50000\r\nContent-Length: 1000\r\n\r\n"), part...), 1460)
	pkts = append(pkts, c.Close().Packets...)

	zip := append([]byte("PK\x03\x04"), []byte(strings.Repeat("z", 29996))...)
	c = conn(3).Data(true, []byte("GET /lost.zip HTTP/1.1\r\nHost: files.example.net\r\n\r\n"), 1460).
		Data(false, append([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\nContent-Length: 30000\r\n\r\n"), zip[:5000]...), 1460).
		Skip(false, 1460).
		Data(false, zip[5000+1460:], 1460)
	pkts = append(pkts, c.Close().Packets...)
	return pkts
}
