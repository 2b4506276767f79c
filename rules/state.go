package rules

import (
	"hash/maphash"
	"sync"
	"time"
)

// lru is a bounded map with least-recently-used order. Entries also carry
// the newest event time they saw, so the tail can be expired by event time.
type lru[V any] struct {
	m          map[string]*lruEntry[V]
	head, tail *lruEntry[V] // head: most recently used
	max        int
	evicted    uint64 // dropped for room while still live
	expired    uint64 // dropped because their window had passed
}

type lruEntry[V any] struct {
	key        string
	prev, next *lruEntry[V]
	last       int64 // newest event time (Unix ns)
	val        V
}

func newLRU[V any](max int) *lru[V] {
	return &lru[V]{m: make(map[string]*lruEntry[V]), max: max}
}

func (l *lru[V]) get(key []byte) *lruEntry[V] {
	e := l.m[string(key)]
	if e != nil && e != l.head {
		l.unlink(e)
		l.pushFront(e)
	}
	return e
}

// add inserts key (not present), evicting the least recently used entry if
// the map is full.
func (l *lru[V]) add(key []byte) *lruEntry[V] {
	if len(l.m) >= l.max && l.tail != nil {
		l.remove(l.tail)
		l.evicted++
	}
	e := &lruEntry[V]{key: string(key)}
	l.m[e.key] = e
	l.pushFront(e)
	return e
}

// expire drops up to n tail entries whose newest time is before cutoff.
func (l *lru[V]) expire(cutoff int64, n int) {
	for ; n > 0 && l.tail != nil && l.tail.last < cutoff; n-- {
		l.remove(l.tail)
		l.expired++
	}
}

func (l *lru[V]) remove(e *lruEntry[V]) {
	l.unlink(e)
	delete(l.m, e.key)
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
// time (at most gte values per group), so it is exact.
//
// Out of order: an event older than the group's newest time is still
// counted if it falls inside the group's window; older ones are dropped and
// counted as late. When a group fires, it is reset: the next alert needs a
// fresh gte within a window (add suppress to dedupe further).
const numBuckets = 16

type tgroup struct {
	newest  int64
	buckets [numBuckets]tbucket
	seen    map[string]int64
}

type tbucket struct {
	idx  int64
	used bool
	val  float64
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
	count float64
	group []string
}

// addBuckets adds v at time t; it reports whether the window total reached
// gte (and resets the group if so).
func (g *tgroup) addBuckets(t int64, v float64, window time.Duration, gte float64) (bool, float64, bool) {
	w := int64(window) / numBuckets
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
	b := &g.buckets[((bi%numBuckets)+numBuckets)%numBuckets]
	if !b.used || b.idx != bi {
		*b = tbucket{idx: bi, used: true}
	}
	b.val += v
	var total float64
	for i := range g.buckets {
		if bb := &g.buckets[i]; bb.used && bb.idx > cur-numBuckets && bb.idx <= cur {
			total += bb.val
		}
	}
	if total >= gte {
		g.buckets = [numBuckets]tbucket{}
		return true, total, false
	}
	return false, total, false
}

// addDistinct records value at time t.
func (g *tgroup) addDistinct(t int64, value []byte, window time.Duration, gte float64) (bool, float64, bool) {
	if t > g.newest {
		g.newest = t
	}
	cutoff := g.newest - int64(window)
	if t <= cutoff {
		return false, 0, true
	}
	if g.seen == nil {
		g.seen = make(map[string]int64, min(int(gte), 64))
	}
	if old, ok := g.seen[string(value)]; ok {
		if t > old {
			g.seen[string(value)] = t
		}
		return false, float64(len(g.seen)), false
	}
	if float64(len(g.seen)+1) >= gte || len(g.seen) >= maxDistinct {
		for k, ts := range g.seen {
			if ts <= cutoff {
				delete(g.seen, k)
			}
		}
	}
	if len(g.seen) < maxDistinct {
		g.seen[string(value)] = t
	}
	n := float64(len(g.seen))
	if n >= gte {
		clear(g.seen)
		return true, n, false
	}
	return false, n, false
}

type suppEntry struct {
	lastAlert  int64
	suppressed int64
}

// ruleState is the threshold and suppression state of one rule.
type ruleState struct {
	groups *lru[tgroup]
	supp   *lru[suppEntry]
	late   uint64
}

// stateShard holds the state of every rule for one slice of group keys.
type stateShard struct {
	mu    sync.Mutex
	rules []ruleState
}

func newShard(nrules, maxGroups, maxSupp int) *stateShard {
	s := &stateShard{rules: make([]ruleState, nrules)}
	for i := range s.rules {
		s.rules[i] = ruleState{groups: newLRU[tgroup](maxGroups), supp: newLRU[suppEntry](maxSupp)}
	}
	return s
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

// NewSharedState makes the shared state for set. MaxGroups and
// MaxSuppressKeys of opts bound each rule in all (split over the shards).
func NewSharedState(set *Set, opts EvalOptions) *SharedState {
	opts.defaults()
	s := &SharedState{seed: maphash.MakeSeed(), set: set}
	per := max(opts.MaxGroups/sharedShards, 1)
	perS := max(opts.MaxSuppressKeys/sharedShards, 1)
	for range sharedShards {
		s.shards = append(s.shards, newShard(len(set.rules), per, perS))
	}
	return s
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
}

func (st *StateStats) addShard(s *stateShard) {
	for i := range s.rules {
		rs := &s.rules[i]
		st.Groups += len(rs.groups.m)
		st.EvictedGroups += rs.groups.evicted
		st.ExpiredGroups += rs.groups.expired
		st.LateEvents += rs.late
		st.SuppressKeys += len(rs.supp.m)
		st.EvictedKeys += rs.supp.evicted
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

// threshold adds ev's contribution to group key of rule r.
func thresholdAdd(rs *ruleState, r *Rule, key []byte, t int64, distinct []byte, v float64) (fire bool, count float64) {
	th := r.Threshold
	e := rs.groups.get(key)
	if e == nil {
		e = rs.groups.add(key)
	}
	var late bool
	if th.Type == "distinct" {
		fire, count, late = e.val.addDistinct(t, distinct, th.Window, th.GTE)
	} else {
		fire, count, late = e.val.addBuckets(t, v, th.Window, th.GTE)
	}
	if late {
		rs.late++
	}
	e.last = e.val.newest
	// Expire a few groups whose window has passed (amortised, by event time).
	rs.groups.expire(e.last-int64(th.Window), 2)
	return fire, count
}

// suppressCheck reports whether an alert of key at t is suppressed, and if
// not, how many were suppressed since the last one.
func suppressCheck(rs *ruleState, r *Rule, key []byte, t int64) (bool, int64) {
	w := int64(r.Suppress.For)
	e := rs.supp.get(key)
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
	e = rs.supp.add(key)
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
