// Package app is the sensor's application layer: per worker, it finds out
// which protocol each flow speaks (by content, not only by port), feeds the
// reassembled TCP streams and UDP datagrams to the parsers, and maps their
// results to ECS events.
package app

import (
	"maps"
	"net/netip"
	"time"
	"unsafe"

	"github.com/packetsleuth/packetsleuth/files"
	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/internal/freelist"
	"github.com/packetsleuth/packetsleuth/internal/intern"
	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/parsers/dhcp"
	"github.com/packetsleuth/packetsleuth/parsers/dns"
	phttp "github.com/packetsleuth/packetsleuth/parsers/http"
	pkrb "github.com/packetsleuth/packetsleuth/parsers/kerberos"
	"github.com/packetsleuth/packetsleuth/parsers/ntp"
	"github.com/packetsleuth/packetsleuth/parsers/quic"
	psip "github.com/packetsleuth/packetsleuth/parsers/sip"
	psmtp "github.com/packetsleuth/packetsleuth/parsers/smtp"
	"github.com/packetsleuth/packetsleuth/parsers/snmp"
	ptls "github.com/packetsleuth/packetsleuth/parsers/tls"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
	"github.com/packetsleuth/packetsleuth/sensor/reassembly"
)

// Config tunes the parsers and the reassembler.
type Config struct {
	HTTP       phttp.Config
	TLS        ptls.Config
	SMTP       psmtp.Config
	Reassembly reassembly.Config
	// DNSPending bounds the unanswered queries held per flow.
	DNSPending int
	// Expect is the table of endpoints announced for later connections
	// (DCE/RPC endpoint mapper answers, FTP data connections), shared by
	// the workers; nil: none is kept.
	Expect *Expectations
	// Files turns the files layer on (nil: off): the files parsers carry
	// become packetsleuth.file events.
	Files *files.Config
	// HTTPHeaders are the HTTP headers events keep (NewHeaderSelection;
	// the zero value keeps DefaultHTTPHeaders).
	HTTPHeaders HeaderSelection
}

// Stats counts what the application layer did.
type Stats struct {
	Detected     map[string]uint64 // flows by network.protocol
	ParserErrors map[string]uint64 // messages that did not parse (DNS) and streams a parser gave up on, by protocol
	Reassembly   reassembly.Stats
	Files        files.Stats
	Anomalies    anomaly.Counts // filled in by the worker, whose Reporter it is
}

// Analyzer is one worker's application layer; only that worker uses it.
type Analyzer struct {
	cfg  Config
	acct *budget.Account // the worker's share of the memory budget (UseBudget)
	// decoders counts the HTTP body decoders open when there is no acct.
	decoders *budget.Account
	asm      *reassembly.Assembler
	files    *files.Tracker  // nil: files layer off
	alerts   func() []string // rule ids of the alerts the last event emitted raised
	emit     func(*schemas.Event)
	anom     *anomaly.Reporter
	obs      *schemas.Observer
	ev       schemas.Event
	// evGroups are the groups of ev while it is emitted by a writer that
	// says which it wrote (EmitGroups), else 0
	evGroups schemas.Groups
	scr      scratch     // backing arrays of ev's slices
	texts    *flow.Texts // cuts the events' address strings (UseTexts)
	stats    Stats
	ja       []byte               // fingerprint scratch
	hdrs     []schemas.HTTPHeader // kept HTTP headers of the event being built
	dnsMsg   dns.Message          // every flow's DNS messages are decoded here
	dnsNames intern.Table         // and their names and data kept, on the budget (dnsNameSlots)
	// states and streams are ended flows' state and streams kept for the
	// next flows (reuse.go); noReuse turns that off (tests compare).
	states   freelist.List[*state]
	streams  freelist.List[*reassembly.Stream]
	dnsConns freelist.List[*dns.Conn]
	noReuse  bool
	shedding bool // Shed is evicting flows: keep nothing of them
	httpPool phttp.Pool
	splits   nameSplits // dns.question.* splits of recent names
	dhcp     dhcp.Message
	dhcp6    dhcp.Message6
	sip      psip.Message
	ntp      ntp.Message
	snmp     snmp.Message

	// deferKeep, if set, may take a stored file's keep decision, to make
	// once the alerts of its event are all known (DeferKeep).
	deferKeep func(at time.Time, keep func(fired []string) error) bool
}

