package rules

import (
	"cmp"
	"hash/maphash"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/internal/prefetch"
)

// stateMem is the memory of one rule's state (in one shard): reserved from
// the memory budget (pool rules) and bounded per rule, so that a scan with
// ever new groups or distinct values cannot grow it without end. When
// refused, new groups and values are not tracked, and counted.
type stateMem struct {
	// acct is the account of the worker holding the state now: the
	// Evaluator's own, or with shared state the one that took the shard's
	// lock. Bytes reserved by one worker may be given back by another;
	// the budget's total stays right.
	acct    *budget.Account
	used    int64
	max     int64
	closed  bool   // the state was discarded and its bytes given back
	refused uint64 // groups, keys or values not tracked for want of memory
}

// reserve reserves n bytes; a refusal is counted.
func (m *stateMem) reserve(n int64) bool {
	if m.take(n, n) {
		return true
	}
	m.refuse()
	return false
}

// take reserves n bytes if the rule's bound leaves room for need (n and
// what is to follow it); a refusal is the caller's to count.
func (m *stateMem) take(n, need int64) bool {
	if !m.fits(need) || !m.acct.Reserve(budget.Rules, n) {
		return false
	}
	m.used += n
	return true
}

// fits reports whether the rule's bound leaves room for need bytes more.
func (m *stateMem) fits(need int64) bool {
	return !m.closed && m.used+need <= m.max
}

// refuse counts something not tracked for want of memory.
func (m *stateMem) refuse() {
	if !m.closed {
		m.refused++
	}
}

func (m *stateMem) release(n int64) {
	if m.closed {
		return
	}
	m.used -= n
	m.acct.Release(budget.Rules, n)
}

// close gives back everything held; the state is no longer used.
func (m *stateMem) close() {
	m.release(m.used)
	m.closed = true
}

// Reserved bytes per distinct-value map (as made, for seenHint values) and
// per distinct value beyond its bytes (map slot with growth slack), as
// measured on Go's maps. An LRU entry reserves entrySlack beyond its key
// (the key's allocation, the index slot); its struct is paid with its page
// (lrupage.go).
var (
	seenMapCost  = int64(288)
	distinctCost = int64(48)
)

const entrySlack = 64

// seenHint sizes a new distinct-value map: small, as most groups (one
// source's few ports) stay small.
const seenHint = 8

// lru is a bounded map with least-recently-used order. Entries also carry
// the newest event time they saw, so the tail can be expired by event time.
//
// The index is open-addressed (linear probing, at most half full, deletion
// by backward shift) over the entries' own structs, which are reused: a
// flood of new keys through a full map, or groups coming and going,
// allocates nothing (entries come from pages, one emptied page is kept:
// lrupage.go), where a Go map with a list cost a map slot, a list entry
// and a key string per key. Keys are hashed with a random seed, as a
// Go map's, so that attacker-chosen keys cannot be made to collide.
type lru[V any] struct {
	// tags[i] is the low bits of the hash of slots[i]'s key with the top
	// bit set (0: empty): probes and moves compare hashes and find home
	// slots without touching the entries.
	tags       []uint32
	slots      []*lruEntry[V]
	n          int // entries
	seed       maphash.Seed
	head, tail *lruEntry[V] // head: most recently used
	max        int
	mem        *stateMem
	cost       int64  // reserved per entry beyond its key and struct
	entryBytes int64  // an entry's struct, reserved with its page
	evicted    uint64 // dropped for room while still live
	expired    uint64 // dropped because their window had passed
	// partial holds the pages with free entries; pageSlots counts the
	// entries of all pages; empty is the one page kept with none in use.
	partial   []*lruPage[V]
	pageSlots int
	empty     *lruPage[V]
	// clear empties a reused entry's value; nil: zero it. A threshold
	// group's leaves its 16 buckets as they were (cold, under a flood of
	// new groups), unread until written; a distinct one's its inline
	// values.
	clear func(*V)
	// drop, if set, takes what an entry's value holds as the entry
	// leaves the LRU, its bytes given back already.
	drop func(*V)
	// valWarm is how much of an evicted entry's value its next key
	// touches (clear or drop and zero): what warmTail prefetches.
	valWarm uintptr
}

