package enrich

import (
	"cmp"
	"math"
	"net/netip"
	"slices"
)

// The IP indicator table: every IP and CIDR indicator is flattened, at load
// time, into sorted, disjoint address intervals, each carrying the payload
// of the most specific (longest) prefix that covers it. A lookup is a binary
// search inside one bucket picked by the top bits of the address (see
// indexBits), so it touches a handful of cache lines whatever the list size.
//
// Memory: an isolated prefix costs one interval, 12 bytes for IPv4 (first,
// last, payload as uint32) and 40 bytes for IPv6; a prefix nested inside
// another splits its parent and costs up to two intervals. Adjacent intervals
// with the same payload are merged, so a dense block of /32s from one feed
// costs no more than its covering CIDR. The tables are immutable once built.

// payload identifies what matched: 0 is "nothing", values with the high bit
// set index intelDB.sets (several indicators share the prefix), any other
// value v is the single metadata record metas[v-1].
type payload = uint32

const setBit payload = 1 << 31

// u128 is an IPv6 address as two big-endian halves.
type u128 struct{ hi, lo uint64 }

func (a u128) cmp(b u128) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

// ipKey is the small arithmetic the interval sweep needs.
type ipKey[K any] interface {
	comparable
	cmp(K) int
	succ() K
	pred() K
	isMax() bool
}

type k4 uint32

func (a k4) cmp(b k4) int  { return cmp.Compare(a, b) }
func (a k4) succ() k4      { return a + 1 }
func (a k4) pred() k4      { return a - 1 }
func (a k4) isMax() bool   { return a == math.MaxUint32 }
func (a u128) isMax() bool { return a.hi == math.MaxUint64 && a.lo == math.MaxUint64 }
func (a u128) pred() u128 {
	if a.lo == 0 {
		return u128{a.hi - 1, math.MaxUint64}
	}
	return u128{a.hi, a.lo - 1}
}

func (a u128) succ() u128 {
	if a.lo == math.MaxUint64 {
		return u128{a.hi + 1, 0}
	}
	return u128{a.hi, a.lo + 1}
}

// span is one prefix (or, after the sweep, one interval) with its payload;
// first and last are inclusive.
type span[K ipKey[K]] struct {
	first, last K
	val         payload
}

// sweepSpans turns possibly nested, possibly duplicated prefixes into sorted
// disjoint intervals, each with the payload of its longest covering prefix.
// Duplicated prefixes have their payloads combined with merge. ents is
// sorted in place.
func sweepSpans[K ipKey[K]](ents []span[K], merge func(a, b payload) payload) []span[K] {
	// Outer prefixes first: by start, then by end descending.
	slices.SortFunc(ents, func(a, b span[K]) int {
		if c := a.first.cmp(b.first); c != 0 {
			return c
		}
		return b.last.cmp(a.last)
	})
	// Merge duplicates in place.
	n := 0
	for i := range ents {
		if n > 0 && ents[n-1].first == ents[i].first && ents[n-1].last == ents[i].last {
			ents[n-1].val = merge(ents[n-1].val, ents[i].val)
			continue
		}
		ents[n] = ents[i]
		n++
	}
	ents = ents[:n]

	out := make([]span[K], 0, len(ents))
	emit := func(first, last K, v payload) {
		if len(out) > 0 {
			p := &out[len(out)-1]
			if p.val == v && !p.last.isMax() && p.last.succ() == first {
				p.last = last
				return
			}
		}
		out = append(out, span[K]{first, last, v})
	}
	var stack []span[K]
	var pos K     // first address not yet emitted
	done := false // pos has passed the last address
	pop := func() {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !done && pos.cmp(top.last) <= 0 {
			emit(pos, top.last, top.val)
		}
		if top.last.isMax() {
			done = true
		} else if !done && pos.cmp(top.last) <= 0 {
			pos = top.last.succ()
		}
	}
	for _, e := range ents {
		for len(stack) > 0 && stack[len(stack)-1].last.cmp(e.first) < 0 {
			pop()
		}
		if len(stack) > 0 && pos.cmp(e.first) < 0 {
			// The part of the parent before this child.
			emit(pos, e.first.pred(), stack[len(stack)-1].val)
		}
		pos = e.first
		stack = append(stack, e)
	}
	for len(stack) > 0 {
		pop()
	}
	return out
}

// v4Table answers longest-prefix matches for IPv4 addresses. An interval
// is one 12-byte record, so the final check of a lookup reads the cache
// line the search already brought in.
type v4Table struct {
	idx   []uint32 // 1<<bits + 1 entries when non-empty: intervals whose first address has top bits h are iv[idx[h]:idx[h+1]]
	shift uint     // 32 - bits
	iv    []iv4
}