// New returns an Analyzer that hands every event it makes to emit (valid
// only during the call) and reports anomalies to anom.
func New(cfg Config, obs *schemas.Observer, emit func(*schemas.Event), anom *anomaly.Reporter) *Analyzer {
	a := &Analyzer{
		cfg: cfg, asm: reassembly.NewAssembler(cfg.Reassembly), emit: emit, anom: anom, obs: obs,
		stats:    Stats{Detected: map[string]uint64{}, ParserErrors: map[string]uint64{}},
		dnsNames: intern.Table{Size: dnsNameSlots, Longest: dnsNameLongest},
		texts:    new(flow.Texts),
	}
	if cfg.Files != nil {
		a.files = files.NewTracker(*cfg.Files, nil)
	}
	if !cfg.TLS.SkipCertificates {
		a.cfg.TLS.Certs = ptls.NewCertCache(nil) // the worker's, its flows share it
	}
	a.cfg.TLS.Pool = new(ptls.Pool) // emitTLS keeps nothing of a Handshake
	return a
}

// Close gives back what the analyzer holds across flows (the certificate
// cache, the TLS strings kept, the remembered DNS name splits, the parked
// HTTP content decoders); call it once its flows have ended.
func (a *Analyzer) Close() {
	if a.cfg.TLS.Certs != nil {
		a.cfg.TLS.Certs.Release()
	}
	a.cfg.TLS.Pool.Forget()
	a.forgetSplits()
	a.dnsNames.Release()
	a.Shed(always, nil)
	a.asm.Close()
	a.httpPool.Close()
}

// Unhold is called before the payloads of the packets marked
// decode.Packet.Lasting go away: what the reassembler remembers of them
// for its retransmission check is hashed (reassembly.Assembler.Unhold,
// which says what to do after a memory fault).
func (a *Analyzer) Unhold() { a.asm.Unhold() }

// UseBudget makes the analyzer draw its per-flow state on acct, the
// worker's account: the state and stream struct of each inspected flow
// (pool Parsers) here, the pages the reassembler holds out of order (pool
// Reassembly); the parsers reach it as a.acct.
func (a *Analyzer) UseBudget(acct *budget.Account) {
	a.acct = acct
	a.asm.UseBudget(acct)
	a.dnsNames.UseBudget(acct)
	if a.cfg.TLS.Certs != nil {
		a.cfg.TLS.Certs.UseBudget(acct)
	}
	a.cfg.TLS.Pool.UseBudget(acct)
	if a.files != nil {
		a.files.UseBudget(acct)
	}
}

// UseAlerts gives the analyzer the rule ids of the alerts raised by the
// event it emitted last (called right after emit returns): the file store
// keeps files by them (files.store.when).
func (a *Analyzer) UseAlerts(fired func() []string) { a.alerts = fired }

// UseTexts has the analyzer's events cut their address strings from t,
// the worker's, which its flow events use too: a flow's events and its
// flow event then share one string while its block is the current one
// (flow.Texts).
func (a *Analyzer) UseTexts(t *flow.Texts) { a.texts = t }

// DeferKeep gives the analyzer later, which may take the keep decision of
// a stored file whose event's alerts are not all known yet (rules whose
// state spans workers decide later), right after the event is emitted:
// keep is then called with all of them; false, it is made now.
func (a *Analyzer) DeferKeep(later func(at time.Time, keep func(fired []string) error) bool) {
	a.deferKeep = later
}

// Stats returns a copy of the counters.
func (a *Analyzer) Stats() Stats {
	var s Stats
	a.StatsTo(&s)
	return s
}

