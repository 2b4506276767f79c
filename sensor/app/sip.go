package app

import (
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
	psip "github.com/packetsleuth/packetsleuth/parsers/sip"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// Notes on SIP events.
const (
	noteSIPBodyTruncated = "sip.body_truncated"
	noteSIPRepeated      = "sip.header_repeated"
)

// sipDatagram maps the SIP message of one UDP datagram to an event; a
// datagram of the flow that is not SIP is a counted parser error.
func (st *state) sipDatagram(p *decode.Packet) {
	a := st.a
	if err := psip.Parse(p.Payload, true, &a.sip); err != nil {
		st.datagramError("sip", err, p.Timestamp)
		return
	}
	st.emitSIP(&a.sip, p.Timestamp)
}

// newSIP returns the TCP SIP parser of st's stream.
func (st *state) newSIP() *psip.Conn {
	return psip.NewConn(st.a.acct, func(_ parsers.Dir, m *psip.Message, ts time.Time) { st.emitSIP(m, ts) })
}

// emitSIP maps one SIP message to an event of dataset packetsleuth.sip.
func (st *state) emitSIP(m *psip.Message, ts time.Time) {
	ev := st.a.newEvent(st, schemas.DatasetSIP, ts)
	ev.Network.Protocol = "sip"
	x := &ev.Sensor.SIP
	if m.Method != nil {
		x.Type, x.Method = "request", string(m.Method)
		ev.URL.Original = string(m.URI)
	} else {
		x.Type, x.StatusCode, x.Reason = "response", m.Status, string(m.Reason)
		switch {
		case m.Status >= 200 && m.Status < 300:
			ev.Event.Outcome = "success"
		case m.Status >= 400:
			ev.Event.Outcome = "failure"
		}
	}
	x.From, x.To, x.Contact = string(psip.Addr(m.From)), string(psip.Addr(m.To)), string(psip.Addr(m.Contact))
	x.CallID, x.CSeq, x.CSeqMethod = string(m.CallID), string(m.CSeq), string(psip.CSeqMethod(m.CSeq))
	x.Via, x.Server, x.ContentType = string(m.Via), string(m.Server), string(m.ContentType)
	ev.UserAgent.Original = string(m.UserAgent)
	if m.TruncatedBody {
		ev.Sensor.Notes = append(ev.Sensor.Notes, noteSIPBodyTruncated)
	}
	if m.RepeatedHeaders {
		ev.Sensor.Notes = append(ev.Sensor.Notes, noteSIPRepeated)
	}
	st.a.emit(ev)
}

// sipSniff tells whether a datagram is a SIP message (a datagram is
// whole: a first line still undecided is not SIP).
func sipSniff(b []byte) bool {
	_, v := psip.Sniff(b)
	return v == parsers.Yes
}
