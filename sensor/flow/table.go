package flow

import (
	"sort"
	"time"

	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// Config sets the flow table's timeouts (on packet time) and bound.
type Config struct {
	TCPTimeout       time.Duration `yaml:"tcp"`        // established TCP, inactive
	TCPHandshake     time.Duration `yaml:"tcp_syn"`    // TCP not (yet) established
	TCPClosedTimeout time.Duration `yaml:"tcp_closed"` // after FIN both ways or RST: late packets still count
	UDPTimeout       time.Duration `yaml:"udp"`        // UDP, inactive
	ICMPTimeout      time.Duration `yaml:"icmp"`       // ICMP and ICMPv6, inactive
	OtherTimeout     time.Duration `yaml:"other"`      // any other IP protocol
	MaxFlows         int           `yaml:"max_flows"`  // per table; the least recently active flow is evicted beyond
	// Interim, when set, makes a flow active for longer than it since its
	// start (or last report) emit an interim event (see Table.OnInterim).
	Interim         time.Duration `yaml:"interim"`
	CommunityIDSeed uint16        `yaml:"community_id_seed"`
}

// DefaultConfig holds Zeek-like defaults.
var DefaultConfig = Config{
	TCPTimeout:       5 * time.Minute,
	TCPHandshake:     30 * time.Second,
	TCPClosedTimeout: 5 * time.Second,
	UDPTimeout:       time.Minute,
	ICMPTimeout:      time.Minute,
	OtherTimeout:     time.Minute,
	MaxFlows:         1 << 20,
}

// WithDefaults fills zero fields from DefaultConfig.
func (c Config) WithDefaults() Config {
	d := DefaultConfig
	if c.TCPTimeout <= 0 {
		c.TCPTimeout = d.TCPTimeout
	}
	if c.TCPHandshake <= 0 {
		c.TCPHandshake = d.TCPHandshake
	}
	if c.TCPClosedTimeout <= 0 {
		c.TCPClosedTimeout = d.TCPClosedTimeout
	}
	if c.UDPTimeout <= 0 {
		c.UDPTimeout = d.UDPTimeout
	}
	if c.ICMPTimeout <= 0 {
		c.ICMPTimeout = d.ICMPTimeout
	}
	if c.OtherTimeout <= 0 {
		c.OtherTimeout = d.OtherTimeout
	}
	if c.MaxFlows <= 0 {
		c.MaxFlows = d.MaxFlows
	}
	return c
}

type timeoutClass uint8

const (
	classTCPHandshake timeoutClass = iota
	classTCP
	classTCPClosed
	classUDP
	classICMP
	classOther
	numClasses
)

// list is an intrusive doubly linked list of flows by last activity: the
// front is the least recently active, so expiry only ever looks at fronts.
type list struct{ head, tail *Flow }

func (l *list) pushBack(f *Flow) {
	f.prev, f.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = f
	} else {
		l.head = f
	}
	l.tail = f
}

func (l *list) remove(f *Flow) {
	if f.prev != nil {
		f.prev.next = f.next
	} else {
		l.head = f.next
	}
	if f.next != nil {
		f.next.prev = f.prev
	} else {
		l.tail = f.prev
	}
	f.prev, f.next = nil, nil
}

// Stats counts the table's work.
type Stats struct {
	Created uint64
	Ended   [5]uint64 // by EndReason
	Active  int
	Interim uint64 // interim reports of open flows
}

// Table is a flow table owned by one worker.
type Table struct {
	cfg       Config
	timeouts  [numClasses]time.Duration
	flows     map[Key]*Flow
	lists     [numClasses]list
	free      []*Flow
	onEnd     func(*Flow)
	onInterim func(*Flow)
	reports   reportList // flows by next interim report time (with Config.Interim)
	lastSweep time.Time
	stats     Stats
}

// NewTable returns a table that calls onEnd for every flow that ends. The
// Flow passed to onEnd is recycled when the call returns.
func NewTable(cfg Config, onEnd func(*Flow)) *Table {
	cfg = cfg.WithDefaults()
	t := &Table{cfg: cfg, flows: make(map[Key]*Flow, 1024), onEnd: onEnd}
	t.timeouts = [numClasses]time.Duration{
		classTCPHandshake: cfg.TCPHandshake, classTCP: cfg.TCPTimeout, classTCPClosed: cfg.TCPClosedTimeout,
		classUDP: cfg.UDPTimeout, classICMP: cfg.ICMPTimeout, classOther: cfg.OtherTimeout,
	}
	return t
}

// Stats returns the table's counters.
func (t *Table) Stats() Stats {
	s := t.stats
	s.Active = len(t.flows)
	return s
}

// sweepEvery is how much packet time passes between expiry sweeps.
const sweepEvery = time.Second

// Update accounts packet p to its flow, creating the flow when needed, and
// returns the flow and the packet's direction in it.
func (t *Table) Update(p *decode.Packet) (*Flow, Dir) {
	now := p.Timestamp
	if now.Sub(t.lastSweep) >= sweepEvery || now.Before(t.lastSweep) {
		t.Expire(now)
	}
	k := KeyOf(p)
	f := t.flows[k]
	if f != nil {
		t.lists[f.class].remove(f)
		if t.reopens(f, p) {
			t.end(f, f.closedReason())
			f = nil
		}
	}
	if f == nil {
		f = t.create(k, p)
	}
	d := FromResp
	if p.Src == f.Orig.IP && p.SrcPort == f.Orig.Port {
		d = FromOrig
	}
	f.Last = now
	f.Packets[d]++
	f.Bytes[d] += uint64(p.WireLen)
	f.Payload[d] += uint64(len(p.Payload))
	if d == FromResp && !f.Resp.HasMAC && p.HasMAC {
		f.Resp.MAC, f.Resp.HasMAC = p.SrcMAC, true
	}
	if p.Proto == decode.ProtoTCP {
		f.TCPFlags[d] |= p.TCPFlags
		f.tcp.update(d, p.TCPFlags, p.Seq, p.Window, len(p.Payload))
	}
	f.class = t.classOf(f)
	t.lists[f.class].pushBack(f)
	return f, d
}

