package kerberos

import (
	"bytes"
	"fmt"
)

// Messages of the client-server exchange (RFC 4120 §5.5), carried in
// GSS-API tokens: in SPNEGO inside SMB session setups, in DCE/RPC auth
// trailers.
const (
	APReq = 14
	APRep = 15
)

// AP options (RFC 4120 §5.5.1), as bits of Message.APOptions.
const (
	APUseSessionKey  = 1 << 30
	APMutualRequired = 1 << 29
)

// GSS-API token ids of RFC 4121 §4.1.
var tokenIDs = map[uint16]int{0x0100: APReq, 0x0200: APRep, 0x0300: KRBError}

// ParseBlob reads the Kerberos message of a security blob: the mechanism
// token of a SPNEGO negTokenInit or negTokenResp, or the blob itself, as
// ParseGSS reads it.
func ParseBlob(blob []byte) (*Message, error) {
	if tok := spnegoToken(blob); tok != nil {
		return ParseGSS(tok)
	}
	return ParseGSS(blob)
}

// spnegoToken returns the mechToken of a negTokenInit ([APPLICATION 0]
// { SPNEGO OID, [0] SEQUENCE }) or the responseToken of a negTokenResp
// ([1] SEQUENCE): field [2] of both (RFC 4178 §4.2), or nil.
func spnegoToken(b []byte) []byte {
	t, _, err := readTLV(b)
	if err != nil {
		return nil
	}
	if t.class == 1 && t.tag == 0 {
		oid, rest, err := readTLV(t.val)
		if err != nil || oid.class != 0 || oid.tag != 6 || !bytes.Equal(oid.val, spnegoOID) {
			return nil
		}
		if t, _, err = readTLV(rest); err != nil || t.class != 2 || t.tag != 0 {
			return nil
		}
	} else if t.class != 2 || t.tag != 1 {
		return nil
	}
	seq, err := universal(t.val, tagSequence)
	if err != nil {
		return nil
	}
	var f [3][]byte
	if fields(seq, f[:]) != nil || f[2] == nil {
		return nil
	}
	tok, err := universal(f[2], tagOctets)
	if err != nil {
		return nil
	}
	return tok
}

// ParseGSS reads a Kerberos GSS-API token (RFC 4121 §4.1): the krb5
// mechanism OID, a token id and the AP-REQ, AP-REP or KRB-ERROR it names,
// with or without the [APPLICATION 0] wrapping around them, or one of
// those messages bare (DCE-style SPNEGO sends them so). Bytes after the
// message are ignored (a SPNEGO blob goes on after its token). Of an
// AP-REQ only the ticket's realm and service name, the AP options and the
// encryption types are in the clear: the client's name and realm are in
// the encrypted authenticator.
func ParseGSS(b []byte) (*Message, error) {
	if len(b) > 0 {
		switch b[0] {
		case 0x6e, 0x6f, 0x7e: // [APPLICATION 14, 15, 30]
			return parseAP(b, int(b[0]&0x1f))
		}
	}
	if len(b) > 0 && b[0] == 0x60 {
		t, _, err := readTLV(b)
		if err != nil {
			return nil, fmt.Errorf("kerberos: GSS token: %w", err)
		}
		b = t.val
	}
	oid, rest, err := readTLV(b)
	if err != nil || oid.class != 0 || oid.tag != 6 {
		return nil, fmt.Errorf("kerberos: GSS token without a mechanism OID (%v)", err)
	}
	if !bytes.Equal(oid.val, MechOID) && !bytes.Equal(oid.val, MSMechOID) {
		return nil, fmt.Errorf("kerberos: GSS mechanism is not Kerberos V5")
	}
	if len(rest) < 2 {
		return nil, errTruncated
	}
	typ, ok := tokenIDs[uint16(rest[0])<<8|uint16(rest[1])]
	if !ok {
		return nil, fmt.Errorf("kerberos: GSS token id %02x%02x", rest[0], rest[1])
	}
	return parseAP(rest[2:], typ)
}

// parseAP reads the AP-REQ, AP-REP or KRB-ERROR (typ) at the start of b.
func parseAP(b []byte, typ int) (*Message, error) {
	app, _, err := readTLV(b)
	if err != nil {
		return nil, err
	}
	if app.class != 1 || !app.constructed || app.tag != typ {
		return nil, fmt.Errorf("kerberos: token id says %d, application tag %d", typ, app.tag)
	}
	seq, err := universal(app.val, tagSequence)
	if err != nil {
		return nil, err
	}
	m := &Message{Type: typ}
	switch typ {
	case APReq:
		err = m.apReq(seq)
	case APRep:
		err = m.apRep(seq)
	default:
		err = m.krbError(seq)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// The OID values (without tag and length) of SPNEGO, of RFC 1964's
// Kerberos mechanism (1.2.840.113554.1.2.2) and of Microsoft's variant of
// it (1.2.840.48018.1.2.2).
var (
	spnegoOID = []byte{0x2b, 0x06, 0x01, 0x05, 0x05, 0x02}
	MechOID   = []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02}
	MSMechOID = []byte{0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02}
)

// apReq: pvno [0], msg-type [1], ap-options [2], ticket [3],
// authenticator [4].
func (m *Message) apReq(seq []byte) error {
	var f [5][]byte
	if err := fields(seq, f[:]); err != nil {
		return err
	}
	if err := m.header(f[:], 0); err != nil {
		return err
	}
	if f[2] == nil || f[3] == nil || f[4] == nil {
		return fmt.Errorf("kerberos: AP-REQ lacks ap-options, ticket or authenticator")
	}
	bits, err := universal(f[2], tagBitString)
	if err != nil || len(bits) < 1 {
		return fmt.Errorf("kerberos: ap-options: %v", err)
	}
	for i, c := range bits[1:min(len(bits), 5)] {
		m.APOptions |= uint32(c) << (24 - 8*i)
	}
	if err := m.ticket(f[3]); err != nil {
		return err
	}
	m.EncEtype, err = encEtype(f[4])
	return err
}

// apRep: pvno [0], msg-type [1], enc-part [2].
func (m *Message) apRep(seq []byte) error {
	var f [3][]byte
	if err := fields(seq, f[:]); err != nil {
		return err
	}
	if err := m.header(f[:], 0); err != nil {
		return err
	}
	if f[2] == nil {
		return fmt.Errorf("kerberos: AP-REP lacks enc-part")
	}
	var err error
	m.EncEtype, err = encEtype(f[2])
	return err
}