// StatsTo copies the counters to s, into the maps s has: a publisher
// that keeps one Stats makes no maps a call. s.Anomalies is left as is.
func (a *Analyzer) StatsTo(s *Stats) {
	s.Detected = Refill(s.Detected, a.stats.Detected)
	s.ParserErrors = Refill(s.ParserErrors, a.stats.ParserErrors)
	s.Reassembly = a.asm.Stats()
	s.Files = files.Stats{}
	if a.files != nil {
		s.Files = a.files.Stats()
	}
}

// Refill empties dst and copies src into it; with no dst, a copy of src.
func Refill(dst, src map[string]uint64) map[string]uint64 {
	if dst == nil {
		return maps.Clone(src)
	}
	clear(dst)
	maps.Copy(dst, src)
	return dst
}

// Add sums o into s (totals over workers).
func (s *Stats) Add(o Stats) {
	if s.Detected == nil {
		s.Detected, s.ParserErrors = map[string]uint64{}, map[string]uint64{}
	}
	for k, v := range o.Detected {
		s.Detected[k] += v
	}
	for k, v := range o.ParserErrors {
		s.ParserErrors[k] += v
	}
	s.Reassembly.Add(o.Reassembly)
	s.Files.Add(o.Files)
	s.Anomalies.Add(o.Anomalies)
}

// state is what the Analyzer keeps per flow, in flow.App.
type state struct {
	a      *Analyzer
	f      *flow.Flow
	proto  string // detected network.protocol, "" while unknown
	dead   bool   // nothing (more) to parse here
	flip   bool   // the content reversed the flow's sides after the stream began (its directions are the old ones)
	junk   uint8  // datagrams of a UDP flow that no sniffer recognised (detect.go)
	stream *reassembly.Stream
	det    detector // chooses the TCP parser by content
	dns    *dns.Conn
	quic   *quic.CryptoAssembler
	krb    *pkrb.Conn // Kerberos over UDP
	// tunnel is the CONNECT target the current stream is carried to, with
	// its port; depth counts the switches (tunnel.go).
	tunnel     string
	tunnelPort uint16
	depth      int
	ftpControl string // an FTP data connection: its control connection's community ID
	// addrs are the flow's addresses printed by its first event, for the
	// next ones and the flow event.
	addrs flow.Addrs
	// opener is the file opener of the flow's stream (fileOpener).
	opener fileOpener
}

func dirOf(d flow.Dir) parsers.Dir {
	if d == flow.FromOrig {
		return parsers.ToServer
	}
	return parsers.ToClient
}

// dnsNameSlots is how many DNS names and data a worker keeps (on the
// budget: at most 8,192 × (16 + 16 + dnsNameLongest) = 2,351,104 bytes
// with the strings): a link resolves the same names again and again
// (bench-large: 844 question names and 488 answers in 30,828
// transactions), more than the 512 of a table's default. Each miss
// is a new string, where a transaction's text was one allocation: 512
// slots missed 24,298 times a bench-large run, 4,096 7,190, 8,192 3,852.
// A flood of random names misses every time, so there each name costs an
// allocation and a budget reservation of its own (bounded, not cheaper).
const dnsNameSlots = 8192

// dnsNameLongest is the longest DNS string a worker keeps: every name
// (at most 253 bytes in text form unless escaped) and one TXT string, not
// an answer's long data, so distinct ~1 KiB answers from an attacker cannot
// hold 8 MiB of the Parsers pool per worker.
const dnsNameLongest = 255

// Budget costs of a flow's application state: the state itself with the
// address strings its events share, and on TCP its reassembly stream (the
// stream's buffer pages are the reassembler's to account).
const (
	stateBytes  = int64(unsafe.Sizeof(state{}))
	streamBytes = int64(unsafe.Sizeof(reassembly.Stream{}))
)

// uninspected marks a flow whose state the memory budget refused: it is
// counted as a flow but not parsed (anomaly limit.memory).
var uninspected = &state{dead: true}