// indexBits sizes the bucket index for n intervals: about 8 intervals a
// bucket (a search of 3 steps within 2 cache lines), between 2^12 and 2^22
// buckets (16 KiB to 16 MiB, under half a byte per interval).
func indexBits(n int) uint {
	bits := uint(12)
	for bits < 22 && n>>bits > 8 {
		bits++
	}
	return bits
}

type iv4 struct {
	first, last uint32
	val         payload
}

func buildV4(ents []span[k4], merge func(a, b payload) payload) v4Table {
	sw := sweepSpans(ents, merge)
	if len(sw) == 0 {
		return v4Table{}
	}
	bits := indexBits(len(sw))
	t := v4Table{idx: make([]uint32, 1<<bits+1), shift: 32 - bits, iv: make([]iv4, len(sw))}
	for i, s := range sw {
		t.iv[i] = iv4{uint32(s.first), uint32(s.last), s.val}
	}
	fillIndex(t.idx, len(sw), func(i int) uint32 { return t.iv[i].first >> t.shift })
	return t
}

// fillIndex sets idx[h] to the first interval whose bucket is >= h.
func fillIndex(idx []uint32, n int, bucket func(i int) uint32) {
	i := 0
	for h := range idx {
		for i < n && bucket(i) < uint32(h) {
			i++
		}
		idx[h] = uint32(i)
	}
}

func (t *v4Table) lookup(a uint32) payload {
	if len(t.idx) == 0 {
		return 0
	}
	h := a >> t.shift
	lo, hi := t.idx[h], t.idx[h+1]
	// First interval in the bucket that starts after a.
	for lo < hi {
		m := (lo + hi) >> 1
		if t.iv[m].first <= a {
			lo = m + 1
		} else {
			hi = m
		}
	}
	// The candidate is the interval just before: it may start in an earlier
	// bucket (a wide CIDR).
	if lo == 0 {
		return 0
	}
	if v := &t.iv[lo-1]; v.last >= a {
		return v.val
	}
	return 0
}

func (t *v4Table) len() int { return len(t.iv) }

func (t *v4Table) bytes() int { return 4*len(t.idx) + 12*len(t.iv) }

// v6Table is v4Table for IPv6, bucketed by the top bits of the high half.
type v6Table struct {
	idx   []uint32
	shift uint // 64 - bits, applied to the high half
	iv    []iv6
}

type iv6 struct {
	first, last u128
	val         payload
}

func buildV6(ents []span[u128], merge func(a, b payload) payload) v6Table {
	sw := sweepSpans(ents, merge)
	if len(sw) == 0 {
		return v6Table{}
	}
	bits := indexBits(len(sw))
	t := v6Table{idx: make([]uint32, 1<<bits+1), shift: 64 - bits, iv: make([]iv6, len(sw))}
	for i, s := range sw {
		t.iv[i] = iv6(s)
	}
	fillIndex(t.idx, len(sw), func(i int) uint32 { return uint32(t.iv[i].first.hi >> t.shift) })
	return t
}

func (t *v6Table) lookup(a u128) payload {
	if len(t.idx) == 0 {
		return 0
	}
	h := a.hi >> t.shift
	lo, hi := t.idx[h], t.idx[h+1]
	for lo < hi {
		m := (lo + hi) >> 1
		if s := t.iv[m].first; s.hi < a.hi || (s.hi == a.hi && s.lo <= a.lo) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return 0
	}
	if v := &t.iv[lo-1]; v.last.hi > a.hi || (v.last.hi == a.hi && v.last.lo >= a.lo) {
		return v.val
	}
	return 0
}

// bytes counts an IPv6 interval as 40 bytes (36 plus alignment).
func (t *v6Table) bytes() int { return 4*len(t.idx) + 40*len(t.iv) }

// prefixSpan4 returns the inclusive range of an IPv4 prefix (p is masked).
func prefixSpan4(p netip.Prefix) (first, last k4) {
	b := p.Addr().As4()
	f := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	host := uint32(0)
	if bits := p.Bits(); bits < 32 {
		host = math.MaxUint32 >> bits
	}
	return k4(f), k4(f | host)
}

// prefixSpan6 returns the inclusive range of an IPv6 prefix (p is masked).
func prefixSpan6(p netip.Prefix) (first, last u128) {
	f := addr128(p.Addr())
	bits := p.Bits()
	l := f
	switch {
	case bits == 0:
		l = u128{math.MaxUint64, math.MaxUint64}
	case bits < 64:
		l = u128{f.hi | math.MaxUint64>>bits, math.MaxUint64}
	case bits < 128:
		l = u128{f.hi, f.lo | math.MaxUint64>>(bits-64)}
	}
	return f, l
}

func addr128(a netip.Addr) u128 {
	b := a.As16()
	var hi, lo uint64
	for i := range 8 {
		hi = hi<<8 | uint64(b[i])
		lo = lo<<8 | uint64(b[8+i])
	}
	return u128{hi, lo}
}

func addr32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
