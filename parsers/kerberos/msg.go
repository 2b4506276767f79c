package kerberos

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Message types (RFC 4120 §5.10).
const (
	ASReq    = 10
	ASRep    = 11
	TGSReq   = 12
	TGSRep   = 13
	KRBError = 30
)

// Pre-authentication data types that carry proof of the client's key.
const (
	paTGSReq       = 1
	paEncTimestamp = 2
	paPKASReqOld   = 14
	paPKASReq      = 16
	paFXFast       = 136
)

// Bounds on the lists read from one message.
const (
	maxEtypes = 32
	maxPAData = 16
	maxNames  = 8
)

// Message is what a Kerberos message shows in the clear. Encrypted parts
// are never read: only their encryption types are reported.
type Message struct {
	Type int
	// Realm is the request's (service) realm, a reply ticket's realm or a
	// KRB-ERROR's realm; CRealm a reply's or error's client realm.
	Realm, CRealm string
	CName, SName  []string
	// Request fields.
	KDCOptions        uint32 // bit 0 is the first bit of the BIT STRING (RFC 4120 §5.4.1)
	Etypes            []int
	PATypes           []int
	From, Till, RTime time.Time
	// Reply fields: the ticket's and the enc-part's encryption types
	// (for an AP-REQ, the ticket's and the authenticator's; for an AP-REP,
	// its enc-part's).
	TicketEtype, EncEtype int
	// APOptions of an AP-REQ; bit 0 is the first bit of the BIT STRING.
	APOptions uint32
	// KRB-ERROR fields.
	ErrorCode int
	// Notes on what did not fit a bound.
	Notes []string
}

// PreAuth tells whether a request carried proof of the client's key:
// an encrypted timestamp, PKINIT, or FAST armour (which hides the rest).
func (m *Message) PreAuth() bool {
	for _, t := range m.PATypes {
		switch t {
		case paEncTimestamp, paPKASReqOld, paPKASReq, paFXFast:
			return true
		}
	}
	return false
}

// IsRequest tells an AS-REQ or TGS-REQ.
func (m *Message) IsRequest() bool { return m.Type == ASReq || m.Type == TGSReq }

