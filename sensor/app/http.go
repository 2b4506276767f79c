package app

import (
	"github.com/packetsleuth/packetsleuth/internal/budget"
	phttp "github.com/packetsleuth/packetsleuth/parsers/http"
	"github.com/packetsleuth/packetsleuth/parsers/ntlm"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
)

// httpConfig is the HTTP parsers' configuration: their body decoders and
// held tunnel bytes draw on the worker's budget. Without one, an account of
// the analyzer's own still bounds the decoders open at once.
func (a *Analyzer) httpConfig() phttp.Config {
	cfg := a.cfg.HTTP
	cfg.Budget, cfg.Pool = a.acct, &a.httpPool
	if cfg.Budget == nil {
		if a.decoders == nil {
			a.decoders = budget.New(0).NewAccount()
		}
		cfg.Budget = a.decoders
	}
	return cfg
}

// emitHTTP maps one request/response pair to an ECS event.
func (st *state) emitHTTP(tx *phttp.Transaction) {
	a := st.a
	req, resp := &tx.Request, &tx.Response
	ts := req.Start
	if tx.RequestMissing {
		ts = resp.Start
	}
	ev := a.newEvent(st, schemas.DatasetHTTP, ts)
	ev.Event.Category = categoryWeb
	ev.Network.Protocol = "http"
	ev.Event.Start = ts
	h := &ev.HTTP
	if !tx.RequestMissing {
		h.Version = req.Version
		h.Request.Method = req.Method
		h.Request.Bytes = int64(req.HeaderBytes) + req.BodyWireBytes
		h.Request.Body.Bytes = req.BodyBytes
		h.Request.MimeType = req.MimeType
		h.Request.Referrer = req.Referer
		port := st.f.Resp().Port
		if st.tunnel != "" {
			port = st.tunnelPort
		}
		u := phttp.SplitURL(req.URI, req.Host, "http", port)
		ev.URL = schemas.URL{Original: u.Original, Scheme: u.Scheme, Domain: u.Domain, Port: u.Port, Path: u.Path, Query: u.Query, Fragment: u.Fragment}
		ev.UserAgent.Original = req.UserAgent
		if u.Domain != "" {
			ev.Related.Hosts = one(&a.scr.hosts, u.Domain)
		}
		if req.AuthUser != "" {
			ev.Related.User = one(&a.scr.users, req.AuthUser)
		}
	}
	if !tx.ResponseMissing {
		if h.Version == "" {
			h.Version = resp.Version
		}
		h.Response.StatusCode = resp.StatusCode
		h.Response.Bytes = int64(resp.HeaderBytes) + resp.BodyWireBytes
		h.Response.Body.Bytes = resp.BodyBytes
		h.Response.MimeType = resp.MimeType
		ev.Event.End = resp.End
		ev.Event.Duration = resp.End.Sub(ts)
		ev.Event.Outcome = "success"
		if resp.StatusCode >= 400 {
			ev.Event.Outcome = "failure"
		}
	}
	hi := &ev.Sensor.HTTP
	hi.Transaction = int64(tx.Seq)
	hi.AuthScheme, hi.Continue100, hi.Tunnel = req.AuthScheme, tx.Continue100, tx.Tunnel
	hi.TunnelTarget = st.tunnel
	httpNTLM(ev, req, resp)
	a.httpHeaders(ev, req, resp)
	if tx.Upgraded {
		hi.Upgrade = tx.UpgradeProtocol
	}
	if req.ContentEncoding != "" && req.BodyDecodedBytes >= 0 {
		hi.RequestBodyDecodedBytes = req.BodyDecodedBytes
	}
	if resp.ContentEncoding != "" && resp.BodyDecodedBytes >= 0 {
		hi.ResponseBodyDecodedBytes = resp.BodyDecodedBytes
	}
	ev.Sensor.Notes = tx.Notes
	if ok, note := st.inspectSwitch(tx); !ok {
		ev.Sensor.Notes = append(tx.Notes[:len(tx.Notes):len(tx.Notes)], note)
	}
	if tx.DecoderLimited {
		a.anom.Report(anomaly.DecoderLimit, st.f, ts, "body counted, not decoded: no budget for its decoder")
	}
	a.emitGroups(ev, HTTPEventGroups)
}

// HTTPEventGroups are the groups of an HTTP event: those of the flow's
// network fields (newEvent), the http, url, user_agent and user (NTLM's
// authenticated user) objects, and the packetsleuth http and ntlm objects.
const HTTPEventGroups = flow.EventGroups | schemas.GroupHTTP | schemas.GroupURL | schemas.GroupUserAgent |
	schemas.GroupUser | schemas.GroupSensorHTTP | schemas.GroupSensorNTLM

// httpNTLM fills user.* and packetsleuth.ntlm from the NTLMSSP messages of
// an NTLM/Negotiate Authorization and WWW-Authenticate (names and flags;
// the parser keeps no response or key).
func httpNTLM(ev *schemas.Event, req *phttp.Request, resp *phttp.Response) {
	var types uint8
	var client, challenge *ntlm.Message
	if req.NTLM.Type != 0 {
		types |= 1 << req.NTLM.Type
		client = &req.NTLM
	}
	if resp.NTLM.Type != 0 {
		types |= 1 << resp.NTLM.Type
		challenge = &resp.NTLM
	}
	if types == 0 {
		return
	}
	ntlmInfo(&ev.Sensor.NTLM, types, client, challenge)
	if req.NTLM.Type == ntlm.Authenticate {
		setUser(ev, req.NTLM.User, req.NTLM.Domain)
	}
}