// Packet feeds one packet of flow f, sent in direction d. A flow gets
// state only when payload arrives (a flood of SYNs costs nothing here),
// and none after a RST that ended the connection;
// its stream then starts each direction at the SYN the flow table saw.
func (a *Analyzer) Packet(f *flow.Flow, d flow.Dir, p *decode.Packet) {
	if p.Proto == decode.ProtoICMP || p.Proto == decode.ProtoICMPv6 {
		a.icmpPacket(f, p)
		return
	}
	st, _ := f.App.(*state)
	if st == nil {
		if len(p.Payload) == 0 || (p.Proto != decode.ProtoTCP && p.Proto != decode.ProtoUDP) || f.WasReset() {
			return
		}
		st = a.newState(f, p)
	}
	if st.dead {
		return
	}
	switch p.Proto {
	case decode.ProtoTCP:
		if p.Anomalies.Has(anomaly.RSTIgnored) {
			return // the receiver drops it: inspection goes on (flow.Table)
		}
		if st.flip {
			d = 1 - d // the stream keeps the directions it began with
		}
		st.segment(d, p)
	case decode.ProtoUDP:
		if len(p.Payload) > 0 {
			st.udp(dirOf(d), p)
		}
	}
}

// stateCost is what a new state for a flow of p's protocol reserves.
func (a *Analyzer) stateCost(p *decode.Packet) int64 {
	var cost int64
	if a.states.Len() == 0 { // a kept state is paid for already
		cost = stateBytes
	}
	if p.Proto == decode.ProtoTCP {
		cost += streamBytes
	}
	return cost
}

// always is a Shed condition that always holds.
func always() bool { return true }

// newState attaches state to f for its first payload packet p, if the
// budget has room for it.
func (a *Analyzer) newState(f *flow.Flow, p *decode.Packet) *state {
	// What is kept for reuse gives way to a live flow: when the budget
	// refuses, it is given back and the budget asked again.
	if !a.acct.Reserve(budget.Parsers, a.stateCost(p)) && (!a.Shed(always, nil) || !a.acct.Reserve(budget.Parsers, a.stateCost(p))) {
		a.anom.Report(anomaly.MemoryLimit, f, p.Timestamp, "memory budget spent: flow not inspected")
		f.App = uninspected
		return uninspected
	}
	st := a.newFlowState(f)
	f.App = st
	if l, ok := a.ftpData(f); ok {
		// An announced FTP data connection: its bytes are a file (or a
		// listing), not a protocol to detect.
		st.proto, st.ftpControl = "ftp-data", l.Control
		a.stats.Detected["ftp-data"]++
		if a.files == nil {
			st.dead = true
			a.acct.Release(budget.Parsers, streamBytes) // no stream to reassemble
			return st
		}
		st.newStream(&ftpDataConn{st: st, link: l})
		return st
	}
	if p.Proto == decode.ProtoTCP {
		st.det = detector{st: st, canFlip: true}
		switch o, r := f.Orig(), f.Resp(); {
		case dnsPort(o.Port) || dnsPort(r.Port):
			st.det.byPort = "dns"
		case a.cfg.Expect.Has(netip.AddrPortFrom(r.IP, r.Port), p.Timestamp) || a.cfg.Expect.Has(netip.AddrPortFrom(o.IP, o.Port), p.Timestamp):
			st.det.byPort = "dcerpc" // an endpoint the endpoint mapper announced
		}
		st.newStream(&st.det)
	}
	return st
}

// newStream starts the flow's TCP stream into p, each direction at the SYN
// the flow table saw.
func (st *state) newStream(p parsers.StreamParser) {
	st.stream = st.a.newStream(p)
	for d := range flow.Dir(2) {
		if isn, ok := st.f.ISN(d); ok {
			st.stream.Segment(dirOf(d), isn, decode.SYN, nil, st.f.First())
		}
	}
}

// EmitGroups returns the groups ev can hold when it is the event the
// analyzer is emitting and the code that filled it says which groups it
// wrote into the reset event (0: unknown, the encoder looks at all).
func (a *Analyzer) EmitGroups(ev *schemas.Event) schemas.Groups {
	if ev != &a.ev {
		return 0
	}
	return a.evGroups
}