// Parse reads one Kerberos message: an AS-REQ, AS-REP, TGS-REQ, TGS-REP or
// KRB-ERROR, wholly and with nothing after it. Other application tags
// (AP-REQ, KRB-PRIV...) are errors: a KDC exchange does not carry them
// bare.
func Parse(b []byte) (*Message, error) {
	app, rest, err := readTLV(b)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("kerberos: %d bytes after the message", len(rest))
	}
	if app.class != 1 || !app.constructed {
		return nil, fmt.Errorf("kerberos: not an application tag")
	}
	seq, err := universal(app.val, tagSequence)
	if err != nil {
		return nil, err
	}
	m := &Message{Type: app.tag}
	switch app.tag {
	case ASReq, TGSReq:
		err = m.kdcReq(seq)
	case ASRep, TGSRep:
		err = m.kdcRep(seq)
	case KRBError:
		err = m.krbError(seq)
	default:
		return nil, fmt.Errorf("kerberos: application tag %d", app.tag)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// header checks pvno (5) and msg-type (the application tag) in f[pv] and
// f[pv+1].
func (m *Message) header(f [][]byte, pv int) error {
	if f[pv] == nil || f[pv+1] == nil {
		return fmt.Errorf("kerberos: pvno or msg-type missing")
	}
	v, err := integer(f[pv])
	if err != nil || v != 5 {
		return fmt.Errorf("kerberos: pvno %d (%v)", v, err)
	}
	t, err := integer(f[pv+1])
	if err != nil || t != int64(m.Type) {
		return fmt.Errorf("kerberos: msg-type %d in application %d (%v)", t, m.Type, err)
	}
	return nil
}

// kdcReq: pvno [1], msg-type [2], padata [3], req-body [4].
func (m *Message) kdcReq(seq []byte) error {
	var f [5][]byte
	if err := fields(seq, f[:]); err != nil {
		return err
	}
	if err := m.header(f[:], 1); err != nil {
		return err
	}
	if f[3] != nil {
		pas, more, err := sequenceOf(f[3], maxPAData)
		if err != nil {
			return fmt.Errorf("kerberos: padata: %w", err)
		}
		if more {
			m.note(fmt.Sprintf("more than %d pre-authentication entries", maxPAData))
		}
		m.PATypes = make([]int, 0, len(pas))
		for _, pa := range pas {
			if t, ok := paType(pa); ok {
				m.PATypes = append(m.PATypes, t)
			}
		}
	}
	if f[4] == nil {
		return fmt.Errorf("kerberos: req-body missing")
	}
	body, err := universal(f[4], tagSequence)
	if err != nil {
		return fmt.Errorf("kerberos: req-body: %w", err)
	}
	return m.reqBody(body)
}

// reqBody: kdc-options [0], cname [1], realm [2], sname [3], from [4],
// till [5], rtime [6], nonce [7], etype [8], ...
func (m *Message) reqBody(body []byte) error {
	var f [9][]byte
	if err := fields(body, f[:]); err != nil {
		return err
	}
	if f[0] == nil || f[2] == nil || f[8] == nil {
		return fmt.Errorf("kerberos: req-body lacks kdc-options, realm or etype")
	}
	bits, err := universal(f[0], tagBitString)
	if err != nil || len(bits) < 1 {
		return fmt.Errorf("kerberos: kdc-options: %v", err)
	}
	for i, c := range bits[1:min(len(bits), 5)] {
		m.KDCOptions |= uint32(c) << (24 - 8*i)
	}
	if m.Realm, err = kstring(f[2]); err != nil {
		return err
	}
	if f[1] != nil {
		if m.CName, err = m.principal(f[1]); err != nil {
			return err
		}
	}
	if f[3] != nil {
		if m.SName, err = m.principal(f[3]); err != nil {
			return err
		}
	}
	for i, t := range []*time.Time{&m.From, &m.Till, &m.RTime} {
		if b := f[4+i]; b != nil {
			if *t, err = ktime(b); err != nil {
				return err
			}
		}
	}
	ets, more, err := sequenceOf(f[8], maxEtypes)
	if err != nil {
		return fmt.Errorf("kerberos: etype: %w", err)
	}
	if more {
		m.note(fmt.Sprintf("more than %d encryption types", maxEtypes))
	}
	m.Etypes = make([]int, 0, len(ets))
	for _, e := range ets {
		v, err := integer(e)
		if err != nil {
			return fmt.Errorf("kerberos: etype: %w", err)
		}
		m.Etypes = append(m.Etypes, int(v))
	}
	return nil
}

// kdcRep: pvno [0], msg-type [1], padata [2], crealm [3], cname [4],
// ticket [5], enc-part [6].
func (m *Message) kdcRep(seq []byte) error {
	var f [7][]byte
	if err := fields(seq, f[:]); err != nil {
		return err
	}
	if err := m.header(f[:], 0); err != nil {
		return err
	}
	if f[3] == nil || f[4] == nil || f[5] == nil || f[6] == nil {
		return fmt.Errorf("kerberos: reply lacks crealm, cname, ticket or enc-part")
	}
	var err error
	if m.CRealm, err = kstring(f[3]); err != nil {
		return err
	}
	if m.CName, err = m.principal(f[4]); err != nil {
		return err
	}
	if m.EncEtype, err = encEtype(f[6]); err != nil {
		return err
	}
	return m.ticket(f[5])
}

// ticket reads Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno [0], realm
// [1], sname [2], enc-part [3] } into Realm, SName and TicketEtype.
func (m *Message) ticket(b []byte) error {
	tk, rest, err := readTLV(b)
	if err != nil || len(rest) != 0 || tk.class != 1 || tk.tag != 1 {
		return fmt.Errorf("kerberos: ticket is not [APPLICATION 1] (%v)", err)
	}
	ts, err := universal(tk.val, tagSequence)
	if err != nil {
		return fmt.Errorf("kerberos: ticket: %w", err)
	}
	var tf [4][]byte
	if err := fields(ts, tf[:]); err != nil {
		return err
	}
	if tf[1] == nil || tf[2] == nil || tf[3] == nil {
		return fmt.Errorf("kerberos: ticket lacks realm, sname or enc-part")
	}
	if m.Realm, err = kstring(tf[1]); err != nil {
		return err
	}
	if m.SName, err = m.principal(tf[2]); err != nil {
		return err
	}
	m.TicketEtype, err = encEtype(tf[3])
	return err
}

// krbError: pvno [0], msg-type [1], ctime [2], cusec [3], stime [4],
// susec [5], error-code [6], crealm [7], cname [8], realm [9], sname [10].
func (m *Message) krbError(seq []byte) error {
	var f [11][]byte
	if err := fields(seq, f[:]); err != nil {
		return err
	}
	if err := m.header(f[:], 0); err != nil {
		return err
	}
	if f[6] == nil || f[9] == nil || f[10] == nil {
		return fmt.Errorf("kerberos: KRB-ERROR lacks error-code, realm or sname")
	}
	code, err := integer(f[6])
	if err != nil {
		return err
	}
	m.ErrorCode = int(code)
	if m.Realm, err = kstring(f[9]); err != nil {
		return err
	}
	if m.SName, err = m.principal(f[10]); err != nil {
		return err
	}
	if f[7] != nil {
		if m.CRealm, err = kstring(f[7]); err != nil {
			return err
		}
	}
	if f[8] != nil {
		if m.CName, err = m.principal(f[8]); err != nil {
			return err
		}
	}
	return nil
}

// principal reads PrincipalName ::= SEQUENCE { name-type [0], name-string [1] SEQUENCE OF KerberosString }.
func (m *Message) principal(b []byte) ([]string, error) {
	seq, err := universal(b, tagSequence)
	if err != nil {
		return nil, fmt.Errorf("kerberos: principal: %w", err)
	}
	var f [2][]byte
	if err := fields(seq, f[:]); err != nil {
		return nil, err
	}
	if f[1] == nil {
		return nil, fmt.Errorf("kerberos: principal without name-string")
	}
	elems, more, err := sequenceOf(f[1], maxNames)
	if err != nil {
		return nil, fmt.Errorf("kerberos: name-string: %w", err)
	}
	if more {
		m.note(fmt.Sprintf("principal of more than %d components", maxNames))
	}
	names := make([]string, 0, len(elems))
	for _, e := range elems {
		s, err := kstring(e)
		if err != nil {
			return nil, err
		}
		names = append(names, s)
	}
	return names, nil
}

// kstring reads a KerberosString (GeneralString; some clients send other
// string types, which are taken as they are).
func kstring(b []byte) (string, error) {
	t, rest, err := readTLV(b)
	if err != nil || len(rest) != 0 || t.class != 0 || t.constructed {
		return "", fmt.Errorf("kerberos: string: %v", err)
	}
	return string(t.val), nil
}

// ktime reads a KerberosTime (GeneralizedTime YYYYMMDDHHMMSSZ).
func ktime(b []byte) (time.Time, error) {
	v, err := universal(b, tagGenTime)
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse("20060102150405Z", string(v))
	if err != nil {
		return time.Time{}, fmt.Errorf("kerberos: time %q", v)
	}
	return t, nil
}

// encEtype reads the etype [0] of an EncryptedData SEQUENCE.
func encEtype(b []byte) (int, error) {
	seq, err := universal(b, tagSequence)
	if err != nil {
		return 0, fmt.Errorf("kerberos: enc-part: %w", err)
	}
	var f [3][]byte
	if err := fields(seq, f[:]); err != nil {
		return 0, err
	}
	if f[0] == nil || f[2] == nil {
		return 0, fmt.Errorf("kerberos: enc-part lacks etype or cipher")
	}
	v, err := integer(f[0])
	return int(v), err
}

// paType reads the padata-type [1] of a PA-DATA SEQUENCE.
func paType(b []byte) (int, bool) {
	seq, err := universal(b, tagSequence)
	if err != nil {
		return 0, false
	}
	var f [3][]byte
	if fields(seq, f[:]) != nil || f[1] == nil {
		return 0, false
	}
	v, err := integer(f[1])
	return int(v), err == nil
}

func (m *Message) note(n string) {
	if len(m.Notes) < 4 {
		m.Notes = append(m.Notes, n)
	}
}

// Principal joins name components with "/" in the display form of RFC
// 1964 (2.1.1), a '/' or '\' inside a component escaped with a '\': the
// components are the wire's, so without the escapes a service
// ["krbtgt/EVIL"] would read as the two components of a TGT's service. An
// '@' stays as it is: an enterprise name (NT-ENTERPRISE, a user's UPN) is
// one component "user@domain", as tshark shows it and Windows logs it;
// the realm is a field of its own. PrincipalAt gives the name with its
// realm.
func Principal(names []string) string { return joinEscaped(names, `/\`) }

// PrincipalAt is the whole principal name@realm of RFC 1964, an '@' inside
// a component escaped too (as MIT's krb5_unparse_name does), so that a
// client ["robin@EVIL"] cannot bring a realm of its own.
func PrincipalAt(names []string, realm string) string {
	return joinEscaped(names, `/@\`) + "@" + realm
}

// joinEscaped joins names with "/", each byte of special inside a name
// preceded by '\'; names without any are joined in one allocation.
func joinEscaped(names []string, special string) string {
	if !slices.ContainsFunc(names, func(n string) bool { return strings.ContainsAny(n, special) }) {
		return strings.Join(names, "/")
	}
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteByte('/')
		}
		for j := 0; j < len(n); j++ {
			if strings.IndexByte(special, n[j]) >= 0 {
				b.WriteByte('\\')
			}
			b.WriteByte(n[j])
		}
	}
	return b.String()
}
