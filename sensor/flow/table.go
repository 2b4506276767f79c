package flow

import (
	"cmp"
	"hash/maphash"
	"slices"
	"time"
	"unsafe"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/internal/prefetch"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
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
	MaxFlows         int           `yaml:"max_flows"`  // per table; beyond, the least valuable flow is evicted (see Table.evict)
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
type list struct {
	head, tail *Flow
	// unsorted: a flow went to the back with its last packet's time before
	// the one there (packet times went back); until the list empties, its
	// order is not that of the flows' last times (see Flush).
	unsorted bool
}

func (l *list) pushBack(f *Flow) {
	if l.tail != nil && f.last < l.tail.last {
		l.unsorted = true
	}
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
	if l.head == nil {
		l.unsorted = false
	}
}

// Stats counts the table's work.
type Stats struct {
	Created uint64
	Ended   [5]uint64 // by EndReason
	Active  int
	Interim uint64 // interim reports of open flows
	// Evictions by cause (their sum is Ended[EndEvicted]).
	EvictedMaxFlows uint64 // the table held Config.MaxFlows flows
	EvictedMemory   uint64 // the memory budget refused a new flow
	// EvictedForShare counts the flows of EvictedMemory evicted to give
	// another worker its fair share of the budget (Shed).
	EvictedForShare uint64
	// OverBudget counts flows allocated although the budget refused them,
	// because the table held no flow to evict (other pools held it all).
	OverBudget uint64
}

// Table is a flow table owned by one worker.
type Table struct {
	cfg      Config
	timeouts [numClasses]time.Duration
	idx      index
	// seed keys the index's hash: an attacker who knows the hash function
	// (the code is public) must not be able to pick keys that share a
	// slot, which would make every lookup walk all of them (a flood of
	// such flows cost quadratic time under the unseeded hash it replaced).
	seed      maphash.Seed
	lists     [numClasses]list
	free      []*Flow
	acct      *budget.Account
	idxPaid   int64 // bytes of the index reserved on acct
	flushing  bool  // Flush is ending every flow: the index goes whole
	onEnd     func(*Flow)
	onInterim func(*Flow)
	reports   reportList // flows by next interim report time (with Config.Interim)
	lastSweep int64
	stats     Stats
	// lastRST is the verdict on the latest RST (IgnoredRST).
	lastRST rstVerdict
}

// FlowBytes is what one Flow costs the memory budget (its size class).
// The index is paid apart, as it grows: 12 bytes a slot, 16 to 32 a flow.
const FlowBytes = int64(unsafe.Sizeof(Flow{}))

// tunnelBytes is the extra cost of a tunnelled flow.
const tunnelBytes = int64(unsafe.Sizeof(decode.Tunnel{}))

// maxFree is how many ended flows the table keeps for reuse; beyond, they
// go back to the garbage collector and their bytes to the budget.
const maxFree = 4096

// NewTable returns a table that calls onEnd for every flow that ends. The
// Flow passed to onEnd is recycled when the call returns.
func NewTable(cfg Config, onEnd func(*Flow)) *Table {
	cfg = cfg.WithDefaults()
	t := &Table{cfg: cfg, onEnd: onEnd, seed: maphash.MakeSeed()}
	t.timeouts = [numClasses]time.Duration{
		classTCPHandshake: cfg.TCPHandshake, classTCP: cfg.TCPTimeout, classTCPClosed: cfg.TCPClosedTimeout,
		classUDP: cfg.UDPTimeout, classICMP: cfg.ICMPTimeout, classOther: cfg.OtherTimeout,
	}
	return t
}

// UseBudget makes the table draw its flows and index on a (pool
// budget.Flows). Call it before the first Update. When the budget refuses
// a flow, the least valuable flow is evicted to make room (see evict).
func (t *Table) UseBudget(a *budget.Account) { t.acct = a }

// Stats returns the table's counters.
func (t *Table) Stats() Stats {
	s := t.stats
	s.Active = t.idx.n
	return s
}

// sweepEvery is how much packet time passes between expiry sweeps.
const sweepEvery = int64(time.Second)

// SweepDue reports whether a packet at now (Unix ns) starts an expiry
// sweep after one at last. The table sweeps on its own packets; the
// pipeline's feeder, asking the same of every packet it reads, tells every
// worker to sweep at the same packet times (Expire), so that flows of
// several workers end as one worker's would.
func SweepDue(last, now int64) bool {
	return now-last >= sweepEvery || now < last
}

// Update accounts packet p to its flow, creating the flow when needed, and
// returns the flow and the packet's direction in it.
func (t *Table) Update(p *decode.Packet) (*Flow, Dir) {
	now := p.Timestamp.UnixNano()
	if SweepDue(t.lastSweep, now) {
		t.Expire(p.Timestamp)
	}
	k, srcIsA := keyOf(p)
	h := t.hash(&k)
	f := t.idx.find(&k, h)
	if f != nil {
		t.lists[f.class].remove(f)
		if t.reopens(f, p, now) {
			t.end(f, f.closedReason())
			f = nil
		}
	}
	if f == nil {
		f = t.create(&k, h, srcIsA, p)
	}
	d := FromResp
	if srcIsA == (f.bits&origIsA != 0) {
		d = FromOrig
	}
	// A packet stamped earlier than the flow's latest (merged interfaces, a
	// damaged record) does not move its end back: the flow would end before
	// it began, and the next packet would find it idle and split it.
	f.last, f.number = max(f.last, now), uint32(p.Number)
	f.Packets[d]++
	f.Bytes[d] += uint64(p.WireLen)
	f.Payload[d] += uint64(len(p.Payload))
	if d == FromResp && f.bits&hasRespMAC == 0 && p.HasMAC {
		f.mac[FromResp] = p.SrcMAC
		f.bits |= hasRespMAC
	}
	if p.Proto == decode.ProtoTCP {
		f.TCPFlags[d] |= p.TCPFlags
		drop := false
		if p.TCPFlags&decode.RST != 0 {
			t.lastRST, drop = f.tcp.rejectsRST(d, p, f.Packets[1-d] > 0)
		}
		if drop {
			// On the wire, but its receiver drops it: the connection goes
			// on, and neither its state nor its history take the RST.
			p.Anomalies.Add(anomaly.RSTIgnored)
		} else {
			f.tcp.update(d, p.TCPFlags, p.Seq, p.Window, len(p.Payload))
			f.tcp.follow(d, p)
		}
	}
	f.class = t.classOf(f)
	t.lists[f.class].pushBack(f)
	return f, d
}

// Prefetch asks the CPU for the index slot of p's flow, for a caller that
// holds p some packets ahead of handing it to Update (a batch's): a new
// flow's slot is a random one of a large index, whose first load would
// wait for memory. A hint only: the index may have grown by then. An
// index of fewer than prefetchSlots slots stays in the caches: hashing
// the key once more then only costs (bench-large, whose index stays
// small: 5 % more CPU for a 1-worker replay).
func (t *Table) Prefetch(p *decode.Packet) {
	if len(t.idx.flows) < prefetchSlots {
		return
	}
	if i, ok := t.homeOf(p); ok {
		prefetch.Lines(unsafe.Pointer(&t.idx.flows[i]), 8)
		prefetch.Lines(unsafe.Pointer(&t.idx.hashes[i]), 4)
	}
}

// prefetchSlots is the smallest index Prefetch hints slots of: 12 bytes a
// slot, 1.5 MiB, what a core's own caches hold.
const prefetchSlots = 1 << 17

// homeOf is the index slot where Update looks for p's flow first, if the
// table has an index and p a flow.
func (t *Table) homeOf(p *decode.Packet) (uint32, bool) {
	if t.idx.flows == nil || p.Fault != decode.NoFault {
		return 0, false
	}
	k, _ := keyOf(p)
	return t.idx.home(t.hash(&k)), true
}

// reopens says whether packet p starts a new connection on f's key: the old
// one timed out, or a fresh SYN arrives after it closed.
func (t *Table) reopens(f *Flow, p *decode.Packet, now int64) bool {
	if now-f.last > int64(t.timeouts[f.class]) {
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

// hash is k's hash in t's index: the runtime's keyed hash of its bytes
// (Key has no padding: keyBytes), half the cost of maphash.Comparable.
func (t *Table) hash(k *Key) uint32 {
	return uint32(maphash.Bytes(t.seed, unsafe.Slice((*byte)(unsafe.Pointer(k)), keyBytes)))
}

// keyBytes is Key's size, which its fields fill: the two constants below
// fail to compile if a field added to Key leaves padding, whose bytes
// would then be hashed.
const keyBytes = 16 + 16 + 2 + 2 + 2 + 1 + 1

const (
	_ = uint(unsafe.Sizeof(Key{}) - keyBytes)
	_ = uint(keyBytes - unsafe.Sizeof(Key{}))
)

func (t *Table) create(k *Key, h uint32, srcIsA bool, p *decode.Packet) *Flow {
	f := t.alloc()
	// A new Flow's memory may come fresh from the kernel: its first access
	// is a write. A read first (of its bits, below) would map the kernel's
	// zero page, which the write after it must copy, flushing the TLB: a
	// fault several times the cost of a first write, once a page of 16
	// flows while a flood grows the table.
	f.hash = h
	*f = Flow{
		Key: *k, hash: h, Proto: p.Proto, IPVersion: p.IPVersion, VLAN: p.VLAN, InnerVLAN: p.InnerVLAN,
		Interface: uint16(p.Interface), first: p.Timestamp.UnixNano(), last: p.Timestamp.UnixNano(),
		origPort: p.SrcPort, respPort: p.DstPort, cidSeed: t.cfg.CommunityIDSeed, bits: f.bits & unpaid,
	}
	if srcIsA {
		f.bits |= origIsA
	}
	if p.HasMAC {
		f.mac = [2][6]byte{p.SrcMAC, p.DstMAC}
		f.bits |= hasOrigMAC | hasRespMAC
	}
	if p.Tunnel.Type != decode.NoTunnel {
		tun := p.Tunnel
		f.Tunnel = &tun
		if t.acct.Reserve(budget.Flows, tunnelBytes) { // refused: kept anyway, the flow is paid for
			f.bits |= tunnelPaid
		}
	}
	// A SYN-ACK seen first was sent by the responder: the other side
	// opened the connection (Zeek marks this with '^').
	if p.Proto == decode.ProtoTCP && p.TCPFlags&(decode.SYN|decode.ACK) == decode.SYN|decode.ACK {
		f.bits ^= origIsA
		f.origPort, f.respPort = f.respPort, f.origPort
		f.mac[0], f.mac[1] = f.mac[1], f.mac[0]
		f.tcp.bits |= flipped
	}
	if p.Proto == decode.ProtoICMP || p.Proto == decode.ProtoICMPv6 {
		f.ICMPType, f.ICMPCode = p.ICMPType, p.ICMPCode
		_, _, f.ICMPOneWay = icmpPorts(p.Proto == decode.ProtoICMPv6, p.ICMPType, p.ICMPCode)
	}
	t.idx.insert(f)
	t.stats.Created++
	t.scheduleReport(f, f.first)
	return f
}

// alloc returns a Flow for a new connection, with room for it in the index:
// an ended one kept for reuse, or a new one paid for by the budget. At
// max_flows, or when the budget refuses, the least valuable flow is
// evicted (ended and reused) instead.
func (t *Table) alloc() *Flow {
	if t.idx.n >= t.cfg.MaxFlows {
		t.evict(false)
	}
	if t.idx.full() && !t.grow() && !(t.acct.WaitFair() && t.grow()) && !t.evict(true) {
		// Nothing to evict: other pools hold the budget. The table
		// still needs an index; it is counted as over budget.
		t.stats.OverBudget++
		t.resize(max(2*len(t.idx.flows), minIndexSlots), false)
	}
	if n := len(t.free); n > 0 {
		f := t.free[n-1]
		t.free = t.free[:n-1]
		return f
	}
	// Refused: a table below its fair share of the budget first waits for
	// the tables above theirs to give back (budget.Account.WaitFair; so
	// for the index above), then evicts its own.
	if t.acct.Reserve(budget.Flows, FlowBytes) || t.acct.WaitFair() && t.acct.Reserve(budget.Flows, FlowBytes) {
		return new(Flow)
	}
	if t.evict(true) {
		return t.alloc()
	}
	t.stats.OverBudget++
	return &Flow{bits: unpaid}
}

// Shed gives memory back to the budget while over() holds: first the ended
// flows kept for reuse, then the least valuable flows, evicted (their
// events emitted, counted in EvictedMemory and EvictedForShare). For a
// table whose account owes another worker its fair share
// (budget.Account.Owes).
func (t *Table) Shed(over func() bool) {
	for len(t.free) > 0 && over() {
		t.dropFree()
	}
	for over() && t.evict(true) {
		t.stats.EvictedForShare++
		t.dropFree() // the evicted flow, or one as good
	}
	t.shrink()
}

// dropFree gives the bytes of an ended flow kept for reuse back to the
// budget, if one is kept, and its slot lets go of it: the bytes released
// are garbage, not still held by t.free's array.
func (t *Table) dropFree() {
	if n := len(t.free); n > 0 {
		t.free[n-1] = nil
		t.free = t.free[:n-1]
		t.acct.Release(budget.Flows, FlowBytes)
	}
}

// grow doubles the index if the budget has the bytes.
func (t *Table) grow() bool {
	return t.resize(max(2*len(t.idx.flows), minIndexSlots), true)
}

// shrink halves the index while it is less than 1/8 full (after a flood).
func (t *Table) shrink() {
	slots := len(t.idx.flows)
	for slots > minIndexSlots && t.idx.n*8 < slots {
		slots /= 2
	}
	if slots < len(t.idx.flows) {
		t.resize(slots, true) // refused (another worker took the bytes): keep the larger one
	}
}

// resize rebuilds the index with slots slots, paid for by the budget
// before the old one is given back. With mustPay it fails if the budget
// refuses; else (no flow left to evict) it goes ahead unpaid.
func (t *Table) resize(slots int, mustPay bool) bool {
	cost := int64(slots) * slotBytes
	paid := t.acct.Reserve(budget.Flows, cost)
	if !paid && mustPay {
		return false
	}
	t.acct.Release(budget.Flows, t.idxPaid)
	t.idxPaid = 0
	if paid {
		t.idxPaid = cost
	}
	t.idx.resize(slots)
	return true
}

// evictOrder ranks the timeout classes from the least valuable: flows
// already closed (only late packets are left to see), handshakes that
// never carried data (S0, a flood's), then the rest, established TCP last.
var evictOrder = [numClasses]timeoutClass{classTCPClosed, classTCPHandshake, classOther, classICMP, classUDP, classTCP}

// evict ends the least recently active flow of the least valuable class
// (its event is emitted, end reason "evicted") and keeps it for reuse. It
// reports whether there was a flow to evict.
func (t *Table) evict(forMemory bool) bool {
	for _, c := range evictOrder {
		if f := t.lists[c].head; f != nil {
			t.lists[c].remove(f)
			if forMemory {
				f.bits |= byMemory
				t.stats.EvictedMemory++
			} else {
				t.stats.EvictedMaxFlows++
			}
			t.end(f, EndEvicted)
			return true
		}
	}
	return false
}

// end emits f and recycles it; the caller has taken f out of its list.
func (t *Table) end(f *Flow, why EndReason) {
	if !t.flushing {
		t.idx.remove(f)
	}
	t.unscheduleReport(f)
	f.EndReason = why
	t.stats.Ended[why]++
	t.onEnd(f)
	if f.bits&tunnelPaid != 0 {
		t.acct.Release(budget.Flows, tunnelBytes)
	}
	f.App, f.Tunnel = nil, nil
	switch {
	case f.bits&unpaid != 0:
		// Dropped: the budget never paid for it.
	case len(t.free) < maxFree:
		t.free = append(t.free, f)
	default:
		t.acct.Release(budget.Flows, FlowBytes)
	}
}

// Expire ends every flow inactive for longer than its timeout at now.
func (t *Table) Expire(now time.Time) {
	ns := now.UnixNano()
	t.lastSweep = ns
	for c := range t.lists {
		l := &t.lists[c]
		for l.head != nil && ns-l.head.last > int64(t.timeouts[c]) {
			f := l.head
			l.remove(f)
			t.end(f, f.closedReason())
		}
	}
	t.interims(ns)
	t.shrink()
}

// Flush ends every flow (end of input), least recently active first, so the
// order is the same on every run, and gives the table's memory back: by
// their last packet's time, and those of one time class by class, each
// class in its list's order.
func (t *Table) Flush() {
	t.flushing = true
	if t.listsSorted() {
		// Each list is in the order of its flows' last times already: the
		// oldest of their fronts comes next (the first class's on a tie),
		// which is the stable sort below without a pass over the flows,
		// most of them out of the cache in a large table, before ending them.
		for f := t.oldestFront(); f != nil; f = t.oldestFront() {
			t.flushOne(f)
		}
	} else {
		type byLast struct {
			last int64
			f    *Flow
		}
		all := make([]byLast, 0, t.idx.n)
		for c := range t.lists {
			for f := t.lists[c].head; f != nil; f = f.next {
				all = append(all, byLast{f.last, f})
			}
		}
		slices.SortStableFunc(all, func(a, b byLast) int { return cmp.Compare(a.last, b.last) })
		for _, e := range all {
			t.flushOne(e.f)
		}
	}
	t.flushing = false
	t.acct.Release(budget.Flows, int64(len(t.free))*FlowBytes+t.idxPaid)
	t.free, t.idx, t.idxPaid = nil, index{}, 0
}

// flushOne ends f at the end of input.
func (t *Table) flushOne(f *Flow) {
	t.lists[f.class].remove(f)
	why := EndEOF
	if f.class == classTCPClosed {
		why = f.closedReason()
	}
	t.end(f, why)
}

// listsSorted says whether every list is in the order of its flows' last
// packet times.
func (t *Table) listsSorted() bool {
	for c := range t.lists {
		if t.lists[c].unsorted {
			return false
		}
	}
	return true
}

// oldestFront is the front flow of the lists whose last packet is the
// oldest, of the first class among equals; nil when they are empty.
func (t *Table) oldestFront() *Flow {
	var oldest *Flow
	for c := range t.lists {
		if f := t.lists[c].head; f != nil && (oldest == nil || f.last < oldest.last) {
			oldest = f
		}
	}
	return oldest
}
