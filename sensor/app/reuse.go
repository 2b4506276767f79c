package app

import (
	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/parsers/dns"
	phttp "github.com/packetsleuth/packetsleuth/parsers/http"
	ptls "github.com/packetsleuth/packetsleuth/parsers/tls"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
	"github.com/packetsleuth/packetsleuth/sensor/reassembly"
)

// maxFree is how many ended flows' streams an analyzer keeps for its next
// flows: enough for the flows a timeout sweep ends at once to serve the
// ones that start after it, and a fixed amount of memory (a few hundred
// KiB) held outside the budget, which pays for live flows only.
const maxFree = 256

// maxKeptStreams is how many ended flows' streams an analyzer keeps: the
// first maxFree outside the budget, each past them still paid for on it
// (streamBytes), as the states (bench-large made 791 streams a run with
// 256 kept). Shed gives the paid ones back.
const maxKeptStreams = 2048

// maxKeptStates is how many ended flows' states an analyzer keeps, each
// still paid for on the budget (as the flow table keeps its ended flows):
// bench-large's live states peak at about 12,000 and fall back between
// bursts, and each new one was an allocation (17,577 a run with 256
// kept). At most 4,096 × stateBytes (about 1.5 MiB) a worker; Shed gives
// them back to a worker that starves.
const maxKeptStates = 4096

// newFlowState returns empty state for flow f: an ended flow's, or new.
func (a *Analyzer) newFlowState(f *flow.Flow) *state {
	if st, ok := a.states.Get(); ok {
		st.a, st.f = a, f
		return st
	}
	return &state{a: a, f: f}
}

// newStream returns a stream delivering to p: an ended flow's, or new.
func (a *Analyzer) newStream(p parsers.StreamParser) *reassembly.Stream {
	paid := a.streams.Len() > maxFree
	if s, ok := a.streams.Get(); ok {
		if paid { // the flow paid for its stream already
			a.acct.Release(budget.Parsers, streamBytes)
		}
		a.asm.InitStream(s, p)
		return s
	}
	return a.asm.NewStream(p)
}

// recycle keeps an ended flow's state and stream for the next flows, and
// gives back to the budget what they cost (paid: the state, and the
// stream if it has one) but a kept state's bytes. Its flow no longer
// points at it, and nothing of the old flow is left in it: the state is
// zeroed here and the stream by InitStream (the reassembler's
// retransmission history may still name the stream: it checks a stream's
// deliveries are its own before it writes).
func (a *Analyzer) recycle(st *state, paid int64) {
	st.f.App = nil
	if a.noReuse || a.shedding {
		a.acct.Release(budget.Parsers, paid)
		return
	}
	if st.stream != nil && a.streams.Len() < maxKeptStreams {
		if a.streams.Len() >= maxFree {
			paid -= streamBytes
		}
		a.streams.Put(st.stream, maxKeptStreams)
	}
	if st.dns != nil {
		a.keepDNS(st.dns)
	}
	switch c := st.det.parser.(type) {
	case *dns.Conn: // DNS over TCP
		a.keepDNS(c)
	case *ptls.Conn:
		c.Release() // to a.cfg.TLS.Pool
	case *phttp.Conn:
		c.Release() // to a.httpPool
	}
	*st = state{}
	if a.states.Len() < maxKeptStates {
		a.states.Put(st, maxKeptStates)
		paid -= stateBytes
	}
	a.acct.Release(budget.Parsers, paid)
}

// Shed gives the budget back the states, streams and HTTP slots kept for
// reuse while over() holds, and reports whether it gave any back. Then,
// if over() still holds, it calls evict (the flow table's Shed: live
// flows go) with nothing kept of the flows evicted, whose bytes would
// otherwise move into the kept lists instead of going back.
func (a *Analyzer) Shed(over func() bool, evict func()) bool {
	gave := false
	for a.states.Len() > 0 && over() {
		a.states.Get()
		a.acct.Release(budget.Parsers, stateBytes)
		gave = true
	}
	for a.streams.Len() > maxFree && over() {
		a.streams.Get()
		a.acct.Release(budget.Parsers, streamBytes)
		gave = true
	}
	if a.httpPool.Shed(over) {
		gave = true
	}
	if evict != nil && over() {
		a.shedding = true
		a.httpPool.SetShedding(true)
		evict()
		a.httpPool.SetShedding(false)
		a.shedding = false
	}
	return gave
}

// keepDNS keeps a DNS Conn its flow is done with for the next DNS flows.
func (a *Analyzer) keepDNS(c *dns.Conn) {
	if !a.noReuse {
		a.dnsConns.Put(c, maxFree)
	}
}

// tlsHandler is a flow's state as the handler of its TLS Conn, and
// httpHandler as that of its HTTP Conn: a pointer in an interface, where
// a method value would be an allocation per connection.
type (
	tlsHandler  state
	httpHandler state
)

func (h *tlsHandler) Handshake(hs *ptls.Handshake)       { (*state)(h).emitTLS(hs) }
func (h *httpHandler) Transaction(tx *phttp.Transaction) { (*state)(h).emitHTTP(tx) }