// minSlots is the index size of an LRU's first entry.
const minSlots = 16

type lruEntry[V any] struct {
	// key is owned by the entry and reused by the next key it takes: copy
	// it to keep it past the entry's removal or the state's lock.
	key        []byte
	hash       uint64
	prev, next *lruEntry[V] // next: also the page's free list
	page       *lruPage[V]
	last       int64 // newest event time (Unix ns)
	cost       int64 // bytes reserved for the entry and what its value holds
	val        V
	// inline holds a short key (an address, a pair of IPv4 ones), so that
	// a new group allocates no key buffer.
	inline [inlineKey]byte
}

// inlineKey is the longest key kept in the entry's struct: two IPv4
// addresses with their separator, most IPv6 addresses' text. No more: an
// entry is what a new group's event clears and reads (a threshold group's
// within 640 bytes, a distinct threshold's 264), and a longer key has a
// buffer of its own.
const inlineKey = 32

// keyCost is what key reserves beyond the entry's struct.
func keyCost(key []byte) int64 {
	if len(key) <= inlineKey {
		return 0
	}
	return int64(len(key))
}

func newLRU[V any](max int, mem *stateMem) *lru[V] {
	var zero V
	return &lru[V]{seed: maphash.MakeSeed(), max: max, mem: mem, cost: entrySlack, entryBytes: int64(unsafe.Sizeof(lruEntry[V]{})), valWarm: unsafe.Sizeof(zero)}
}

// tagOf is the tag of hash h. An index has fewer than 2^31 slots, so the
// tag holds the bits that choose the home slot.
func tagOf(h uint64) uint32 { return uint32(h) | 1<<31 }

// find returns the slot of key (hash h) and its entry, or the empty slot
// where it would go and nil.
func (l *lru[V]) find(key []byte, h uint64) (int, *lruEntry[V]) {
	mask := len(l.tags) - 1
	tag := tagOf(h)
	for i := l.home(h); ; i = (i + 1) & mask {
		switch l.tags[i] {
		case 0:
			return i, nil
		case tag:
			if e := l.slots[i]; e.hash == h && string(e.key) == string(key) {
				return i, e
			}
		}
	}
}

// home is the slot where a key of hash h is looked for first.
func (l *lru[V]) home(h uint64) int { return int(h) & (len(l.tags) - 1) }

// warmSlot prefetches slot i of the index: its tag and entry pointer.
func (l *lru[V]) warmSlot(i int) {
	prefetch.Lines(unsafe.Pointer(&l.tags[i]), 4)
	prefetch.Lines(unsafe.Pointer(&l.slots[i]), 8)
}

// get returns the entry of key, nil if it has none, and the key's hash,
// which add takes for the key not found: a new group is hashed once.
func (l *lru[V]) get(key []byte) (*lruEntry[V], uint64) {
	return l.getHashed(key, maphash.Bytes(l.seed, key))
}

// hashWarm returns key's hash, for getHashed, and prefetches its home
// slot in the index (tag and entry pointer): the slot get probes and add
// fills. A new key's slot is a random one, cold under a flood of new
// groups; hashed while other work remains (Evaluator.prepare), it is in
// the cache by the time get probes it.
func (l *lru[V]) hashWarm(key []byte) uint64 {
	h := maphash.Bytes(l.seed, key)
	l.warmHash(h)
	return h
}

// warmHash prefetches the home slot of a key of hash h (hashWarm).
func (l *lru[V]) warmHash(h uint64) {
	if len(l.tags) > 0 {
		l.warmSlot(l.home(h))
	}
}

// getHashed is get of key whose hash h is known (hashWarm).
func (l *lru[V]) getHashed(key []byte, h uint64) (*lruEntry[V], uint64) {
	if l.n == 0 {
		return nil, h
	}
	_, e := l.find(key, h)
	if e != nil && e != l.head {
		l.unlink(e)
		l.pushFront(e)
	}
	return e, h
}

