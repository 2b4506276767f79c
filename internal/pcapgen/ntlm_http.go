package pcapgen

import (
	"encoding/base64"
	"net/netip"
	"time"
)

// HTTPNTLMExchange is an HTTP NTLM handshake on one keep-alive connection:
// GET with a NEGOTIATE, 401 with the CHALLENGE, GET with the AUTHENTICATE
// (domain\user from workstation, NT response ntLen bytes), 200. The
// request bytes and the response bytes, in order.
func HTTPNTLMExchange(user, domain, workstation string, ntLen int) (req, resp string) {
	b64 := base64.StdEncoding.EncodeToString
	req = "GET /intranet/ HTTP/1.1\r\nHost: intranet.contoso.local\r\nAuthorization: NTLM " + b64(NTLMNegotiate()) + "\r\n\r\n" +
		"GET /intranet/ HTTP/1.1\r\nHost: intranet.contoso.local\r\nAuthorization: NTLM " + b64(NTLMAuthenticate(user, domain, workstation, ntLen)) + "\r\n\r\n"
	resp = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate\r\nWWW-Authenticate: NTLM " + b64(NTLMChallenge("CONTOSO", "WEB1", "contoso.local")) + "\r\nContent-Length: 0\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	return req, resp
}

// HTTPNTLMSession is HTTPNTLMExchange over a TCP connection, each request
// answered before the next.
func HTTPNTLMSession(client, server netip.AddrPort, t time.Time, user, domain string, ntLen int) []Packet {
	req, resp := HTTPNTLMExchange(user, domain, "WS-0042", ntLen)
	c := NewTCPConn(client, server, t).Handshake()
	r1, r2 := splitAfter(req, "\r\n\r\n"), splitAfter(resp, "\r\n\r\n")
	c.Data(true, []byte(r1[0]), 1460).Data(false, []byte(r2[0]), 1460).Data(true, []byte(r1[1]), 1460).Data(false, []byte(r2[1]), 1460)
	return c.Close().Packets
}

// splitAfter cuts s in two after the first sep.
func splitAfter(s, sep string) [2]string {
	for i := 0; i+len(sep) <= len(s); i++ {
		if s[i:i+len(sep)] == sep {
			return [2]string{s[:i+len(sep)], s[i+len(sep):]}
		}
	}
	return [2]string{s, ""}
}
