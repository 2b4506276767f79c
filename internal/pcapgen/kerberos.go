package pcapgen

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// DER builders for Kerberos messages (RFC 4120), enough for the sensor's
// tests: definite lengths, GeneralString names, fixed times and nonce.

func der(id byte, content ...[]byte) []byte {
	var v []byte
	for _, c := range content {
		v = append(v, c...)
	}
	b := []byte{id}
	switch n := len(v); {
	case n < 0x80:
		b = append(b, byte(n))
	case n < 0x100:
		b = append(b, 0x81, byte(n))
	default:
		b = append(b, 0x82, byte(n>>8), byte(n))
	}
	return append(b, v...)
}

// DER is one element: identifier byte id, definite length, content.
func DER(id byte, content ...[]byte) []byte { return der(id, content...) }

func krbCtx(n int, v []byte) []byte { return der(0xa0|byte(n), v) }
func krbSeq(v ...[]byte) []byte     { return der(0x30, v...) }
func krbStr(s string) []byte        { return der(0x1b, []byte(s)) }
func krbTime(s string) []byte       { return der(0x18, []byte(s)) }

func krbInt(n int) []byte {
	switch {
	case n >= -128 && n < 128:
		return der(0x02, []byte{byte(n)})
	default:
		return der(0x02, []byte{byte(n >> 8), byte(n)})
	}
}

func krbPrincipal(names ...string) []byte {
	var ns [][]byte
	for _, n := range names {
		ns = append(ns, krbStr(n))
	}
	return krbSeq(krbCtx(0, krbInt(1)), krbCtx(1, krbSeq(ns...)))
}

func krbEncData(etype int) []byte {
	return krbSeq(krbCtx(0, krbInt(etype)), krbCtx(2, der(0x04, []byte("encrypted"))))
}

// KrbRequest is an AS-REQ (typ 10) or TGS-REQ (12): KDC options
// forwardable, renewable, canonicalize, renewable-ok; cname when not nil;
// till and rtime in 2037; the etypes offered; one PA-DATA per paTypes.
func KrbRequest(typ int, cname []string, realm string, sname []string, etypes []int, paTypes ...int) []byte {
	var pas [][]byte
	for _, t := range paTypes {
		pas = append(pas, krbSeq(krbCtx(1, krbInt(t)), krbCtx(2, der(0x04, []byte{1, 2}))))
	}
	var ets [][]byte
	for _, e := range etypes {
		ets = append(ets, krbInt(e))
	}
	body := [][]byte{krbCtx(0, der(0x03, []byte{0, 0x40, 0x81, 0, 0x10}))}
	if cname != nil {
		body = append(body, krbCtx(1, krbPrincipal(cname...)))
	}
	body = append(body, krbCtx(2, krbStr(realm)), krbCtx(3, krbPrincipal(sname...)),
		krbCtx(5, krbTime("20370913024805Z")), krbCtx(6, krbTime("20370913024805Z")), krbCtx(7, krbInt(77)), krbCtx(8, krbSeq(ets...)))
	fields := [][]byte{krbCtx(1, krbInt(5)), krbCtx(2, krbInt(typ))}
	if pas != nil {
		fields = append(fields, krbCtx(3, krbSeq(pas...)))
	}
	fields = append(fields, krbCtx(4, krbSeq(body...)))
	return der(0x60|byte(typ), krbSeq(fields...))
}

// KrbReply is an AS-REP (11) or TGS-REP (13) with a ticket for sname in
// realm encrypted with ticketEtype, and an enc-part with encEtype.
func KrbReply(typ int, cname, realm string, sname []string, ticketEtype, encEtype int) []byte {
	ticket := der(0x61, krbSeq(krbCtx(0, krbInt(5)), krbCtx(1, krbStr(realm)), krbCtx(2, krbPrincipal(sname...)), krbCtx(3, krbEncData(ticketEtype))))
	return der(0x60|byte(typ), krbSeq(krbCtx(0, krbInt(5)), krbCtx(1, krbInt(typ)), krbCtx(3, krbStr(realm)),
		krbCtx(4, krbPrincipal(cname)), krbCtx(5, ticket), krbCtx(6, krbEncData(encEtype))))
}

// KrbError is a KRB-ERROR with code about sname in realm.
func KrbError(code int, realm string, sname ...string) []byte {
	return der(0x7e, krbSeq(krbCtx(0, krbInt(5)), krbCtx(1, krbInt(30)), krbCtx(4, krbTime("20260101000000Z")), krbCtx(5, krbInt(1)),
		krbCtx(6, krbInt(code)), krbCtx(9, krbStr(realm)), krbCtx(10, krbPrincipal(sname...))))
}

// KrbRecord frames a message for TCP: a 4-byte big-endian length first.
func KrbRecord(m []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(m))), m...)
}

// KerberoastSession is a TGS exchange over TCP (port of server, usually
// 88): alice@CORP.LOCAL asks for MSSQLSvc/db1.corp.local offering RC4
// only, and gets an RC4 service ticket. Each message goes in segments of
// at most 100 bytes, so records span segments.
func KerberoastSession(client, server netip.AddrPort, t time.Time) []Packet {
	req := KrbRecord(KrbRequest(12, nil, "CORP.LOCAL", []string{"MSSQLSvc", "db1.corp.local"}, []int{23}, 1, 128))
	rep := KrbRecord(KrbReply(13, "alice", "CORP.LOCAL", []string{"MSSQLSvc", "db1.corp.local"}, 23, 18))
	return NewTCPConn(client, server, t).Handshake().Data(true, req, 100).Data(false, rep, 100).Close().Packets
}

// krb5OID is the Kerberos V5 GSS-API mechanism (1.2.840.113554.1.2.2).
var krb5OID = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02}

// KrbAPReq is a GSS-API krb5 token (RFC 4121 §4.1) holding an AP-REQ for
// sname in realm: a ticket encrypted with ticketEtype, an authenticator
// with authEtype, the mutual-required AP option.
func KrbAPReq(realm string, sname []string, ticketEtype, authEtype int) []byte {
	ticket := der(0x61, krbSeq(krbCtx(0, krbInt(5)), krbCtx(1, krbStr(realm)), krbCtx(2, krbPrincipal(sname...)), krbCtx(3, krbEncData(ticketEtype))))
	ap := der(0x6e, krbSeq(krbCtx(0, krbInt(5)), krbCtx(1, krbInt(14)), krbCtx(2, der(0x03, []byte{0, 0x20, 0, 0, 0})),
		krbCtx(3, ticket), krbCtx(4, krbEncData(authEtype))))
	return der(0x60, krb5OID, []byte{1, 0}, ap)
}

// KrbAPRep is the GSS-API krb5 token of an AP-REP whose enc-part uses etype.
func KrbAPRep(etype int) []byte {
	rep := der(0x6f, krbSeq(krbCtx(0, krbInt(5)), krbCtx(1, krbInt(15)), krbCtx(2, krbEncData(etype))))
	return der(0x60, krb5OID, []byte{2, 0}, rep)
}

// KrbAPError is the GSS-API krb5 token of a KRB-ERROR (code) answering an
// AP-REQ for sname in realm.
func KrbAPError(code int, realm string, sname ...string) []byte {
	return der(0x60, krb5OID, []byte{3, 0}, KrbError(code, realm, sname...))
}