// add inserts key (not present; h is its hash from get), evicting the
// least recently used entry if the map is full. It returns nil, the key
// untracked, when the memory is refused.
func (l *lru[V]) add(key []byte, h uint64) *lruEntry[V] {
	var e *lruEntry[V]
	cost := l.cost + keyCost(key)
	evict := l.n >= l.max && l.tail != nil
	paid := false
	if evict {
		// The evicted entry's struct takes the new key, and the bytes it
		// reserved when they are as many (a flood's new groups, keyed by
		// address, evict ones alike): giving them back to reserve them
		// again cost each new group two atomic adds on the budget.
		e = l.tail
		paid = cost == e.cost && !l.mem.closed
		l.unindex(e, paid)
		l.evicted++
	} else if e = l.newEntry(); e == nil {
		return nil
	}
	if !paid && !l.mem.reserve(cost) {
		l.freeEntry(e)
		return nil
	}
	e.cost, e.last = cost, 0
	buf := e.key[:0]
	switch {
	case len(key) <= inlineKey:
		buf = e.inline[:0]
	case cap(buf) < len(key) || cap(buf) > len(key)+entrySlack:
		buf = make([]byte, 0, len(key)) // a key buffer stays within what is paid for
	}
	if l.clear != nil {
		l.clear(&e.val)
	} else {
		var zero V
		e.val = zero
	}
	e.key = append(buf, key...)
	e.hash = h
	if 2*(l.n+1) > len(l.tags) {
		l.grow()
	}
	i, _ := l.find(key, e.hash)
	l.tags[i], l.slots[i] = tagOf(e.hash), e
	l.n++
	l.pushFront(e)
	if evict {
		l.warmTail()
	}
	return e
}

// warmTail prefetches the lines the next eviction touches first: the
// tail's index slot (tag and entry pointer), and the entry after it, its
// list neighbour, whose link that eviction clears and which becomes the
// tail then. A flood of new groups through a full LRU evicts an entry
// unused since thousands of events, all of whose lines are cold; the
// eviction reached them one after the other (the slot through the entry's
// hash, the neighbour through its link) and the budget's atomic waited for
// the stores to them. Loads here would stall as long (a CPU retires in
// order); a prefetch does not.
//
// The tail's own fields (its hash, its link, its cost and value, its
// inline key) were prefetched by the eviction before, as its neighbour:
// the tail's slot is found through its hash, and the expiry that follows
// each use reads its time, where fetching the tail here made both wait.
func (l *lru[V]) warmTail() {
	t := l.tail
	if t == nil {
		return
	}
	l.warmSlot(l.home(t.hash))
	if p := t.prev; p != nil {
		prefetch.Lines(unsafe.Pointer(p), unsafe.Offsetof(p.val)+l.valWarm)
		prefetch.Lines(unsafe.Pointer(&p.inline), inlineKey)
	}
}

// grow doubles the index (makes the first one).
func (l *lru[V]) grow() {
	tags, slots := l.tags, l.slots
	size := max(2*len(tags), minSlots)
	l.tags, l.slots = make([]uint32, size), make([]*lruEntry[V], size)
	for _, e := range slots {
		if e != nil {
			i, _ := l.find(e.key, e.hash)
			l.tags[i], l.slots[i] = tagOf(e.hash), e
		}
	}
}

// expire drops up to n tail entries whose newest time is before cutoff.
func (l *lru[V]) expire(cutoff int64, n int) {
	for ; n > 0 && l.tail != nil && l.tail.last < cutoff; n-- {
		l.remove(l.tail)
		l.expired++
	}
}

// remove drops e, giving its struct back to its page.
func (l *lru[V]) remove(e *lruEntry[V]) {
	l.unindex(e, false)
	l.freeEntry(e)
}

// unindex takes e out of the list and the index and gives back what it
// reserved beyond its struct, unless keep: the caller reuses e and the
// bytes reserved for it (e.cost).
func (l *lru[V]) unindex(e *lruEntry[V], keep bool) {
	l.unlink(e)
	mask := len(l.tags) - 1
	i := l.home(e.hash)
	for l.slots[i] != e {
		i = (i + 1) & mask
	}
	// Backward shift: move up each later entry of the probe run that may
	// live at i, so that no run has a hole.
	for j := i; ; {
		l.tags[i], l.slots[i] = 0, nil
		for {
			j = (j + 1) & mask
			if l.tags[j] == 0 {
				l.n--
				if !keep {
					l.mem.release(e.cost)
				}
				if l.drop != nil {
					l.drop(&e.val)
				}
				return
			}
			// home of the entry at j; it may move to i unless home lies
			// cyclically in (i, j].
			if home := int(l.tags[j]) & mask; (j-home)&mask >= (j-i)&mask {
				break
			}
		}
		l.tags[i], l.slots[i] = l.tags[j], l.slots[j]
		i = j
	}
}

