package app

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
	pdcerpc "github.com/packetsleuth/packetsleuth/parsers/dcerpc"
	pkrb "github.com/packetsleuth/packetsleuth/parsers/kerberos"
	"github.com/packetsleuth/packetsleuth/parsers/ntlm"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
)

// newDCERPC returns a DCE/RPC parser for st's flow: of its TCP stream
// (pipe ""), or of the SMB named pipe pipe, fed the bytes written to it as
// ToServer and those read from it as ToClient (one parser per open pipe).
func (st *state) newDCERPC(pipe string) *pdcerpc.Conn {
	auth := &dcerpcAuth{}
	c := pdcerpc.NewConn(st.a.acct, func(call *pdcerpc.Call) { st.emitDCERPC(call, pipe, auth) })
	c.OnLimit = func(detail string) { st.a.anom.Report(anomaly.MemoryLimit, st.f, st.f.Last(), detail) }
	c.OnAuth = auth.add
	return c
}

// dcerpcAuth keeps the NTLMSSP messages (names and flags only: the
// parser keeps no response or key) and the Kerberos AP exchange of a
// DCE/RPC connection's binds, alter_contexts and auth3, for the calls
// that follow them.
type dcerpcAuth struct {
	types             uint8
	client, challenge ntlm.Message
	krbReq, krbRep    *pkrb.Message
}

func (n *dcerpcAuth) add(a *pdcerpc.Auth) {
	var m ntlm.Message
	switch a.Type {
	case 10: // NTLMSSP
		var err error
		if m, err = ntlm.Parse(a.Value); err != nil {
			return
		}
	case 9, 16: // SPNEGO, which may wrap NTLMSSP or Kerberos; Kerberos
		b := ntlm.FindInBlob(a.Value)
		if b.Mech != ntlm.MechNTLM {
			n.kerberos(a.Dir, a.Value)
			return
		}
		if b.Err != nil {
			return
		}
		m = b.NTLM
	default:
		return
	}
	if m.Type < ntlm.Negotiate || m.Type > ntlm.Authenticate {
		return
	}
	n.types |= 1 << m.Type
	if m.Type == ntlm.Challenge {
		n.challenge = m
	} else if m.Type == ntlm.Authenticate || n.client.Type != ntlm.Authenticate {
		n.client = m
	}
}

// kerberos keeps the client's AP-REQ and the server's answer to it (in
// DCE-style mutual authentication the client sends an AP-REP of its own
// after the server's: not an answer).
func (n *dcerpcAuth) kerberos(d parsers.Dir, token []byte) {
	m, err := pkrb.ParseBlob(token)
	switch {
	case err != nil:
	case d == parsers.ToServer && m.Type == pkrb.APReq:
		n.krbReq, n.krbRep = m, nil
	case d == parsers.ToClient:
		n.krbRep = m
	}
}

// fill puts the connection's NTLM names and Kerberos AP exchange on a
// call's event.
func (n *dcerpcAuth) fill(ev *schemas.Event) {
	if n.krbReq != nil || n.krbRep != nil {
		krbAP(&ev.Sensor.DCERPC.Kerberos, n.krbReq, n.krbRep)
		ev.Sensor.Notes = append(ev.Sensor.Notes, noteKrbClient)
	}
	if n.types == 0 {
		return
	}
	var client, challenge *ntlm.Message
	if n.client.Type != 0 {
		client = &n.client
	}
	if n.challenge.Type != 0 {
		challenge = &n.challenge
	}
	ntlmInfo(&ev.Sensor.NTLM, n.types, client, challenge)
	if n.client.Type == ntlm.Authenticate {
		setUser(ev, n.client.User, n.client.Domain)
	}
}

// expect records a TCP endpoint the endpoint mapper announced; one
// without an address is on the mapper's own host.
func (st *state) expect(e pdcerpc.Endpoint, ts time.Time) {
	if e.Proto != "tcp" {
		return
	}
	ip, err := netip.ParseAddr(e.IP)
	if err != nil {
		ip = st.f.Resp().IP
	}
	st.a.cfg.Expect.Add(netip.AddrPortFrom(ip, e.Port), ts)
}

var (
	authTypeNames  = map[uint8]string{9: "spnego", 10: "ntlmssp", 16: "kerberos", 68: "netlogon", 14: "schannel"}
	authLevelNames = map[uint8]string{1: "none", 2: "connect", 3: "call", 4: "pkt", 5: "integrity", 6: "privacy"}
)

// emitDCERPC maps one DCE/RPC call to an event of dataset
// packetsleuth.dcerpc; pipe names the SMB named pipe that carried it.
func (st *state) emitDCERPC(call *pdcerpc.Call, pipe string, auth *dcerpcAuth) {
	ev := st.a.newEvent(st, schemas.DatasetDCERPC, call.Start)
	ev.Network.Protocol = "dcerpc"
	ev.Event.Start = call.Start
	if call.Answered {
		ev.Event.End = call.End
		ev.Event.Duration = call.End.Sub(call.Start)
	}
	x := &ev.Sensor.DCERPC
	x.Kind, x.CallID, x.Pipe = call.Kind, int64(call.CallID), pipe
	x.Answered = call.Answered
	x.RequestFragments, x.ResponseFragments = call.RequestFrags, call.ResponseFrags
	x.RequestBytes, x.ResponseBytes = call.RequestBytes, call.ResponseBytes
	if call.AuthType != 0 {
		x.AuthType = authTypeNames[call.AuthType]
		if x.AuthType == "" {
			x.AuthType = fmt.Sprint(call.AuthType)
		}
		x.AuthLevel = authLevelNames[call.AuthLevel]
	}
	auth.fill(ev)
	ev.Event.Action = call.Kind
	switch call.Kind {
	case pdcerpc.KindRequest:
		x.Interface = schemas.DCERPCInterface{UUID: call.Interface, Name: call.InterfaceName, Version: call.InterfaceVersion}
		x.Opnum, x.Operation, x.ContextID = int(call.Opnum), call.Operation, int(call.ContextID)
		if call.Operation != "" {
			ev.Event.Action = call.Operation
		}
		switch {
		case call.Fault:
			x.FaultStatus = fmt.Sprintf("0x%08x", call.FaultStatus)
			ev.Event.Outcome = "failure"
		case call.Answered:
			ev.Event.Outcome = "success"
		}
		for _, e := range call.Endpoints {
			st.expect(e, call.End)
			x.Endpoints = append(x.Endpoints, schemas.DCERPCEndpoint{
				UUID: e.Interface, Name: pdcerpc.InterfaceName(e.Interface), Transport: e.Proto, IP: e.IP, Port: int(e.Port),
			})
		}
	default:
		accepted := false
		for _, c := range call.Contexts {
			x.Contexts = append(x.Contexts, schemas.DCERPCContext{ID: int(c.ID), UUID: c.Interface, Name: c.Name, Version: c.Version, Result: c.Result})
			accepted = accepted || c.Result == "acceptance"
		}
		if len(call.Contexts) > 0 {
			c := call.Contexts[0]
			x.Interface = schemas.DCERPCInterface{UUID: c.Interface, Name: c.Name, Version: c.Version}
		}
		switch {
		case call.Rejected || call.Answered && !accepted:
			ev.Event.Outcome = "failure"
		case call.Answered:
			ev.Event.Outcome = "success"
		}
	}
	ev.Sensor.Notes = append(ev.Sensor.Notes, call.Notes...)
	st.a.emit(ev)
}