// reopens says whether packet p starts a new connection on f's key: the old
// one timed out, or a fresh SYN arrives after it closed.
func (t *Table) reopens(f *Flow, p *decode.Packet) bool {
	if p.Timestamp.Sub(f.Last) > t.timeouts[f.class] {
		return true
	}
	return f.class == classTCPClosed && p.TCPFlags&(decode.SYN|decode.ACK) == decode.SYN
}

func (f *Flow) closedReason() EndReason {
	switch {
	case f.class != classTCPClosed:
		return EndTimeout
	case f.tcp.has(FromOrig, hRST) || f.tcp.has(FromResp, hRST):
		return EndRST
	}
	return EndFIN
}

func (t *Table) classOf(f *Flow) timeoutClass {
	switch f.Proto {
	case decode.ProtoTCP:
		switch {
		case f.tcp.closed():
			return classTCPClosed
		case f.tcp.established() || f.Payload[FromOrig]+f.Payload[FromResp] > 0:
			return classTCP
		}
		return classTCPHandshake
	case decode.ProtoUDP:
		return classUDP
	case decode.ProtoICMP, decode.ProtoICMPv6:
		return classICMP
	}
	return classOther
}

func (t *Table) create(k Key, p *decode.Packet) *Flow {
	if len(t.flows) >= t.cfg.MaxFlows {
		t.evictOldest()
	}
	var f *Flow
	if n := len(t.free); n > 0 {
		f, t.free = t.free[n-1], t.free[:n-1]
	} else {
		f = new(Flow)
	}
	*f = Flow{
		Key: k, Proto: p.Proto, IPVersion: p.IPVersion, VLAN: p.VLAN, InnerVLAN: p.InnerVLAN,
		Interface: p.Interface, Tunnel: p.Tunnel, First: p.Timestamp, Last: p.Timestamp,
		Orig: Endpoint{IP: p.Src, Port: p.SrcPort, MAC: p.SrcMAC, HasMAC: p.HasMAC},
		Resp: Endpoint{IP: p.Dst, Port: p.DstPort, MAC: p.DstMAC, HasMAC: p.HasMAC},
	}
	// A SYN-ACK seen first was sent by the responder: the other side
	// opened the connection (Zeek marks this with '^').
	if p.Proto == decode.ProtoTCP && p.TCPFlags&(decode.SYN|decode.ACK) == decode.SYN|decode.ACK {
		f.Orig, f.Resp = f.Resp, f.Orig
		f.tcp.flipped = true
	}
	sport, dport := f.Orig.Port, f.Resp.Port
	if p.Proto == decode.ProtoICMP || p.Proto == decode.ProtoICMPv6 {
		f.ICMPType, f.ICMPCode = p.ICMPType, p.ICMPCode
		sport, dport, f.ICMPOneWay = icmpPorts(p.Proto == decode.ProtoICMPv6, p.ICMPType, p.ICMPCode)
	}
	f.CommunityID = CommunityID(t.cfg.CommunityIDSeed, f.Orig.IP, f.Resp.IP, sport, dport, p.Proto, f.ICMPOneWay)
	t.flows[k] = f
	t.stats.Created++
	t.scheduleReport(f, p.Timestamp)
	return f
}

func (t *Table) evictOldest() {
	var oldest *Flow
	for c := range t.lists {
		if h := t.lists[c].head; h != nil && (oldest == nil || h.Last.Before(oldest.Last)) {
			oldest = h
		}
	}
	if oldest != nil {
		t.lists[oldest.class].remove(oldest)
		t.end(oldest, EndEvicted)
	}
}

// end emits f and recycles it; the caller has taken f out of its list.
func (t *Table) end(f *Flow, why EndReason) {
	delete(t.flows, f.Key)
	t.unscheduleReport(f)
	f.EndReason = why
	t.stats.Ended[why]++
	t.onEnd(f)
	f.App = nil
	t.free = append(t.free, f)
}

// Expire ends every flow inactive for longer than its timeout at now.
func (t *Table) Expire(now time.Time) {
	t.lastSweep = now
	for c := range t.lists {
		l := &t.lists[c]
		for l.head != nil && now.Sub(l.head.Last) > t.timeouts[c] {
			f := l.head
			l.remove(f)
			t.end(f, f.closedReason())
		}
	}
	t.interims(now)
}

// Flush ends every flow (end of input), least recently active first, so the
// order is the same on every run.
func (t *Table) Flush() {
	all := make([]*Flow, 0, len(t.flows))
	for c := range t.lists {
		for f := t.lists[c].head; f != nil; f = f.next {
			all = append(all, f)
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Last.Before(all[j].Last) })
	for _, f := range all {
		t.lists[f.class].remove(f)
		why := EndEOF
		if f.class == classTCPClosed {
			why = f.closedReason()
		}
		t.end(f, why)
	}
}
