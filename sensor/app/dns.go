package app

import (
	"time"

	"github.com/packetsleuth/packetsleuth/parsers/dns"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
)

// newDNS returns the DNS state of st's flow (UDP or TCP): its messages are
// decoded into the analyzer's one Message, their names and data kept in
// the analyzer's one table.
func (st *state) newDNS() *dns.Conn {
	a := st.a
	if c, ok := a.dnsConns.Get(); ok {
		c.ResetHandler(a.cfg.DNSPending, (*dnsHandler)(st), &a.dnsMsg, &a.dnsNames)
		return c
	}
	return dns.NewConnHandler(a.cfg.DNSPending, (*dnsHandler)(st), &a.dnsMsg, &a.dnsNames)
}

// dnsDatagram pairs one datagram of a UDP DNS flow. The flow holds a Conn
// only while queries wait for their responses: most DNS flows stay open
// long after their one transaction, and a Conn (with its Pairer) each was
// an allocation per flow (bench-large: 12k) and memory the budget does
// not see. A Conn without pending queries holds nothing of the flow (its
// counters are not read), so the next datagram's may be another.
func (st *state) dnsDatagram(p *decode.Packet) {
	if st.dns == nil {
		st.dns = st.newDNS()
	}
	c := st.dns
	_ = c.Datagram(p.Payload, p.Timestamp) // errors go to dnsHandler.ParseError
	if c.Pairer.Pending() > 0 {
		c.Pairer.Expire(p.Timestamp, dnsTimeout) // unanswered queries, in packet time
	}
	if c.Pairer.Pending() == 0 {
		st.a.keepDNS(c)
		st.dns = nil
	}
}

// dnsHandler is a flow's state as the dns.Handler of its Conn.
type dnsHandler state

// ParseError counts a message that did not parse and reports it as an
// anomaly; the message still gives its event, with a note (see Transaction).
func (h *dnsHandler) ParseError(err error, ts time.Time) {
	st := (*state)(h)
	st.a.stats.ParserErrors["dns"]++
	st.a.anom.Report(anomaly.ParserError, st.f, ts, err.Error())
}

// Transaction maps one DNS transaction to an ECS event.
func (h *dnsHandler) Transaction(tx *dns.Transaction) {
	st := (*state)(h)
	a := st.a
	m := tx.Query
	ts := tx.QueryTime
	if m == nil {
		m, ts = tx.Response, tx.ResponseTime
	}
	ev := a.newEvent(st, schemas.DatasetDNS, ts)
	ev.Network.Protocol = "dns"
	ev.Event.Start = ts
	d := &ev.DNS
	d.ID = m.IDText
	d.OpCode = dns.OpcodeName(m.Opcode)
	d.Type = "query"
	if len(m.Questions) > 0 {
		q := m.Questions[0]
		d.Question.Name = q.Name
		d.Question.Type = dns.TypeName(q.Type)
		d.Question.Class = dns.ClassName(q.Class)
		d.Question.RegisteredDomain, d.Question.Subdomain, d.Question.TopLevelDomain = a.splitName(q.Name)
	}
	if r := tx.Response; r != nil {
		d.Type = "answer"
		d.ResponseCode = dns.RCodeName(r.RCode)
		d.HeaderFlags = r.AppendHeaderFlags(a.scr.flags[:0])
		a.scr.flags = d.HeaderFlags
		answers, resolved := a.scr.answers[:0], a.scr.resolved[:0]
		for _, rr := range r.Answers {
			answers = append(answers, schemas.DNSAnswer{
				Name: rr.Name, Type: dns.TypeName(rr.Type), Class: dns.ClassName(rr.Class), TTL: int64(rr.TTL), Data: rr.Data,
			})
			if rr.Type == dns.TypeA || rr.Type == dns.TypeAAAA {
				resolved = append(resolved, rr.Data)
			}
		}
		a.scr.answers, a.scr.resolved = answers, resolved
		if len(answers) > 0 {
			d.Answers = answers
		}
		if len(resolved) > 0 {
			d.ResolvedIP = resolved
		}
		ev.Event.End = tx.ResponseTime
		if tx.Query != nil {
			ev.Event.Duration = tx.ResponseTime.Sub(tx.QueryTime)
		}
		ev.Event.Outcome = "success"
		if r.RCode != 0 {
			ev.Event.Outcome = "failure"
		}
	} else {
		d.HeaderFlags = m.AppendHeaderFlags(a.scr.flags[:0])
		a.scr.flags = d.HeaderFlags
	}
	if len(d.HeaderFlags) == 0 {
		d.HeaderFlags = nil // as before: an empty list is left out
	}
	if d.Question.Name != "" {
		ev.Related.Hosts = one(&a.scr.hosts, d.Question.Name)
	}
	ev.Sensor.Notes = tx.Notes
	a.emitGroups(ev, DNSEventGroups)
}

// DNSEventGroups are the groups of a DNS event: those of the flow's
// network fields (newEvent) and the DNS object; Notes is a field of the
// packetsleuth object, not one of its groups.
const DNSEventGroups = flow.EventGroups | schemas.GroupDNS
