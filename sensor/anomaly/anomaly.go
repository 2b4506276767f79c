// Package anomaly turns the oddities the packet path meets — resets the
// receiver would ignore, overlapping data that differs, limits reached —
// into events of their own (dataset packetsleuth.anomaly), as Suricata's
// stream and decoder events and Zeek's weird.log do, so that an analyst
// and the rules see an evasion attempt or a sensor under pressure.
//
// An attacker can make anomalies as fast as packets, so a Reporter emits
// at most one event per kind and flow (for a frame that has no flow, one
// the decoder refused: per kind and address pair a minute), and at most
// PerSecond events per kind per second of packet time; what it holds back is counted and
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

	// Frames the decoder refused (decode.Fault), which have no flow, and
	// length fields past a frame captured whole (on the packet's flow).
	LinkMalformed       // a link-layer header (Ethernet, 802.1Q, SLL, loopback) cut short or invalid
	IPv4Truncated       // fewer bytes than an IPv4 header, or than its header length
	IPv4BadHeaderLength // an IPv4 header length below 20 bytes
	IPv4BadLength       // an IPv4 total length shorter than its header, or past a frame captured whole
	IPv4BadOption       // an IPv4 option whose length does not fit the header
	IPBadVersion        // an IP version field that is not the link's (4 or 6)
	IPv6Truncated       // fewer bytes than an IPv6 header
	IPv6BadLength       // an IPv6 payload length of 0 without a jumbogram option, or past a frame captured whole
	IPv6BadExtension    // an IPv6 extension or fragment header cut short or invalid
	TCPTruncated        // fewer bytes than a TCP header
	TCPBadHeaderLength  // a TCP data offset below 20 bytes or past the segment
	UDPTruncated        // fewer bytes than a UDP header
	UDPBadLength        // a UDP length below its 8-byte header, or past its datagram in a frame captured whole
	ICMPTruncated       // fewer bytes than an ICMP header
	TunnelMalformed     // a GRE, ERSPAN or VXLAN header cut short or invalid
	FragmentMalformed   // an IP fragment no valid datagram can hold (past 65535 bytes, two ends)
	TooDeep             // more nested headers than the decoder walks
	NumKinds
)

// A Set holds every kind.
const _ Set = 1 << (NumKinds - 1)

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

	LinkMalformed:       {"decode.link_malformed", "decode"},
	IPv4Truncated:       {"decode.ipv4_truncated", "decode"},
	IPv4BadHeaderLength: {"decode.ipv4_bad_header_length", "decode"},
	IPv4BadLength:       {"decode.ipv4_bad_length", "decode"},
	IPv4BadOption:       {"decode.ipv4_bad_option", "decode"},
	IPBadVersion:        {"decode.ip_bad_version", "decode"},
	IPv6Truncated:       {"decode.ipv6_truncated", "decode"},
	IPv6BadLength:       {"decode.ipv6_bad_length", "decode"},
	IPv6BadExtension:    {"decode.ipv6_bad_extension", "decode"},
	TCPTruncated:        {"decode.tcp_truncated", "decode"},
	TCPBadHeaderLength:  {"decode.tcp_bad_header_length", "decode"},
	UDPTruncated:        {"decode.udp_truncated", "decode"},
	UDPBadLength:        {"decode.udp_bad_length", "decode"},
	ICMPTruncated:       {"decode.icmp_truncated", "decode"},
	TunnelMalformed:     {"decode.tunnel_malformed", "decode"},
	FragmentMalformed:   {"decode.fragment_malformed", "decode"},
	TooDeep:             {"decode.too_deep", "decode"},
}

// String returns the kind's name, e.g. "tcp.rst_ignored".
func (k Kind) String() string {
	if k < NumKinds {
		return kinds[k].name
	}
	return "unknown"
}

// Layer returns where the kind arises: tcp, ip, capture, app, limit, decode.
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

// Network is where an anomaly was seen: its flow, or a frame that has none.
type Network interface {
	// FillNetwork writes the network, source and destination fields.
	FillNetwork(ev *schemas.Event)
}

// Flow is the connection an anomaly belongs to (a *flow.Flow).
type Flow interface {
	Network
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
	pairs pairs           // reported recently by ReportFrame
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
	var n Network
	first := true
	if f != nil {
		n, first = f, f.MarkAnomaly(k)
	}
	r.report(k, n, first, ts, detail)
}

// ReportFrame records one anomaly of kind k on a frame that has no flow
// (the decoder refused it): n fills in what was read of it, and pair is
// a hash of its two addresses (0 when they were not read). As a flow's
// first report of a kind holds back the next ones, so does an address
// pair's for a minute of packet time (pairs); a frame without addresses
// is limited by its kind's rate only.
func (r *Reporter) ReportFrame(k Kind, n Network, pair uint64, ts time.Time, detail string) {
	if r == nil || k >= NumKinds {
		return
	}
	r.report(k, n, pair == 0 || r.pairs.first(k, pair, ts), ts, detail)
}

// report records a report; first: the first of its kind on its flow.
func (r *Reporter) report(k Kind, n Network, first bool, ts time.Time, detail string) {
	r.counts.Seen[k]++
	if r.later != nil {
		// Past the kind's rate in this second on its own, r's report is
		// held back by the judge too, which takes every Reporter's in
		// packet order (in packet time order, the rate is full by then):
		// it goes without the cost of its event.
		j := Judgement{kind: k}
		if first && r.admit(k, ts) {
			j.ev = new(schemas.Event)
			r.fill(j.ev, k, n, ts, detail)
		}
		r.later(j)
		return
	}
	if !first || !r.admit(k, ts) {
		r.kinds[k].suppressed++
		return
	}
	r.fill(&r.ev, k, n, ts, detail)
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

func (r *Reporter) fill(ev *schemas.Event, k Kind, n Network, ts time.Time, detail string) {
	ev.Reset(ts, schemas.DatasetAnomaly, categoryNetwork, typeInfo)
	ev.Event.Action = k.String()
	if n != nil {
		n.FillNetwork(ev)
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
