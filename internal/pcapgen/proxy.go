package pcapgen

// Proxy tunnels and compressed bodies: a CONNECT tunnel whose inner
// protocol starts in the same segments as the CONNECT exchange (the split a
// sensor that stops at the CONNECT misses), and many compressed responses
// open at once (what exhausts body decoders).

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"
)

// ClientHello returns one TLS record holding a TLS 1.2 ClientHello for sni,
// with fixed random bytes, session id and key share (stable bytes): four
// cipher suites, server_name, supported_groups, ec_point_formats,
// signature_algorithms, ALPN (h2, http/1.1) and supported_versions.
func ClientHello(sni string) []byte {
	var ext []byte
	addExt := func(typ uint16, body []byte) {
		ext = binary.BigEndian.AppendUint16(ext, typ)
		ext = binary.BigEndian.AppendUint16(ext, uint16(len(body)))
		ext = append(ext, body...)
	}
	name := append([]byte{0}, u16(len(sni))...)
	addExt(0, append(u16(len(sni)+3), append(name, sni...)...))
	addExt(10, []byte{0, 6, 0, 29, 0, 23, 0, 24})                                     // x25519, secp256r1, secp384r1
	addExt(11, []byte{1, 0})                                                          // uncompressed points
	addExt(13, []byte{0, 6, 4, 3, 8, 4, 4, 1})                                        // ecdsa_p256_sha256, rsa_pss_sha256, rsa_pkcs1_sha256
	addExt(16, []byte{0, 12, 2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'}) // ALPN
	addExt(43, []byte{4, 3, 4, 3, 3})                                                 // TLS 1.3, 1.2
	body := []byte{3, 3}
	body = append(body, bytes.Repeat([]byte{0x5a}, 32)...) // random
	body = append(body, 32)
	body = append(body, bytes.Repeat([]byte{0xa5}, 32)...) // session id
	body = append(body, 0, 8, 0x13, 0x01, 0xc0, 0x2f, 0xc0, 0x2b, 0x00, 0x9c)
	body = append(body, 1, 0) // null compression
	body = append(append(body, u16(len(ext))...), ext...)
	hs := append([]byte{1, 0, byte(len(body) >> 8), byte(len(body))}, body...)
	return append([]byte{22, 3, 1, byte(len(hs) >> 8), byte(len(hs))}, hs...)
}

func u16(n int) []byte { return []byte{byte(n >> 8), byte(n)} }

// ConnectTunnel is a client's connection to an HTTP proxy: CONNECT target,
// "200 Connection established", then the tunnelled exchange (the client's
// inner bytes, the server's innerResp). With awkward, the client sends its
// first inner bytes in the CONNECT's segment, before the answer, and the
// proxy sends its 200 and the server's first bytes in one segment.
func ConnectTunnel(client, proxy netip.AddrPort, t time.Time, target string, inner, innerResp []byte, awkward bool) []Packet {
	connect := []byte(fmt.Sprintf("CONNECT %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: pcapgen/1.0\r\n\r\n", target, target))
	ok := []byte("HTTP/1.1 200 Connection established\r\n\r\n")
	c := NewTCPConn(client, proxy, t).Handshake()
	if awkward {
		c.Data(true, append(connect, inner...), 1460).Data(false, append(ok, innerResp...), 1460)
	} else {
		c.Data(true, connect, 1460).Data(false, ok, 1460).Data(true, inner, 1460).Data(false, innerResp, 1460)
	}
	return c.Close().Packets
}

// GzipBody is a gzip member of n bytes of HTML-like text.
func GzipBody(n int) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	line := []byte("<li><a href=\"/item\">an item of a generated page</a></li>\n")
	for n > 0 {
		k := min(n, len(line))
		w.Write(line[:k])
		n -= k
	}
	w.Close()
	return b.Bytes()
}

// ConcurrentGzip is n HTTP connections from distinct client ports, each
// fetching a gzip-encoded body, interleaved so that every body is open at
// once: all requests and response headers with the first half of their
// bodies come first, then all second halves.
func ConcurrentGzip(n int, server netip.AddrPort, t time.Time, body []byte) []Packet {
	resp := []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n", len(body)))
	first := append(resp, body[:len(body)/2]...)
	req := []byte("GET /page.html HTTP/1.1\r\nHost: www.example.com\r\nAccept-Encoding: gzip\r\n\r\n")
	conns := make([]*TCPConn, n)
	var pkts []Packet
	base := netip.MustParseAddr("10.2.0.0").As4()
	for i := range conns {
		a := base
		a[2], a[3] = byte(i>>8), byte(i)
		c := NewTCPConn(netip.AddrPortFrom(netip.AddrFrom4(a), uint16(20000+i%40000)), server, t)
		c.Step = time.Microsecond
		conns[i] = c.Handshake().Data(true, req, 1460).Data(false, first, 1460)
		pkts = append(pkts, c.Packets...)
		c.Packets = c.Packets[:0]
		t = t.Add(10 * time.Microsecond)
	}
	for _, c := range conns {
		c.T = t
		c.Data(false, body[len(body)/2:], 1460).Close()
		pkts = append(pkts, c.Packets...)
		t = t.Add(10 * time.Microsecond)
	}
	return pkts
}
