// Package anomaly turns the oddities the packet path meets — resets the
// receiver would ignore, overlapping data that differs, limits reached —
// into events of their own (dataset packetsleuth.anomaly), as Suricata's
// stream and decoder events and Zeek's weird.log do, so that an analyst
// and the rules see an evasion attempt or a sensor under pressure.
//
// An attacker can make anomalies as fast as packets, so a Reporter emits
// at most one event per kind and flow, and at most PerSecond events per
// kind per second of packet time; what it holds back is counted and
// carried by the next event of the kind (packetsleuth.anomaly.suppressed).
// A Reporter belongs to one worker (or to one goroutine of its own, as the
// pcap ring's writer).
package anomaly

import (
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// Kind is one sort of anomaly.
type Kind uint8

const (
	RSTIgnored       Kind = iota // a RST the receiver would ignore (bad MD5 signature, outside the window)
	OverlapConflict              // TCP data sent twice for the same bytes, differently
	FragmentOverlap              // IP fragments overlapping with different bytes
	CapLenClamped                // a capture record longer than the packet on the wire
	ParserError                  // a protocol parser gave up on a stream or message
	FlowLimit                    // a flow was evicted because the table was full
	ReassemblyLimit              // a TCP hole was skipped because buffering hit its cap
	FragmentLimit                // an incomplete datagram was dropped at a fragment cap
	DecoderLimit                 // a body was counted, not decoded, for lack of decoders
	MemoryLimit                  // the memory budget refused a reservation
	ParserStateLimit             // a parser's per-connection state (pending requests, open files) hit its bound
	FileLimit                    // a file was counted, not typed or hashed, for lack of room
	HostLimit                    // a DHCP lease was not kept: the host table is full
	PcapRingLimit                // the memory budget refused the pcap ring flow state or look-back room
	NumKinds
)

var kinds = [NumKinds]struct{ name, layer string }{
	RSTIgnored:       {"tcp.rst_ignored", "tcp"},
	OverlapConflict:  {"tcp.overlap_conflict", "tcp"},
	FragmentOverlap:  {"ip.fragment_overlap", "ip"},
	CapLenClamped:    {"capture.caplen_exceeds_wire_len", "capture"},
	ParserError:      {"app.parser_error", "app"},
	FlowLimit:        {"limit.flows", "limit"},
	ReassemblyLimit:  {"limit.reassembly", "limit"},
	FragmentLimit:    {"limit.fragments", "limit"},
	DecoderLimit:     {"limit.decoders", "limit"},
	MemoryLimit:      {"limit.memory", "limit"},
	ParserStateLimit: {"limit.parser_state", "limit"},
	FileLimit:        {"limit.files", "limit"},
	HostLimit:        {"limit.hosts", "limit"},
	PcapRingLimit:    {"limit.pcap_ring", "limit"},
}

// String returns the kind's name, e.g. "tcp.rst_ignored".
func (k Kind) String() string {
	if k < NumKinds {
		return kinds[k].name
	}
	return "unknown"
}

// Layer returns where the kind arises: tcp, ip, capture, app, limit.
func (k Kind) Layer() string {
	if k < NumKinds {
		return kinds[k].layer
	}
	return ""
}

// Set is a set of kinds, for layers that note anomalies on a packet for
// the worker to report (the decoder runs before a packet has a flow).
type Set uint32

// Add puts k in the set.
func (s *Set) Add(k Kind) { *s |= 1 << k }

// Has reports whether k is in the set.
func (s Set) Has(k Kind) bool { return s&(1<<k) != 0 }

// Flow is the connection an anomaly belongs to (a *flow.Flow).
type Flow interface {
	// FillNetwork writes the flow's network, source and destination fields.
	FillNetwork(ev *schemas.Event)
	// MarkAnomaly records that k was seen on the flow and reports whether
	// it was the first time.
	MarkAnomaly(k Kind) bool
}

// DefaultPerSecond is the default rate limit of events per kind.
const DefaultPerSecond = 20

// Counts is what a Reporter saw and emitted, by kind.
type Counts struct {
	Seen    [NumKinds]uint64
	Emitted [NumKinds]uint64
}

// Add sums o into c.
func (c *Counts) Add(o Counts) {
	for k := range NumKinds {
		c.Seen[k] += o.Seen[k]
		c.Emitted[k] += o.Emitted[k]
	}
}

// Reporter makes anomaly events, rate-limited.
type Reporter struct {
	emit      func(*schemas.Event)
	obs       *schemas.Observer
	perSecond int
	ev        schemas.Event
	counts    Counts
	kinds     [NumKinds]struct {
		second     int64 // packet-time second of the current window
		inSecond   int   // events emitted in it
		suppressed int64 // held back since the last event of the kind
	}
	later func(Judgement) // set by Defer
}

// A Judgement is a report the limits of a Reporter have yet to judge
// (Defer): its kind, and its event, nil when the report repeats one of
// its flow.
type Judgement struct {
	kind Kind
	ev   *schemas.Event
}

// Event is the report's event (nil: it repeats one of its flow's).
func (j Judgement) Event() *schemas.Event { return j.ev }

// New returns a Reporter that hands its events to emit (valid only during
// the call) with obs as their observer; perSecond <= 0 takes the default.
func New(emit func(*schemas.Event), obs *schemas.Observer, perSecond int) *Reporter {
	if perSecond <= 0 {
		perSecond = DefaultPerSecond
	}
	return &Reporter{emit: emit, obs: obs, perSecond: perSecond}
}

// Defer makes r hand each report, with its event made, to later instead
// of judging it by its limits; the caller has one Reporter judge them all
// (Judge), in the order it chooses. Several workers' reports then share
// one limit per kind taken in packet order, as one worker's do.
func (r *Reporter) Defer(later func(Judgement)) { r.later = later }

// Report records one anomaly of kind k on flow f (nil when it belongs to
// no flow) at packet time ts; detail says what exactly, for the analyst.
// A nil Reporter only discards.
func (r *Reporter) Report(k Kind, f Flow, ts time.Time, detail string) {
	if r == nil || k >= NumKinds {
		return
	}
	r.counts.Seen[k]++
	first := f == nil || f.MarkAnomaly(k)
	if r.later != nil {
		j := Judgement{kind: k}
		if first {
			j.ev = new(schemas.Event)
			r.fill(j.ev, k, f, ts, detail)
		}
		r.later(j)
		return
	}
	ks := &r.kinds[k]
	if !first || !r.admit(k, ts) {
		ks.suppressed++
		return
	}
	r.fill(&r.ev, k, f, ts, detail)
	r.send(k, &r.ev)
}

// Judge applies r's limits to a deferred report and emits its event if
// they let it pass.
func (r *Reporter) Judge(j Judgement) {
	if j.ev == nil || !r.admit(j.kind, j.ev.Timestamp) {
		r.kinds[j.kind].suppressed++
		return
	}
	r.send(j.kind, j.ev)
}

// admit takes one event of kind k at ts from the kind's rate limit.
func (r *Reporter) admit(k Kind, ts time.Time) bool {
	ks := &r.kinds[k]
	if sec := ts.Unix(); sec != ks.second {
		ks.second, ks.inSecond = sec, 0
	}
	if ks.inSecond >= r.perSecond {
		return false
	}
	ks.inSecond++
	return true
}

func (r *Reporter) fill(ev *schemas.Event, k Kind, f Flow, ts time.Time, detail string) {
	ev.Reset(ts, schemas.DatasetAnomaly, categoryNetwork, typeInfo)
	ev.Event.Action = k.String()
	if f != nil {
		f.FillNetwork(ev)
	}
	if r.obs != nil {
		ev.Observer = *r.obs
	}
	ev.Sensor.Anomaly = schemas.Anomaly{Kind: k.String(), Layer: k.Layer(), Detail: detail}
}

// send emits ev, an event of kind k let through, with the count held back
// before it.
func (r *Reporter) send(k Kind, ev *schemas.Event) {
	r.counts.Emitted[k]++
	ks := &r.kinds[k]
	ev.Sensor.Anomaly.Suppressed, ks.suppressed = ks.suppressed, 0
	r.emit(ev)
}

// Counts returns what the Reporter saw and emitted so far.
func (r *Reporter) Counts() Counts {
	if r == nil {
		return Counts{}
	}
	return r.counts
}

var (
	categoryNetwork = []string{"network"}
	typeInfo        = []string{"info"}
)
