package rules

// An LRU's entries live in pages, arrays of entries made as the LRU grows:
// a new group takes a free entry of a page, where each took an allocation
// of its own (bench-large: about 27,000 a run, groups living over the
// whole capture). A page's whole array is reserved on the rule's memory
// when it is made and given back when its last entry is freed, so entries
// freed in a page still in use stay paid for, however the traffic leaves
// them scattered. One emptied page is kept, still paid for: groups coming
// and going one at a time then allocate nothing.
type lruPage[V any] struct {
	entries []lruEntry[V]
	free    *lruEntry[V] // the page's unused entries, linked by next
	live    int
	at      int // index in lru.partial while free is not nil
}

// maxPageEntries bounds a page; the first pages of an LRU are smaller (each
// as large as the pages before it together), so that a rule with few groups
// reserves little more than it uses.
const maxPageEntries = 64

// newEntry returns an unused entry, from a page with free ones or a new
// page; nil when mem refuses the page.
func (l *lru[V]) newEntry() *lruEntry[V] {
	if len(l.partial) == 0 && !l.newPage() {
		return nil
	}
	p := l.partial[len(l.partial)-1]
	e := p.free
	p.free, e.next = e.next, nil
	if p == l.empty {
		l.empty = nil
	}
	p.live++
	if p.free == nil {
		l.partial = l.partial[:len(l.partial)-1]
	}
	return e
}

// newPage adds a page of free entries, if mem grants its bytes with room
// for what its entries reserve beyond them. A page is halved, down to one
// entry, until it fits the rule's bound, so that a rule near its bound
// tracks as many groups as it has room for; a page the budget refuses is
// asked for once more as one entry (each refusal the budget counts is one
// request, not one of a series of halvings). Linking the entries is their first access, a store: a
// page fresh from the kernel is written before it is read (a read first
// maps the zero page, which the store then copies, flushing every core's
// TLB).
func (l *lru[V]) newPage() bool {
	n := min(max(l.pageSlots, 1), maxPageEntries, max(l.max-l.pageSlots, 1))
	for n > 1 && !l.mem.fits(int64(n)*(l.entryBytes+l.cost)) {
		n /= 2
	}
	if !l.mem.take(int64(n)*l.entryBytes, int64(n)*(l.entryBytes+l.cost)) {
		if n == 1 || !l.mem.take(l.entryBytes, l.entryBytes+l.cost) {
			l.mem.refuse()
			return false
		}
		n = 1
	}
	p := &lruPage[V]{entries: make([]lruEntry[V], n)}
	for i := range p.entries {
		e := &p.entries[i]
		e.page, e.next, p.free = p, p.free, e
	}
	l.pageSlots += n
	p.at = len(l.partial)
	l.partial = append(l.partial, p)
	return true
}

// freeEntry gives e, out of the list and the index, back to its page, and
// the page back to mem when e was its last entry in use and another
// emptied page is kept already. What the entry's value and key held is
// let go, not kept alive by the free entry (a value with a clear func, a
// threshold group's buckets, holds nothing).
func (l *lru[V]) freeEntry(e *lruEntry[V]) {
	if l.clear == nil {
		var zero V
		e.val = zero
	}
	if len(e.key) > 0 && &e.key[0] != &e.inline[0] {
		e.key = nil
	}
	p := e.page
	if p.free == nil {
		p.at = len(l.partial)
		l.partial = append(l.partial, p)
	}
	e.next, p.free = p.free, e
	if p.live--; p.live > 0 {
		return
	}
	if l.empty == nil {
		l.empty = p
		return
	}
	last := l.partial[len(l.partial)-1]
	l.partial[p.at], last.at = last, p.at
	l.partial[len(l.partial)-1] = nil
	l.partial = l.partial[:len(l.partial)-1]
	l.pageSlots -= len(p.entries)
	l.mem.release(int64(len(p.entries)) * l.entryBytes)
}
