package pcapgen

import (
	"fmt"
	"net/netip"
	"time"
)

// HTTPBomb is one HTTP exchange whose response is a decompression bomb:
// gzip of gzip of n zero bytes (a few hundred bytes on the wire for tens
// of MiB), declared application/octet-stream, from t.
func HTTPBomb(client, server netip.AddrPort, t time.Time, n int) []Packet {
	body := gzipped(gzipped(make([]byte, n)))
	resp := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Encoding: gzip, gzip\r\nContent-Length: %d\r\n\r\n", len(body))
	return NewTCPConn(client, server, t).Handshake().
		Data(true, []byte("GET /bomb.bin HTTP/1.1\r\nHost: files.example.net\r\nAccept-Encoding: gzip\r\n\r\n"), 1460).
		Data(false, append([]byte(resp), body...), 1460).Close().Packets
}

// HTTPEndlessBody is one HTTP exchange whose chunked response streams n
// bytes in 1000-byte chunks and never sends its last chunk; the capture
// ends with the connection still open.
func HTTPEndlessBody(client, server netip.AddrPort, t time.Time, n int) []Packet {
	c := NewTCPConn(client, server, t).Handshake().
		Data(true, []byte("GET /stream HTTP/1.1\r\nHost: files.example.net\r\n\r\n"), 1460).
		Data(false, []byte("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"), 1460)
	chunk := make([]byte, 1000)
	for i := range chunk {
		chunk[i] = byte(i * 7)
	}
	for sent := 0; sent < n; sent += len(chunk) {
		c.Data(false, append(fmt.Appendf(nil, "%x\r\n", len(chunk)), append(chunk, "\r\n"...)...), 1460)
	}
	return c.Packets
}