func (l *lru[V]) unlink(e *lruEntry[V]) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		l.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

func (l *lru[V]) pushFront(e *lruEntry[V]) {
	e.next = l.head
	if l.head != nil {
		l.head.prev = e
	}
	l.head = e
	if l.tail == nil {
		l.tail = e
	}
}

// Threshold windows slide on event time. Count and sum keep numBuckets
// sub-window buckets per group: the window at time t is the bucket of t and
// the numBuckets-1 before it, so it spans between (numBuckets-1)/numBuckets
// of the window and the whole window. Distinct keeps each value's newest
// time (no more values per group than it takes to fire), so it is exact.
//
// Out of order: an event older than the group's newest time is still
// counted if it falls inside the group's window; older ones are dropped and
// counted as late. When a group fires, it is reset: the next alert needs the
// threshold reached afresh within a window (add suppress to dedupe further).
const numBuckets = 16

// tgroup is a group of a count, sum or avg threshold.
type tgroup struct {
	newest int64
	// live has bit i set while buckets[i] holds events of the window: a
	// flood's new group (one per event, for a rule keyed by source) sums
	// its one bucket, not all numBuckets.
	live    uint16
	buckets [numBuckets]tbucket
}

// dgroup is a group of a distinct threshold: its values with their newest
// time, the first ones inline (few), all of them in seen once one does not
// fit. A type of its own, without tgroup's buckets: a flood of new sources
// makes a new group per event and evicts the least recent, so what an
// entry weighs is what each event reads and clears.
//
// The inline values come last: a new group (clearDGroup) writes the
// fields before them and its first value, not the lines of the others.
type dgroup struct {
	newest int64
	nfew   int32
	// big: seen held more than seenHint values (a map does not shrink),
	// so it is not kept for another group once emptied
	big       bool
	seen      map[string]int64
	seenBytes int64 // reserved for seen
	few       [smallSeen]inlineValue
}

// clearDGroup empties g without writing its inline values: nfew says
// none is held. Its map was let go as it left its LRU (lru.drop).
func clearDGroup(g *dgroup) { g.newest, g.nfew, g.big, g.seen, g.seenBytes = 0, 0, false, nil, 0 }

// smallSeen values of up to smallLen bytes (a port, an IPv4 address) are
// kept inside the group, paid with it: most groups (one source's few
// ports) stay that small, and a flood of new groups then allocates no map
// and no string for their values.
const (
	smallSeen = 4
	smallLen  = 23
)

type inlineValue struct {
	t int64
	n uint8
	b [smallLen]byte
}

func (v *inlineValue) bytes() []byte { return v.b[:v.n] }

