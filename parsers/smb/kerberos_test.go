package smb

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/parsers/kerberos"
)

// krbSession is a session setup carrying req (a security blob) answered
// with status and the blob rep.
func krbSession(req, rep []byte, status uint32) []pcapgen.SMBChunk {
	const sid = 0x77
	return []pcapgen.SMBChunk{
		fromClient(pcapgen.NBSS(pcapgen.SMB2{Cmd: 0, Body: pcapgen.SMB2NegotiateReq()})),
		fromServer(pcapgen.NBSS(pcapgen.SMB2{Cmd: 0, Response: true, Body: pcapgen.SMB2NegotiateResp(0x0311, true)})),
		fromClient(pcapgen.NBSS(pcapgen.SMB2{Cmd: 1, MID: 1, Body: pcapgen.SMB2SessionSetupReq(req)})),
		fromServer(pcapgen.NBSS(pcapgen.SMB2{Cmd: 1, MID: 1, Response: true, Status: status, SID: sid, Body: pcapgen.SMB2SessionSetupResp(rep)})),
	}
}

// A Kerberos session setup gives the AP-REQ's ticket realm and service
// and the server's AP-REP or KRB-ERROR, whether the AP-REQ travels as a
// krb5 GSS-API token in SPNEGO (as Windows sends it over SMB) or bare as
// the SPNEGO mechanism token (DCE style); a krb5 token that does not
// parse leaves the mechanism named, says why and is counted.
func TestKerberosSessionSetup(t *testing.T) {
	apReq := pcapgen.KrbAPReq("CONTOSO.LOCAL", []string{"cifs", "dc1.contoso.local"}, 23, 18)
	bare := apReq[bytes.Index(apReq, []byte{0x6e}):] // the AP-REQ without its GSS-API header
	mangled := slices.Clone(apReq)
	mangled[len(mangled)-20] = 0xff // inside the authenticator: a length that runs off
	cases := []struct {
		name     string
		req, rep []byte
		status   uint32
		want     string
		errors   int64
	}{
		{"gss", pcapgen.SPNEGO(apReq, true), pcapgen.SPNEGO(pcapgen.KrbAPRep(18), false), 0,
			"kerberos CONTOSO.LOCAL cifs/dc1.contoso.local 23,18 [mutual-required] reply AP-REP err <nil>", 0},
		{"bare", pcapgen.SPNEGO(bare, true), pcapgen.SPNEGO(pcapgen.KrbAPRep(18), false), 0,
			"kerberos CONTOSO.LOCAL cifs/dc1.contoso.local 23,18 [mutual-required] reply AP-REP err <nil>", 0},
		{"error", pcapgen.SPNEGO(apReq, true), pcapgen.SPNEGO(pcapgen.KrbAPError(37, "CONTOSO.LOCAL", "cifs", "dc1"), false), pcapgen.SMBStatusLogonFail,
			"kerberos CONTOSO.LOCAL cifs/dc1.contoso.local 23,18 [mutual-required] reply KRB-ERROR 37 err <nil>", 0},
		{"mangled", pcapgen.SPNEGO(mangled, true), nil, pcapgen.SMBStatusLogonFail,
			"kerberos   0,0 [] reply  err kerberos: enc-part: kerberos: 32-byte length", 1},
	}
	for _, tc := range cases {
		var got []string
		c := NewConn(nil, Handler{Session: func(s *Session) {
			req, rep := s.Kerberos, s.KerberosReply
			if req == nil {
				req = &kerberos.Message{}
			}
			line := fmt.Sprintf("%s %s %s %d,%d %v reply ", s.Mech, req.Realm, kerberos.Principal(req.SName), req.TicketEtype, req.EncEtype, kerberos.APOptionNames(req.APOptions))
			if rep != nil {
				line += kerberos.MessageName(rep.Type)
				if rep.Type == kerberos.KRBError {
					line += fmt.Sprint(" ", rep.ErrorCode)
				}
			}
			got = append(got, line+fmt.Sprint(" err ", s.KerberosErr))
		}})
		for _, ch := range krbSession(tc.req, tc.rep, tc.status) {
			if err := c.Data(dir(ch.FromClient), ch.B, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		c.End(time.Time{})
		if len(got) != 1 || got[0] != tc.want || c.Stats().Errors != tc.errors {
			t.Errorf("%s: %q, %d errors", tc.name, got, c.Stats().Errors)
		}
	}
}

// BenchmarkKerberosSessionSetup: a whole session setup (negotiate, then one leg
// with the Kerberos AP-REQ and its AP-REP), a new connection each time.
func BenchmarkKerberosSessionSetup(b *testing.B) {
	chunks := krbSession(pcapgen.SPNEGO(pcapgen.KrbAPReq("CONTOSO.LOCAL", []string{"cifs", "dc1.contoso.local"}, 18, 18), true),
		pcapgen.SPNEGO(pcapgen.KrbAPRep(18), false), 0)
	benchChunks(b, chunks)
}

// BenchmarkPsExecExchange: the PsExec exchange (two failed NTLM
// session setups, a good one, trees, a 6000-byte executable written, the
// svcctl pipe), a new connection each time.
func BenchmarkPsExecExchange(b *testing.B) {
	benchChunks(b, pcapgen.SMBPsExecExchange("10.0.0.1", "mallory", "CONTOSO", 2))
}

func benchChunks(b *testing.B, chunks []pcapgen.SMBChunk) {
	var n int64
	for _, ch := range chunks {
		n += int64(len(ch.B))
	}
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		c := NewConn(nil, Handler{Session: func(*Session) {}, File: func(*File) {}, Tree: func(*Tree) {}})
		for _, ch := range chunks {
			_ = c.Data(dir(ch.FromClient), ch.B, time.Time{})
		}
		c.End(time.Time{})
	}
}
