package http

import (
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/parsers/ntlm"
)

// An NTLM handshake over HTTP: the NEGOTIATE and AUTHENTICATE of the
// Authorization headers and the CHALLENGE of the 401's WWW-Authenticate
// are decoded; the stored Authorization stays redacted.
func TestNTLMHandshake(t *testing.T) {
	req, resp := pcapgen.HTTPNTLMExchange("alice", "CONTOSO", "WS-0042", 24)
	txs := run(t, Config{}, req, resp)
	if len(txs) != 2 {
		t.Fatalf("%d transactions", len(txs))
	}
	a, b := txs[0], txs[1]
	if a.Request.AuthMech != "ntlm" || a.Request.NTLM.Type != ntlm.Negotiate || a.Response.NTLM.Type != ntlm.Challenge || a.Response.NTLM.NbComputer != "WEB1" {
		t.Errorf("first: %+v %+v", a.Request.NTLM, a.Response.NTLM)
	}
	if m := b.Request.NTLM; m.Type != ntlm.Authenticate || m.User != "alice" || m.Domain != "CONTOSO" || m.Version != "v1" {
		t.Errorf("second: %+v", m)
	}
	if b.Request.Authorization[:len("NTLM <redacted")] != "NTLM <redacted" {
		t.Errorf("stored %q", b.Request.Authorization)
	}
}