type tbucket struct {
	idx int64
	val float64
	n   float64 // events, for averages
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// thrResult is what a threshold reports when it fires.
type thrResult struct {
	count   float64
	group   []string
	members []string // of a distinct threshold
	newest  int64    // the newest time counted (Unix ns): the alert's
}

// clearGroup empties g without writing its buckets: live says none holds
// anything.
func clearGroup(g *tgroup) { g.newest, g.live = 0, 0 }

// addBuckets adds v at time t; it reports whether the window total reached
// the threshold (and resets the group if so).
func (g *tgroup) addBuckets(t int64, v float64, th *Threshold) (bool, float64, bool) {
	w := int64(th.Window) / numBuckets
	if w <= 0 {
		w = 1
	}
	if t > g.newest {
		g.newest = t
	}
	cur := floorDiv(g.newest, w)
	bi := floorDiv(t, w)
	if bi <= cur-numBuckets {
		return false, 0, true // late
	}
	slot := ((bi % numBuckets) + numBuckets) % numBuckets
	b := &g.buckets[slot]
	if g.live&(1<<slot) == 0 || b.idx != bi {
		*b = tbucket{idx: bi}
		g.live |= 1 << slot
	}
	b.val += v
	b.n++
	// The live buckets in index order, as the sums were always taken. No
	// bucket is newer than cur (t is at most newest); one that has left
	// the window never comes back into it.
	var total, n float64
	for m := g.live; m != 0; m &= m - 1 {
		i := bits.TrailingZeros16(m)
		if bb := &g.buckets[i]; bb.idx > cur-numBuckets {
			total += bb.val
			n += bb.n
		} else {
			g.live &^= 1 << i
		}
	}
	if th.Type == "avg" {
		total /= n
	}
	if th.reached(total) {
		g.live = 0
		return true, total, false
	}
	return false, total, false
}

// addDistinct records value at time t, if mem grants it room. When the
// threshold fires it also returns the values counted (sorted, at most
// maxMembers).
func (g *dgroup) addDistinct(t int64, value []byte, th *Threshold, mem *stateMem, spare *seenMaps) (fire bool, n float64, late bool, members []string) {
	if t > g.newest {
		g.newest = t
	}
	cutoff := g.newest - int64(th.Window)
	if t <= cutoff {
		return false, 0, true, nil
	}
	if g.seen == nil {
		for i := range g.few[:g.nfew] {
			if v := &g.few[i]; string(v.bytes()) == string(value) {
				v.t = max(v.t, t)
				return false, float64(g.nfew), false, nil
			}
		}
		if th.reached(float64(g.nfew + 1)) {
			g.expireFew(cutoff)
		}
		if g.nfew < smallSeen && len(value) <= smallLen {
			v := &g.few[g.nfew]
			v.t, v.n = t, uint8(copy(v.b[:], value))
			g.nfew++
			fire, n, members = g.judgeDistinct(th, mem, spare)
			return fire, n, false, members
		}
		if !g.spill(th, mem, spare) {
			return false, float64(g.nfew), false, nil
		}
	}
	if old, ok := g.seen[string(value)]; ok {
		if t > old {
			g.seen[string(value)] = t
		}
		return false, float64(len(g.seen)), false, nil
	}
	if th.reached(float64(len(g.seen)+1)) || len(g.seen) >= maxDistinct {
		for k, ts := range g.seen {
			if ts <= cutoff {
				delete(g.seen, k)
				g.unsee(int64(len(k))+distinctCost, mem)
			}
		}
	}
	if cost := int64(len(value)) + distinctCost; len(g.seen) < maxDistinct && mem.reserve(cost) {
		g.seen[string(value)] = t
		g.seenBytes += cost
		g.big = g.big || len(g.seen) > seenHint
	}
	fire, n, members = g.judgeDistinct(th, mem, spare)
	return fire, n, false, members
}

// expireFew drops the inline values last seen at or before cutoff.
func (g *dgroup) expireFew(cutoff int64) {
	k := int32(0)
	for i := range g.few[:g.nfew] {
		if g.few[i].t > cutoff {
			g.few[k] = g.few[i]
			k++
		}
	}
	g.nfew = k
}

// spill moves the inline values into a map, for a value that does not fit
// inline; false when mem refuses the map.
func (g *dgroup) spill(th *Threshold, mem *stateMem, spare *seenMaps) bool {
	cost := seenMapCost
	for i := range g.few[:g.nfew] {
		cost += int64(g.few[i].n) + distinctCost
	}
	// A spare map's bytes are given back first: the group reserves them
	// again with its values, so a spare never takes the room of the
	// spill that would reuse it (refused, the map goes).
	m := spare.take(mem)
	if !mem.reserve(cost) {
		return false
	}
	if g.seen = m; g.seen == nil {
		g.seen = make(map[string]int64, max(min(int(th.Value)+1, seenHint), int(g.nfew)+1))
	}
	g.seenBytes, g.big = cost, false
	for i := range g.few[:g.nfew] {
		g.seen[string(g.few[i].bytes())] = g.few[i].t
	}
	g.nfew = 0
	return true
}

// judgeDistinct counts the group's values; when that reaches the threshold
// it returns them (sorted, at most maxMembers) and empties the group.
func (g *dgroup) judgeDistinct(th *Threshold, mem *stateMem, spare *seenMaps) (bool, float64, []string) {
	n := float64(int(g.nfew) + len(g.seen))
	if !th.reached(n) {
		return false, n, nil
	}
	members := make([]string, 0, int(n))
	for i := range g.few[:g.nfew] {
		members = append(members, string(g.few[i].bytes()))
	}
	for k := range g.seen {
		members = append(members, k)
	}
	sortMembers(members)
	g.nfew = 0
	g.unsee(g.seenBytes, mem)
	g.dropSeen(mem, spare)
	return true, n, members[:min(len(members), maxMembers):min(len(members), maxMembers)]
}

// dropSeen lets the group's map go, to spare if it stayed small (a map
// keeps its size once grown), its bytes given back already.
func (g *dgroup) dropSeen(mem *stateMem, spare *seenMaps) {
	if g.seen != nil && !g.big {
		spare.keep(g.seen, mem)
	}
	g.seen, g.big = nil, false
}

// seenMaps keeps emptied distinct-value maps that stayed small, for the
// next groups that spill (bench-large: 4,058 maps a run, groups of a few
// DNS names each coming and going): at most maxSpareMaps, each paid for
// on the rule's memory while kept.
type seenMaps struct {
	free []map[string]int64
}

const maxSpareMaps = 64

func (s *seenMaps) keep(m map[string]int64, mem *stateMem) {
	if len(s.free) >= maxSpareMaps || !mem.take(seenMapCost, seenMapCost) { // not a group refused: not counted
		return
	}
	clear(m)
	s.free = append(s.free, m)
}

// take returns a kept map, its bytes given back (the group reserves its
// own), or nil.
func (s *seenMaps) take(mem *stateMem) map[string]int64 {
	if len(s.free) == 0 {
		return nil
	}
	m := s.free[len(s.free)-1]
	s.free[len(s.free)-1] = nil
	s.free = s.free[:len(s.free)-1]
	mem.release(seenMapCost)
	return m
}

func (g *dgroup) unsee(n int64, mem *stateMem) {
	g.seenBytes -= n
	mem.release(n)
}

type suppEntry struct {
	lastAlert  int64
	suppressed int64
}

// ruleState is the threshold and suppression state of one rule.
type ruleState struct {
	groups  *lru[tgroup] // a count, sum or avg threshold's
	dgroups *lru[dgroup] // a distinct threshold's
	maps    seenMaps     // the dgroups' emptied small maps
	supp    *lru[suppEntry]
	seqs    *lru[seqEntry]
	absent  *lru[absEntry]
	lows    *lru[lowEntry]
	mem     stateMem
	late    uint64
}

// stateShard holds the state of every rule for one slice of group keys.
type stateShard struct {
	mu    sync.Mutex
	rules []ruleState
}

func newShard(nrules, maxGroups, maxSupp int, maxBytes int64) *stateShard {
	s := &stateShard{rules: make([]ruleState, nrules)}
	// The threshold groups of every rule hash their keys with one seed:
	// rules grouping by the same fields (PS-NET-002 and -007 by source
	// and destination) share a flow event's key and its hash (prepare).
	seed := maphash.MakeSeed()
	for i := range s.rules {
		rs := &s.rules[i]
		rs.mem.max = maxBytes
		rs.groups = newLRU[tgroup](maxGroups, &rs.mem)
		rs.groups.seed = seed
		rs.groups.clear = clearGroup
		rs.groups.valWarm = unsafe.Offsetof(tgroup{}.buckets)
		rs.dgroups = newLRU[dgroup](maxGroups, &rs.mem)
		rs.dgroups.seed = seed
		rs.dgroups.drop = func(g *dgroup) { g.dropSeen(&rs.mem, &rs.maps) }
		rs.dgroups.clear = clearDGroup
		rs.dgroups.valWarm = unsafe.Offsetof(dgroup{}.few) + unsafe.Sizeof(inlineValue{})
		rs.supp = newLRU[suppEntry](maxSupp, &rs.mem)
		rs.seqs = newLRU[seqEntry](maxGroups, &rs.mem)
		rs.absent = newLRU[absEntry](maxGroups, &rs.mem)
		rs.lows = newLRU[lowEntry](maxGroups, &rs.mem)
	}
	return s
}

// use hands the shard to the worker of acct (the caller holds its lock,
// if any).
func (s *stateShard) use(acct *budget.Account) {
	for i := range s.rules {
		s.rules[i].mem.acct = acct
	}
}

// close gives back the memory of every rule's state through acct.
func (s *stateShard) close(acct *budget.Account) {
	s.use(acct)
	for i := range s.rules {
		s.rules[i].mem.close()
	}
}

// SharedState is threshold and suppression state shared by the Evaluators
// of several workers, sharded by group key with a mutex per shard.
//
// Why: the sensor shards packets by a symmetric hash of the 5-tuple, so the
// events of one source IP (a port scan) or one destination (a SYN flood)
// reach different workers; per-worker counters would each see only a part
// of the group and miss the threshold. With one worker, leave
// EvalOptions.Shared nil: per-worker state takes no lock and is
// deterministic. With several, pass one SharedState to every Evaluator;
// alerts are then correct but their order (and which event crosses the
// threshold) depends on scheduling.
type SharedState struct {
	shards []*stateShard
	seed   maphash.Seed
	set    *Set
}

// sharedShards is the number of shards of a SharedState.
const sharedShards = 16

// NewSharedState makes the shared state for set. MaxGroups,
// MaxSuppressKeys and MaxStateBytes of opts bound each rule in all (split
// over the shards).
func NewSharedState(set *Set, opts EvalOptions) *SharedState {
	opts.defaults()
	s := &SharedState{seed: maphash.MakeSeed(), set: set}
	per := max(opts.MaxGroups/sharedShards, 1)
	perS := max(opts.MaxSuppressKeys/sharedShards, 1)
	perB := max(opts.MaxStateBytes/sharedShards, 1)
	for range sharedShards {
		s.shards = append(s.shards, newShard(len(set.rules), per, perS, perB))
	}
	return s
}

// Close gives the state's memory back to the budget through acct, the
// calling worker's account: the rule set it served was replaced. Every
// worker may call it (the first gives back); Evaluators still using the
// state track nothing new.
func (s *SharedState) Close(acct *budget.Account) {
	for _, sh := range s.shards {
		sh.mu.Lock()
		sh.close(acct)
		sh.mu.Unlock()
	}
}

func (s *SharedState) shard(rule int, key []byte) *stateShard {
	var h maphash.Hash
	h.SetSeed(s.seed)
	h.Write(key)
	h.WriteByte(byte(rule))
	return s.shards[h.Sum64()%uint64(len(s.shards))]
}

// StateStats are the counters of threshold and suppression state.
type StateStats struct {
	Groups        int    // live threshold groups
	EvictedGroups uint64 // dropped for room (MaxGroups) while live
	ExpiredGroups uint64 // dropped after their window passed
	LateEvents    uint64 // events older than their group's window
	SuppressKeys  int    // live suppression keys
	EvictedKeys   uint64 // suppression keys dropped for room
	Bytes         int64  // memory reserved for the state
	// Refused counts the groups, suppression keys and distinct values not
	// tracked because the rule's MaxStateBytes or the memory budget was
	// spent: thresholds may then fire late or not at all.
	Refused uint64
}

func (st *StateStats) addShard(s *stateShard) {
	for i := range s.rules {
		rs := &s.rules[i]
		st.Groups += rs.groups.n + rs.dgroups.n
		st.EvictedGroups += rs.groups.evicted + rs.dgroups.evicted
		st.ExpiredGroups += rs.groups.expired + rs.dgroups.expired
		st.LateEvents += rs.late
		st.SuppressKeys += rs.supp.n
		st.EvictedKeys += rs.supp.evicted
		st.Bytes += rs.mem.used
		st.Refused += rs.mem.refused
	}
}

// Stats sums the counters of every shard.
func (s *SharedState) Stats() StateStats {
	var st StateStats
	for _, sh := range s.shards {
		sh.mu.Lock()
		st.addShard(sh)
		sh.mu.Unlock()
	}
	return st
}

// threshold adds ev's contribution to group key of rule r. newest is the
// newest time the group has counted.
//
// hashed: h is key's hash in the rule's group LRU (hashWarm).
func thresholdAdd(rs *ruleState, r *Rule, key []byte, h uint64, hashed bool, t int64, distinct []byte, v float64) (fire bool, count float64, members []string, newest int64) {
	th := r.Threshold
	var late bool
	if th.Type == "distinct" {
		e := groupOf(rs.dgroups, key, h, hashed, t, th)
		if e == nil {
			return false, 0, nil, 0
		}
		before := e.val.seenBytes
		fire, count, late, members = e.val.addDistinct(t, distinct, th, &rs.mem, &rs.maps)
		e.cost += e.val.seenBytes - before
		newest = e.val.newest
		expireGroups(rs.dgroups, e, newest, th)
	} else {
		e := groupOf(rs.groups, key, h, hashed, t, th)
		if e == nil {
			return false, 0, nil, 0
		}
		fire, count, late = e.val.addBuckets(t, v, th)
		newest = e.val.newest
		expireGroups(rs.groups, e, newest, th)
	}
	if late {
		rs.late++
	}
	return fire, count, members, newest
}

// groupOf returns the group of key in groups, a new one if it has none;
// nil when there is no memory for a new group (the event goes untracked,
// counted). hashed: h is key's hash in groups (hashWarm).
func groupOf[V any](groups *lru[V], key []byte, h uint64, hashed bool, t int64, th *Threshold) *lruEntry[V] {
	var e *lruEntry[V]
	if hashed {
		e, h = groups.getHashed(key, h)
	} else {
		e, h = groups.get(key)
	}
	if e == nil {
		// Groups whose window passed give their memory back first.
		groups.expire(t-int64(th.Window), 2)
		e = groups.add(key, h)
	}
	return e
}

// expireGroups notes newest as e's last time, and expires a few groups
// whose window has passed (amortised, by event time).
func expireGroups[V any](groups *lru[V], e *lruEntry[V], newest int64, th *Threshold) {
	e.last = newest
	groups.expire(e.last-int64(th.Window), 2)
}

// suppressCheck reports whether an alert of key at t is suppressed, and if
// not, how many were suppressed since the last one.
func suppressCheck(rs *ruleState, r *Rule, key []byte, t int64) (bool, int64) {
	w := int64(r.Suppress.For)
	e, h := rs.supp.get(key)
	if e != nil {
		d := t - e.val.lastAlert
		if d < w && d > -w {
			e.val.suppressed++
			if t > e.last {
				e.last = t
			}
			return true, 0
		}
		n := e.val.suppressed
		e.val = suppEntry{lastAlert: t}
		e.last = t
		return false, n
	}
	rs.supp.expire(t-w, 2)
	if e = rs.supp.add(key, h); e == nil {
		return false, 0 // untracked: the alert goes out unsuppressed
	}
	e.val = suppEntry{lastAlert: t}
	e.last = t
	return false, 0
}

func formatCount(c float64) int64 {
	if c > 1<<62 {
		return 1 << 62
	}
	return int64(c)
}

// sortMembers orders two numbers (ports, counts) by value, the rest as
// text. Each member is parsed once: the comparison parsed both at each of
// the sort's steps, and one that is not a number (a DNS name) made an
// error, two allocations, each time (a distinct threshold over the names
// of a flood of 60,000 new ones fired 600 times, 1.6 million allocations).
func sortMembers(members []string) {
	type member struct {
		s   string
		f   float64
		num bool
	}
	ms := make([]member, len(members))
	for i, s := range members {
		ms[i].s = s
		ms[i].f, ms[i].num = parseMember(s)
	}
	slices.SortFunc(ms, func(a, b member) int {
		if a.num && b.num {
			return cmp.Compare(a.f, b.f)
		}
		return strings.Compare(a.s, b.s)
	})
	for i := range ms {
		members[i] = ms[i].s
	}
}

// parseMember is strconv.ParseFloat(s, 64) without the error's allocation
// for a string that cannot be a number: one starts, after its sign, with
// a digit, a point, or the "i" of inf(inity) or the "n" of nan.
func parseMember(s string) (float64, bool) {
	t := s
	if len(t) > 0 && (t[0] == '+' || t[0] == '-') {
		t = t[1:]
	}
	if len(t) == 0 {
		return 0, false
	}
	if c := t[0]; !(c >= '0' && c <= '9' || c == '.' || c|0x20 == 'i' || c|0x20 == 'n') {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}
