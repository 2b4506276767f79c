package kerberos

import (
	"bytes"
	"slices"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// An AP-REQ shows its ticket's realm and service, the AP options and
// both encryption types, whether the token keeps its [APPLICATION 0]
// wrapping or starts at the OID (as ntlm.FindInBlob hands it over, with
// the rest of the SPNEGO blob after it); AP-REP and KRB-ERROR tokens too.
func TestParseGSS(t *testing.T) {
	tok := pcapgen.KrbAPReq("CONTOSO.LOCAL", []string{"cifs", "dc1.contoso.local"}, 18, 23)
	inner := tok[bytes.IndexByte(tok, 0x06):] // the OID on: the outer tag and length dropped
	for _, b := range [][]byte{tok, append(slices.Clone(inner), 0xa3, 0x02, 0x04, 0x00)} {
		m, err := ParseGSS(b)
		if err != nil {
			t.Fatal(err)
		}
		if m.Type != APReq || m.Realm != "CONTOSO.LOCAL" || Principal(m.SName) != "cifs/dc1.contoso.local" ||
			m.TicketEtype != 18 || m.EncEtype != 23 || m.CName != nil {
			t.Errorf("AP-REQ %+v", m)
		}
		if got := APOptionNames(m.APOptions); !slices.Equal(got, []string{"mutual-required"}) {
			t.Errorf("ap options %v", got)
		}
	}
	m, err := ParseGSS(pcapgen.KrbAPRep(18))
	if err != nil || m.Type != APRep || m.EncEtype != 18 || MessageName(m.Type) != "AP-REP" {
		t.Errorf("AP-REP %+v %v", m, err)
	}
	m, err = ParseGSS(pcapgen.KrbAPError(37, "R", "cifs", "h"))
	if err != nil || m.Type != KRBError || ErrorName(m.ErrorCode) != "KRB_AP_ERR_SKEW" {
		t.Errorf("KRB-ERROR %+v %v", m, err)
	}
}

// What is not a krb5 token fails with an error, never a half-read
// message: another mechanism's OID, a token id that disagrees with the
// message, and every truncation of a good token.
func TestParseGSSRejects(t *testing.T) {
	tok := pcapgen.KrbAPReq("R", []string{"cifs", "h"}, 18, 18)
	oid := bytes.IndexByte(tok, 0x06)
	other := slices.Clone(tok)
	other[oid+10]++ // last byte of the OID
	if _, err := ParseGSS(other); err == nil {
		t.Error("another mechanism parsed")
	}
	wrongID := slices.Clone(tok)
	wrongID[oid+11] = 2 // AP-REP's id before an AP-REQ
	if _, err := ParseGSS(wrongID); err == nil {
		t.Error("token id AP-REP over an AP-REQ parsed")
	}
	for n := range len(tok) {
		if m, err := ParseGSS(tok[:n]); err == nil {
			t.Fatalf("%d of %d bytes parsed: %+v", n, len(tok), m)
		}
	}
}

func FuzzParseGSS(f *testing.F) {
	f.Add(pcapgen.KrbAPReq("R", []string{"cifs", "h"}, 18, 18))
	f.Add(pcapgen.KrbAPRep(18))
	f.Add(pcapgen.KrbAPError(41, "R", "cifs", "h"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseGSS(b)
		if err != nil {
			return
		}
		if len(m.SName) > maxNames || len(m.CName) > maxNames || m.Type != APReq && m.Type != APRep && m.Type != KRBError {
			t.Fatalf("%+v", m)
		}
	})
}

func BenchmarkParseGSS(b *testing.B) {
	tok := pcapgen.KrbAPReq("CONTOSO.LOCAL", []string{"cifs", "dc1.contoso.local"}, 18, 18)
	b.SetBytes(int64(len(tok)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseGSS(tok); err != nil {
			b.Fatal(err)
		}
	}
}
