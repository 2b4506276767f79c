package ntlm

import (
	"bytes"
	"encoding/base64"
	"strings"

	"github.com/packetsleuth/packetsleuth/parsers/kerberos"
)

// Mechanisms a security blob can carry.
const (
	MechNTLM     = "ntlm"
	MechKerberos = "kerberos"
)

// krb5 GSS-API token: a Kerberos mechanism OID, DER-encoded (tag 06 and
// its length before kerberos.MechOID or kerberos.MSMechOID), followed by a
// token id (01 00 AP-REQ, 02 00 AP-REP, 03 00 KRB-ERROR).
var krb5OIDs = [][]byte{derOID(kerberos.MechOID), derOID(kerberos.MSMechOID)}

func derOID(v []byte) []byte { return append([]byte{0x06, byte(len(v))}, v...) }

// Blob is what a GSS-API/SPNEGO security blob (or a raw NTLMSSP message)
// carries.
type Blob struct {
	// Mech is MechNTLM, MechKerberos, or "" when the blob holds only a
	// mechanism list (a server's negTokenInit) or an unknown token.
	Mech string
	// Kerberos is the GSS-API token (OID, token id, then the Kerberos
	// message) for a Kerberos parser to read; nil for NTLM.
	Kerberos []byte
	NTLM     Message
	// Err is the NTLM parse error when an NTLMSSP signature was found but
	// the message did not parse.
	Err error
}

// FindInBlob looks into a security blob: the NTLMSSP message inside a
// SPNEGO negTokenInit/negTokenResp (or bare), or a Kerberos GSS-API token.
// NTLM is found by its signature: offsets inside an NTLMSSP message are
// relative to the signature, so the SPNEGO wrapping need not be decoded.
// A mechanism list alone (which names NTLM and Kerberos without carrying
// either) is not taken for a token: Kerberos needs the OID followed by a
// token id.
func FindInBlob(b []byte) Blob {
	if i := bytes.Index(b, []byte(Signature)); i >= 0 {
		m, err := Parse(b[i:])
		return Blob{Mech: MechNTLM, NTLM: m, Err: err}
	}
	for _, oid := range krb5OIDs {
		for off := 0; off < len(b); {
			i := bytes.Index(b[off:], oid)
			if i < 0 {
				break
			}
			j := off + i + len(oid)
			if j+2 <= len(b) && b[j] >= 1 && b[j] <= 3 && b[j+1] == 0 {
				return Blob{Mech: MechKerberos, Kerberos: b[off+i:]}
			}
			off = j
		}
	}
	return Blob{}
}

// FromHTTP reads an Authorization, Proxy-Authorization, WWW-Authenticate or
// Proxy-Authenticate value of scheme NTLM or Negotiate ("NTLM TlRMTVNT…").
// ok is false for other schemes, a challenge without a token, or base64
// that does not decode. A WWW-Authenticate value may list several
// challenges separated by commas; the first NTLM/Negotiate one with a
// token counts.
func FromHTTP(value string) (b Blob, ok bool) {
	for part := range strings.SplitSeq(value, ",") {
		scheme, tok, has := strings.Cut(strings.TrimSpace(part), " ")
		if !has || !(strings.EqualFold(scheme, "NTLM") || strings.EqualFold(scheme, "Negotiate")) {
			continue
		}
		tok = strings.TrimSpace(tok)
		raw, err := base64.StdEncoding.DecodeString(tok)
		if err != nil {
			raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(tok, "="))
			if err != nil {
				continue
			}
		}
		if b = FindInBlob(raw); b.Mech != "" {
			return b, true
		}
	}
	return Blob{}, false
}
