package app

import (
	"time"

	pkrb "github.com/packetsleuth/packetsleuth/parsers/kerberos"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
)

// krbTimeout is how long a Kerberos request over UDP waits for its answer
// (packet time) before it is emitted unanswered (clients retry after a
// second or so, on a new port).
const krbTimeout = 10 * time.Second

// newKerberos returns the Kerberos parser of st's flow (TCP or UDP).
func (st *state) newKerberos() *pkrb.Conn {
	c := pkrb.NewConn(st.a.acct, st.emitKerberos)
	c.OnError = func(err error, ts time.Time) {
		st.a.stats.ParserErrors["kerberos"]++
		st.a.anom.Report(anomaly.ParserError, st.f, ts, err.Error())
	}
	c.OnLimit = func(detail string) { st.a.anom.Report(anomaly.MemoryLimit, st.f, st.f.Last(), detail) }
	return c
}

// emitKerberos maps one KDC exchange to an event of dataset
// packetsleuth.kerberos.
func (st *state) emitKerberos(x *pkrb.Exchange) {
	ts := x.RequestTime
	if x.Request == nil {
		ts = x.RespTime
	}
	ev := st.a.newEvent(st, schemas.DatasetKerberos, ts)
	ev.Network.Protocol = "kerberos"
	ev.Event.Start = ts
	k := &ev.Sensor.Kerberos
	var cname []string
	if q := x.Request; q != nil {
		k.Request = pkrb.MessageName(q.Type)
		ev.Event.Action = k.Request
		cname, k.Realm, k.ClientRealm = q.CName, q.Realm, q.Realm
		k.Service = pkrb.Principal(q.SName)
		k.RequestedEtypes = q.Etypes
		k.KDCOptions = pkrb.KDCOptionNames(q.KDCOptions)
		k.PADataTypes = q.PATypes
		k.PreAuth = q.PreAuth()
		k.From, k.Till, k.RenewTill = krbTime(q.From), krbTime(q.Till), krbTime(q.RTime)
	}
	if r := x.Response; r != nil {
		k.Response = pkrb.MessageName(r.Type)
		if x.Request == nil {
			ev.Event.Action = k.Response
			k.Realm = r.Realm
		} else {
			ev.Event.End = x.RespTime
			ev.Event.Duration = x.RespTime.Sub(x.RequestTime)
		}
		if len(cname) == 0 {
			cname = r.CName // a TGS-REQ names its client only inside the encrypted authenticator
		}
		if r.CRealm != "" {
			k.ClientRealm = r.CRealm
		}
		if k.Service == "" {
			k.Service = pkrb.Principal(r.SName)
		}
		if r.Type == pkrb.KRBError {
			k.ErrorCode, k.ErrorName = r.ErrorCode, pkrb.ErrorName(r.ErrorCode)
			ev.Event.Outcome = "failure"
			ev.Event.Reason = k.ErrorName
		} else {
			k.TicketEtype, k.ReplyEtype = r.TicketEtype, r.EncEtype
			k.TicketCipher = pkrb.EtypeName(r.TicketEtype)
			ev.Event.Outcome = "success"
		}
	}
	k.ClientName = pkrb.Principal(cname)
	if k.ClientName != "" {
		k.Client = pkrb.PrincipalAt(cname, k.ClientRealm)
		ev.Related.User = one(&st.a.scr.users, k.ClientName)
	}
	ev.Sensor.Notes = x.Notes
	for _, m := range []*pkrb.Message{x.Request, x.Response} {
		if m != nil {
			ev.Sensor.Notes = append(ev.Sensor.Notes, m.Notes...)
		}
	}
	st.a.emit(ev)
}

func krbTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// noteKrbClient says why a Kerberos-authenticated event has no user.
const noteKrbClient = "kerberos.client_encrypted: the client's name and realm are in the AP-REQ's encrypted authenticator"

// krbAP fills an AP exchange seen inside another protocol from the
// client's AP-REQ and the server's AP-REP or KRB-ERROR (either may be nil).
func krbAP(x *schemas.KerberosAP, req, rep *pkrb.Message) {
	if req != nil {
		x.Service, x.Realm = pkrb.Principal(req.SName), req.Realm
		x.TicketEtype, x.AuthenticatorEtype = req.TicketEtype, req.EncEtype
		x.TicketCipher = pkrb.EtypeName(req.TicketEtype)
		x.APOptions = pkrb.APOptionNames(req.APOptions)
	}
	if rep != nil {
		x.Response = pkrb.MessageName(rep.Type)
		if rep.Type == pkrb.KRBError {
			x.ErrorCode, x.ErrorName = rep.ErrorCode, pkrb.ErrorName(rep.ErrorCode)
		}
	}
}