// emitGroups emits ev, the analyzer's event, filled into the reset event
// with no groups but groups (EmitGroups).
func (a *Analyzer) emitGroups(ev *schemas.Event, groups schemas.Groups) {
	a.evGroups = groups
	a.emit(ev)
	a.evGroups = 0
}

// FlowEndedGroups are the groups of a flow's event FlowEnded writes.
const FlowEndedGroups = schemas.GroupNetwork | schemas.GroupSensor | schemas.GroupSensorFlow | schemas.GroupSensorFTP

// FlowEnded closes the flow's parsers (emitting what they hold) and sets the
// detected protocol on the flow event. It returns the address strings the
// flow's events shared, for its flow event (flow.FillEventFrom; zero: none).
func (a *Analyzer) FlowEnded(f *flow.Flow, ev *schemas.Event) flow.Addrs {
	if is, ok := f.App.(*icmpState); ok {
		a.icmpEnded(f, is, ev)
		return flow.Addrs{}
	}
	st, _ := f.App.(*state)
	if st == nil || st == uninspected {
		if l, ok := a.ftpData(f); ok { // a data connection without payload
			ev.Network.Protocol, ev.Sensor.FTP.ControlCommunityID = "ftp-data", l.Control
			a.stats.Detected["ftp-data"]++
		}
		return flow.Addrs{}
	}
	cost := stateBytes
	if st.stream != nil {
		cost += streamBytes
	}
	defer a.recycle(st, cost)
	switch {
	case st.stream != nil:
		st.stream.Close(f.Last())
	case st.dns != nil:
		st.dns.End(f.Last())
	case st.krb != nil:
		st.krb.End(f.Last())
	}
	ev.Network.Protocol = st.proto
	ev.Sensor.FTP.ControlCommunityID = st.ftpControl
	if st.stream != nil {
		for _, d := range []parsers.Dir{parsers.ToServer, parsers.ToClient} {
			ev.Sensor.Flow.MissedBytes += int64(st.stream.Stats(d).GapBytes)
		}
	}
	return st.addrs
}

// holeTimeout is how long data held behind a hole in a TCP stream waits
// (live capture) before the hole is skipped as a gap.
const holeTimeout = 30 * time.Second

// Tick lets time pass in live capture: bytes held behind a hole since
// before now-holeTimeout are delivered, the hole reported as a gap.
func (a *Analyzer) Tick(now time.Time) {
	a.asm.FlushOlderThan(now.Add(-holeTimeout))
}

// Protocol returns the application protocol detected on f so far.
func (a *Analyzer) Protocol(f *flow.Flow) string {
	if st, ok := f.App.(*state); ok {
		return st.proto
	}
	return ""
}

// detected records the protocol found on the flow (the first one, for a
// stream that carries another). When its content reversed the flow table's
// guess of who the client is, the flow changes sides, so that its flow,
// protocol and anomaly events all name the client as the source.
func (st *state) detected(proto string, flip bool) {
	if st.proto == "" {
		st.proto = proto
	}
	if flip && !st.flip {
		st.flip = true
		st.f.Reverse() // the next event prints the addresses afresh (flow.FillNetworkFrom)
	}
	st.a.stats.Detected[proto]++
}

// newEvent starts an event of the flow with the network fields every
// protocol event shares.
func (a *Analyzer) newEvent(st *state, dataset string, ts time.Time) *schemas.Event {
	ev := &a.ev
	ev.Reset(ts, dataset, categoryNetwork, typeProtocol)
	flow.FillNetworkFrom(ev, st.f, &st.addrs, a.texts)
	if a.obs != nil {
		ev.Observer = *a.obs
	}
	return ev
}

var (
	categoryNetwork = []string{"network"}
	categoryWeb     = []string{"network", "web"}
	typeProtocol    = []string{"protocol"}
)
