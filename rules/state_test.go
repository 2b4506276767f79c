package rules

import (
	"cmp"
	"fmt"
	"hash/maphash"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// scan feeds a horizontal and vertical port scan: n sources, each probing
// ports distinct ports of one host.
func scan(ev *Evaluator, n, ports int) {
	for i := range n {
		src := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		for p := range ports {
			e := at(flowEvent(src, "192.0.2.1", 1+p), time.Duration(i*ports+p)*time.Microsecond)
			ev.Eval(&e, func(*schemas.Event) {})
		}
	}
}

const scanRule = `{type: distinct, field: destination.port, group_by: [source.ip], window: 1h, gte: 5000}`

// A scan with ever new sources and ports under a small budget: the rule
// state stays within it, what it could not track is counted, and closing
// the Evaluator gives every byte back.
func TestRuleStateStaysWithinBudget(t *testing.T) {
	const limit = 1 << 20
	b := budget.New(limit)
	acct := b.NewAccount()
	ev := NewEvaluator(thresholdSet(t, scanRule), EvalOptions{MaxGroups: 1 << 20})
	ev.UseBudget(acct)
	scan(ev, 20000, 20) // 20,000 groups of 20 distinct ports: ~60 MB untracked
	st := ev.Stats().State
	if used := b.Stats().Pools[budget.Rules].Used; used > limit || used != st.Bytes || used == 0 {
		t.Errorf("budget pool rules holds %d (limit %d), state %d", used, limit, st.Bytes)
	}
	if st.Refused == 0 || b.Stats().Pools[budget.Rules].Denied == 0 {
		t.Errorf("refused %d, denied %d", st.Refused, b.Stats().Pools[budget.Rules].Denied)
	}
	ev.Close()
	if used := acct.Used(budget.Rules); used != 0 {
		t.Errorf("%d bytes held after Close", used)
	}
}

// MaxStateBytes bounds one rule without a budget; expired groups give
// their bytes back, so tracking resumes.
func TestRuleStateBytesPerRule(t *testing.T) {
	const perRule = 256 << 10
	ev := NewEvaluator(thresholdSet(t, scanRule), EvalOptions{MaxGroups: 1 << 20, MaxStateBytes: perRule})
	scan(ev, 5000, 10)
	st := ev.Stats().State
	if st.Bytes > perRule || st.Refused == 0 {
		t.Errorf("state %d bytes (bound %d), refused %d", st.Bytes, perRule, st.Refused)
	}
	// A count threshold whose groups expire: memory comes back and new
	// groups are tracked again.
	// 1,000 groups live in a window, 20,000 over the scan.
	ev = NewEvaluator(thresholdSet(t, `{type: count, group_by: [source.ip], window: 1ms, gte: 1000}`), EvalOptions{MaxGroups: 1 << 20, MaxStateBytes: 1 << 20})
	scan(ev, 20000, 1)
	if st := ev.Stats().State; st.Refused != 0 || st.ExpiredGroups == 0 {
		t.Errorf("refused %d, expired %d", st.Refused, st.ExpiredGroups)
	}
}

// Shared state drawn on by four workers' accounts: the budget holds what
// the state holds, and one Close gives it all back.
func TestSharedRuleStateBudget(t *testing.T) {
	set := thresholdSet(t, scanRule)
	b := budget.New(2 << 20)
	sh := NewSharedState(set, EvalOptions{MaxGroups: 1 << 20})
	evs := make([]*Evaluator, 4)
	var wg sync.WaitGroup
	for w := range evs {
		evs[w] = NewEvaluator(set, EvalOptions{Shared: sh})
		evs[w].UseBudget(b.NewAccount())
		wg.Add(1)
		go func() {
			defer wg.Done()
			scan(evs[w], 5000, 10)
		}()
	}
	wg.Wait()
	st := sh.Stats()
	if used := b.Stats().Pools[budget.Rules].Used; used != st.Bytes || used > 2<<20 || st.Refused == 0 {
		t.Errorf("budget %d, state %d, refused %d", used, st.Bytes, st.Refused)
	}
	for _, ev := range evs {
		ev.Close()
	}
	if used := b.Stats().Pools[budget.Rules].Used; used != 0 {
		t.Errorf("%d bytes held after Close", used)
	}
}

// A new key is hashed once: add files it under the hash get made of it
// (a flood's new group per event took two hashes of its key). Filed under
// another hash, it is not found under its own, so add did not hash again.
func TestLRUAddTakesGetsHash(t *testing.T) {
	l := newLRU[tgroup](4, &stateMem{max: 1 << 30})
	key := []byte("10.0.0.1")
	e, h := l.get(key)
	if e != nil {
		t.Fatal("found in an empty LRU")
	}
	if e = l.add(key, h); e.hash != h || lookup(l, key) != e {
		t.Fatalf("added with hash %x, want %x, found %v", e.hash, h, lookup(l, key) == e)
	}
	other := []byte("10.0.0.2")
	_, ho := l.get(other)
	if e = l.add(other, ho^1); e.hash != ho^1 || lookup(l, other) == e {
		t.Errorf("a key filed under the hash given was found under its own: add hashed it again")
	}
}

// hashWarm hashes a key as get does, for getHashed to find what add
// filed under it.
func TestLRUHashWarmIsGetsHash(t *testing.T) {
	l := newLRU[dgroup](4, &stateMem{max: 1 << 30})
	key := []byte("10.0.0.1")
	h := l.hashWarm(key) // an empty index: nothing to prefetch
	if _, hg := l.get(key); hg != h {
		t.Fatalf("hashWarm %x, get %x", h, hg)
	}
	e := l.add(key, h)
	if got, _ := l.getHashed(key, l.hashWarm(key)); got != e {
		t.Errorf("getHashed of hashWarm's hash found %v, want the entry added", got)
	}
	if got, _ := l.getHashed([]byte("10.0.0.2"), l.hashWarm([]byte("10.0.0.2"))); got != nil {
		t.Errorf("another key found %v", got)
	}
}

// warmTail prefetches the lines of the tail's neighbour, the next tail:
// an LRU of one entry, whose tail has none, and of two, whose neighbour
// is the head just added, evict key after key and find each one added
// last.
func TestLRUEvictsThroughTailsNeighbour(t *testing.T) {
	for _, size := range []int{1, 2, 3} {
		l := newLRU[dgroup](size, &stateMem{max: 1 << 30})
		for i := range 50 {
			key := fmt.Appendf(nil, "10.0.%d.%d", i/256, i%256)
			e := insert(l, key)
			e.val.newest = int64(i)
			if l.n != min(i+1, size) || lookup(l, key) != e || l.tail.val.newest != int64(max(i-size+1, 0)) {
				t.Fatalf("size %d, key %d: %d entries, tail %d", size, i, l.n, l.tail.val.newest)
			}
		}
	}
}

// A full LRU makes room for a new key with its least recently used entry,
// whose struct and key buffer it reuses: adding then allocates nothing,
// the memory held stays that of max entries, and the evicted key is gone.
func TestLRUFullReusesEvicted(t *testing.T) {
	b := budget.New(1 << 30)
	mem := &stateMem{acct: b.NewAccount(), max: 1 << 30}
	l := newLRU[tgroup](4, mem)
	key := func(i int) []byte { return fmt.Appendf(nil, "10.0.0.%d", i) }
	for i := range 4 {
		insert(l, key(i)).val.newest = int64(i)
	}
	lookup(l, key(0)) // 1 is now the least recently used
	e := insert(l, key(9))
	if e.val.newest != 0 || string(e.key) != "10.0.0.9" || e.last != 0 {
		t.Errorf("new entry carries %+v / key %q last %d", e.val.newest, e.key, e.last)
	}
	if lookup(l, key(1)) != nil || lookup(l, key(0)) == nil || lookup(l, key(9)) != e || l.n != 4 || l.evicted != 1 {
		t.Errorf("after eviction: entries %d, evicted %d", l.n, l.evicted)
	}
	if want := 4 * (l.cost + l.entryBytes); mem.used != want || l.pageSlots != 4 { // short keys live in the entries
		t.Errorf("state holds %d bytes, want %d", mem.used, want)
	}
	keys := make([][]byte, 200)
	for i := range keys {
		keys[i] = key(100 + i)
	}
	n := 0
	if allocs := testing.AllocsPerRun(100, func() { insert(l, keys[n%len(keys)]); n++ }); allocs != 0 {
		t.Errorf("adding to a full LRU: %v allocations, want 0", allocs)
	}
}

// A new group keyed by an address allocates no more than its share of a
// page: the key lives in the entry's struct, the entry in a page.
func TestLRUShortKeyInEntry(t *testing.T) {
	b := budget.New(1 << 30)
	mem := &stateMem{acct: b.NewAccount(), max: 1 << 30}
	l := newLRU[tgroup](1000, mem)
	keys := groupKeys(101, "2001:db8:ffff:ffff:ffff::%x")
	n := 0
	// Pages of 1, 1, 2, 4, …, 64 entries, and the index doubling a few
	// times.
	if allocs := testing.AllocsPerRun(100, func() { insert(l, keys[n]); n++ }); allocs > 0.25 {
		t.Errorf("a new short key: %v allocations, want at most 0.25", allocs)
	}
	if e := lookup(l, keys[7]); e == nil || string(e.key) != string(keys[7]) || mem.used != int64(n)*l.cost+int64(l.pageSlots)*l.entryBytes || l.pageSlots < n || l.pageSlots > 2*n {
		t.Errorf("key 7: %v; %d bytes held for %d entries of %d in %d page slots", e != nil, mem.used, n, l.cost, l.pageSlots)
	}
	// The key's room keeps a threshold group's entry, what a new group's
	// event clears and reads, within 640 bytes.
	if size := unsafe.Sizeof(lruEntry[tgroup]{}); size > 640 {
		t.Errorf("a threshold group's entry is %d bytes", size)
	}
}

// A rule whose bound leaves room for 20 groups tracks 20: a page refused
// is halved down to what fits, entries' own bytes included.
func TestLRUTracksUpToItsBound(t *testing.T) {
	b := budget.New(1 << 30)
	per := int64(unsafe.Sizeof(lruEntry[tgroup]{})) + entrySlack
	mem := &stateMem{acct: b.NewAccount(), max: 20 * per}
	l := newLRU[tgroup](1000, mem)
	for i := range 21 {
		insert(l, fmt.Appendf(nil, "10.0.0.%d", i))
	}
	if l.n != 20 || mem.refused != 1 || mem.used != 20*per {
		t.Errorf("%d groups tracked, %d refused, %d bytes held (bound %d)", l.n, mem.refused, mem.used, mem.max)
	}
}

// A spent budget refuses a group's page, then the group's one entry (and
// maybe its key's bytes): a few refusals counted a group, not one per
// halving of the page.
func TestLRUBudgetRefusalsCountedOnce(t *testing.T) {
	per := int64(unsafe.Sizeof(lruEntry[tgroup]{}))
	b := budget.New(40 * per)
	mem := &stateMem{acct: b.NewAccount(), max: 1 << 30}
	l := newLRU[tgroup](1000, mem)
	for i := range 200 {
		insert(l, fmt.Appendf(nil, "10.0.%d.%d", i/256, i%256))
	}
	denied := b.Stats().Pools[budget.Rules].Denied
	if l.n == 0 || mem.refused == 0 || denied > 3*mem.refused {
		t.Errorf("%d groups tracked, %d refused, %d refusals counted by the budget", l.n, mem.refused, denied)
	}
}

// Groups coming and going one at a time (added, then expired) reuse an
// emptied page: no allocation, and its bytes stay reserved.
func TestLRUGroupsComingAndGoingAllocateNothing(t *testing.T) {
	b := budget.New(1 << 30)
	mem := &stateMem{acct: b.NewAccount(), max: 1 << 30}
	l := newLRU[tgroup](1000, mem)
	keys := groupKeys(200, "10.0.0.%d")
	n := 0
	come := func() {
		insert(l, keys[n%len(keys)]).last = int64(n)
		n++
		l.expire(int64(n), 1)
	}
	come() // the first page and the index
	if allocs := testing.AllocsPerRun(200, come); allocs != 0 {
		t.Errorf("a group coming and going: %v allocations, want 0", allocs)
	}
	if l.n != 0 || l.expired != uint64(n) || mem.used != l.entryBytes || l.pageSlots != 1 {
		t.Errorf("%d entries, %d expired, %d bytes held in %d page slots", l.n, l.expired, mem.used, l.pageSlots)
	}
}

// A distinct threshold's group (the port-scan rules' under a flood of new
// sources: one per event) carries no count buckets: its entry, key and
// page pointer included, fits 264 bytes, what a new group's event clears
// and reads.
func TestDistinctGroupEntryIsSmall(t *testing.T) {
	if size := unsafe.Sizeof(lruEntry[dgroup]{}); size > 264 {
		t.Errorf("a distinct threshold group's entry is %d bytes", size)
	}
}

// The open-addressed LRU agrees with a plain model (a list in recency
// order) over random gets, adds, evictions, expiries and removals of a few
// hundred keys in small tables, where probe runs collide and wrap: every
// live key is found, no removed one is, the order and the bytes held match.
func TestLRUAgreesWithModel(t *testing.T) {
	rnd := rand.New(rand.NewPCG(12, 9))
	for round := range 20 {
		b := budget.New(1 << 30)
		mem := &stateMem{acct: b.NewAccount(), max: 1 << 30}
		l := newLRU[suppEntry](1+rnd.IntN(40), mem)
		var model []string // most recently used first
		last := map[string]int64{}
		keyOf := func() string {
			n := rnd.IntN(3*l.max + 8)
			if n%3 == 0 { // too long for an entry's struct: a buffer of its own
				return fmt.Sprintf("k%d%s", n, strings.Repeat("-", inlineKey))
			}
			return fmt.Sprintf("k%d", n)
		}
		moveFront := func(k string) {
			i := slices.Index(model, k)
			model = slices.Insert(slices.Delete(model, i, i+1), 0, k)
		}
		drop := func(k string) {
			model = slices.DeleteFunc(model, func(x string) bool { return x == k })
			delete(last, k)
		}
		for op := range 3000 {
			k := keyOf()
			switch rnd.IntN(5) {
			case 0, 1: // get, add if missing
				e := lookup(l, []byte(k))
				if _, ok := last[k]; ok != (e != nil) {
					t.Fatalf("round %d op %d: get(%s) = %v, model has it %v", round, op, k, e != nil, ok)
				}
				if e != nil {
					moveFront(k)
					break
				}
				if len(model) >= l.max {
					drop(model[len(model)-1])
				}
				e = insert(l, []byte(k))
				e.last = int64(op)
				model = slices.Insert(model, 0, k)
				last[k] = int64(op)
			case 2: // expire
				cutoff := int64(op - rnd.IntN(200))
				l.expire(cutoff, 2)
				for n := 0; n < 2 && len(model) > 0 && last[model[len(model)-1]] < cutoff; n++ {
					drop(model[len(model)-1])
				}
			case 3: // remove a live key
				if len(model) == 0 {
					break
				}
				k = model[rnd.IntN(len(model))]
				l.remove(lookup(l, []byte(k)))
				drop(k)
			case 4: // a key nobody added
				if lookup(l, []byte("absent"+k)) != nil {
					t.Fatal("found a key never added")
				}
			}
			var order []string
			for e := l.head; e != nil; e = e.next {
				order = append(order, string(e.key))
			}
			if !slices.Equal(order, model) || l.n != len(model) {
				t.Fatalf("round %d op %d: order %v (n %d), model %v", round, op, order, l.n, model)
			}
			var held int64
			for _, k := range model {
				if _, e := l.find([]byte(k), maphash.Bytes(l.seed, []byte(k))); e == nil || string(e.key) != k {
					t.Fatalf("round %d op %d: %s not in the index", round, op, k)
				}
				held += l.cost
				if len(k) > inlineKey { // a longer key has a buffer of its own
					held += int64(len(k))
				}
			}
			held += int64(l.pageSlots) * l.entryBytes
			empty := 0
			for _, p := range l.partial {
				if p.live == 0 {
					empty++
				}
			}
			if l.pageSlots < l.n || empty > 1 || l.n == 0 && (l.empty == nil) != (l.pageSlots == 0) || l.empty != nil && l.empty.live != 0 {
				t.Fatalf("round %d op %d: %d entries in %d page slots, %d pages empty", round, op, l.n, l.pageSlots, empty)
			}
			if mem.used != held {
				t.Fatalf("round %d op %d: %d bytes reserved, entries hold %d", round, op, mem.used, held)
			}
		}
	}
}

// Distinct values are counted alike whether the group keeps them inline
// (short ones, the first smallSeen) or in its map (a long one, or more):
// repeats do not count, the alert lists every value, expired values drop
// out when the threshold is near.
func TestDistinctInlineAndSpilled(t *testing.T) {
	long := "2001:db8:ffff:ffff:ffff:ffff:ffff:fffe" // longer than smallLen
	cases := []struct {
		name string
		dsts []string
		gte  int
		want int // events up to the alert, 0: none
	}{
		{"inline only", []string{"10.0.0.1", "10.0.0.2", "10.0.0.1", "10.0.0.3"}, 3, 4},
		{"spilled by a long value", []string{"10.0.0.1", long, long, "10.0.0.2"}, 3, 4},
		{"spilled by count", []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.1", "10.0.0.6"}, 6, 7},
		{"long value then inline ones", []string{long, "10.0.0.1", "10.0.0.1", "10.0.0.2"}, 3, 4},
		{"not reached", []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.5"}, 6, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := NewEvaluator(thresholdSet(t, fmt.Sprintf(`{type: distinct, field: destination.ip, group_by: [source.ip], window: 1h, gte: %d}`, c.gte)), EvalOptions{})
			var alerts []*schemas.Event
			firedAt := 0
			for i, d := range c.dsts {
				e := at(flowEvent("192.0.2.9", d, 80), time.Duration(i)*time.Second)
				ev.Eval(&e, func(a *schemas.Event) {
					if a.Event.Dataset == schemas.DatasetAlert {
						alerts = append(alerts, a)
						firedAt = i + 1
					}
				})
			}
			if firedAt != c.want {
				t.Fatalf("alert after event %d, want %d", firedAt, c.want)
			}
			if c.want == 0 {
				return
			}
			want := slices.Sorted(maps.Keys(setOf(c.dsts)))
			if got := alerts[0].Sensor.Alert.Members; !slices.Equal(got, want) || alerts[0].Sensor.Alert.Count != int64(len(want)) {
				t.Errorf("members %q count %d, want %q", got, alerts[0].Sensor.Alert.Count, want)
			}
		})
	}
	// Values older than the window leave the inline set once the threshold
	// is near: three values an hour apart never make three in 30 minutes.
	ev := NewEvaluator(thresholdSet(t, `{type: distinct, field: destination.ip, group_by: [source.ip], window: 30m, gte: 3}`), EvalOptions{})
	for i, d := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"} {
		e := at(flowEvent("192.0.2.9", d, 80), time.Duration(i)*time.Hour)
		ev.Eval(&e, func(a *schemas.Event) {
			if a.Event.Dataset == schemas.DatasetAlert {
				t.Errorf("alert on %s: %q", d, a.Sensor.Alert.Members)
			}
		})
	}
}

func setOf(vs []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range vs {
		m[v] = true
	}
	return m
}

// A new group of a distinct threshold whose value fits inline costs the
// group's key and nothing more once the group LRU is full.
func TestDistinctNewGroupAllocations(t *testing.T) {
	if allocs := newGroupAllocs(t, scanRule, "192.0.2.1"); allocs > 1 {
		t.Errorf("%v allocations per event of a new group, want at most 1 (its key)", allocs)
	}
}

// A new group of a distinct threshold whose value does not fit inline
// takes the map an evicted group left, once the group LRU is full: its
// key and its value's string, no map.
func TestDistinctSpilledGroupsReuseMaps(t *testing.T) {
	rule := `{type: distinct, field: destination.ip, group_by: [source.ip], window: 1h, gte: 20}`
	if allocs := newGroupAllocs(t, rule, "2001:db8:ffff:ffff:ffff:ffff:ffff:fffe"); allocs > 2 {
		t.Errorf("%v allocations per event of a new spilled group, want at most 2 (its key, its value)", allocs)
	}
}

// newGroupAllocs is the allocations of an event of rule from a new source
// to dst, past a full group LRU.
func newGroupAllocs(t *testing.T, rule, dst string) float64 {
	ev := NewEvaluator(thresholdSet(t, rule), EvalOptions{MaxGroups: 64})
	events := make([]schemas.Event, 1000)
	for i := range events {
		events[i] = at(flowEvent(fmt.Sprintf("10.1.%d.%d", i>>8, i&255), dst, 80), time.Duration(i)*time.Millisecond)
	}
	for i := range 100 {
		ev.Eval(&events[i], func(*schemas.Event) {})
	}
	n := 100
	return testing.AllocsPerRun(200, func() {
		ev.Eval(&events[n%len(events)], func(*schemas.Event) {})
		n++
	})
}

// The emptied maps kept for later groups are paid for on the rule's
// memory, at most maxSpareMaps of them, and a map that grew past
// seenHint values is let go.
func TestSpareSeenMapsOnBudget(t *testing.T) {
	b := budget.New(1 << 30)
	mem := &stateMem{acct: b.NewAccount(), max: 1 << 30}
	var spare seenMaps
	l := newLRU[dgroup](1000, mem)
	l.drop = func(g *dgroup) { g.dropSeen(mem, &spare) }
	th := &Threshold{Type: "distinct", Window: time.Hour, Op: "gte", Value: 1000}
	long := []byte("a-value-longer-than-the-inline-room.example")
	var grown unsafe.Pointer
	for i := range 2 * maxSpareMaps {
		key := fmt.Appendf(nil, "g%d", i)
		_, h := l.get(key)
		e := l.add(key, h)
		values := 1
		if i == 0 {
			values = seenHint + 1 // grows its map: not kept
		}
		for v := range values {
			before := e.val.seenBytes
			e.val.addDistinct(int64(i), append(long, byte('a'+v)), th, mem, &spare)
			e.cost += e.val.seenBytes - before
		}
		if i == 0 {
			grown = reflect.ValueOf(e.val.seen).UnsafePointer()
		}
	}
	for l.tail != nil {
		l.remove(l.tail)
	}
	if len(spare.free) != maxSpareMaps {
		t.Fatalf("%d maps kept, want %d", len(spare.free), maxSpareMaps)
	}
	for _, m := range spare.free {
		if len(m) != 0 || reflect.ValueOf(m).UnsafePointer() == grown {
			t.Fatalf("a kept map holds %d values, or grew past seenHint", len(m))
		}
	}
	if want := int64(maxSpareMaps) * seenMapCost; mem.used-int64(l.pageSlots)*l.entryBytes != want {
		t.Errorf("%d bytes reserved beyond the pages, want %d for the kept maps", mem.used-int64(l.pageSlots)*l.entryBytes, want)
	}
}

// Count and sum groups agree with a plain model (each group's events since
// it last fired, summed over the buckets of the window) over random keys,
// times (late ones too) and values through a three-group LRU whose evicted
// entries the new groups reuse without clearing their buckets: a new group
// counts none of its entry's earlier events, a group that fired none of
// its own, and a bucket that left the window never counts again.
func TestCountGroupsAcrossEvictions(t *testing.T) {
	type event struct {
		t int64
		v float64
	}
	type group struct {
		newest int64
		events []event
	}
	rnd := rand.New(rand.NewPCG(9, 12))
	for _, typ := range []string{"count", "sum"} {
		th := &Threshold{Type: typ, Window: 16 * time.Second, Op: "gte", Value: 9}
		w := int64(th.Window) / numBuckets
		b := budget.New(1 << 30)
		mem := &stateMem{acct: b.NewAccount(), max: 1 << 30}
		l := newLRU[tgroup](3, mem)
		l.clear = clearGroup
		model := map[string]*group{}
		var fired, evicted int
		base := int64(0)
		for op := range 20000 {
			base += rnd.Int64N(int64(time.Second) / 4)
			ts := base - rnd.Int64N(20*int64(time.Second)) // some late
			v := 1.0
			if typ == "sum" {
				v = float64(rnd.IntN(4))
			}
			key := fmt.Sprintf("k%d", rnd.IntN(4))
			e := lookup(l, []byte(key))
			if e == nil {
				if l.n >= l.max {
					delete(model, string(l.tail.key))
					evicted++
				}
				e = insert(l, []byte(key))
				model[key] = &group{}
			}
			g := model[key]
			g.newest = max(g.newest, ts)
			cur := floorDiv(g.newest, w)
			wantLate := floorDiv(ts, w) <= cur-numBuckets
			var want float64
			if !wantLate {
				g.events = append(g.events, event{ts, v})
				for _, ev := range g.events {
					if floorDiv(ev.t, w) > cur-numBuckets {
						want += ev.v
					}
				}
			}
			fire, total, late := e.val.addBuckets(ts, v, th)
			if late != wantLate || total != want || fire != (!wantLate && want >= th.Value) {
				t.Fatalf("%s op %d key %s: fire %v total %v late %v, want total %v late %v", typ, op, key, fire, total, late, want, wantLate)
			}
			if fire {
				g.events = nil
				fired++
			}
		}
		if fired < 100 || evicted < 100 {
			t.Errorf("%s: %d fired, %d evicted: the test reaches too little", typ, fired, evicted)
		}
	}
}

// sortMembers orders the members as comparing them pair by pair with
// ParseFloat did, and parses each once: names that are no numbers cost no
// error each.
func TestSortMembersAsPairwise(t *testing.T) {
	pairwise := func(a, b string) int {
		x, errA := strconv.ParseFloat(a, 64)
		y, errB := strconv.ParseFloat(b, 64)
		if errA == nil && errB == nil {
			return cmp.Compare(x, y)
		}
		return strings.Compare(a, b)
	}
	values := []string{"80", "443", "1e3", "-5", "+7", "inf", "-Inf", "NaN", "Infinity", "nan.example.com", "ns1.example.com",
		"1.2.3.4", ".5", "0x1p-2", "", "-", "+", "www.example.com", "1_000", "0x_1p0", "9", "10", "1e400", "i", "n"}
	rnd := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		in := slices.Clone(values)
		rnd.Shuffle(len(in), func(i, j int) { in[i], in[j] = in[j], in[i] })
		want, got := slices.Clone(in), slices.Clone(in)
		slices.SortFunc(want, pairwise)
		sortMembers(got)
		if !slices.Equal(got, want) {
			t.Fatalf("sorted %q, pairwise %q", got, want)
		}
	}
	names := make([]string, 100)
	for i := range names {
		names[i] = fmt.Sprintf("x%d.tunnel.example.com", i*7919%100)
	}
	if n := testing.AllocsPerRun(10, func() { sortMembers(names) }); n > 1 {
		t.Errorf("sorting 100 names: %v allocations, want 1", n)
	}
}

// lookup and insert are get and add for tests, which hash a key anew.
func lookup[V any](l *lru[V], key []byte) *lruEntry[V] {
	e, _ := l.get(key)
	return e
}

func insert[V any](l *lru[V], key []byte) *lruEntry[V] {
	_, h := l.get(key)
	return l.add(key, h)
}

// A spare map gives way to the spill that would reuse it: at the rule's
// bound, the bytes the spare holds are the room the spill needs.
func TestSpareMapMakesRoomForItsSpill(t *testing.T) {
	th := &Threshold{Type: "distinct", Window: time.Hour, Op: "gte", Value: 1000}
	long := []byte("a-value-longer-than-the-inline-room.example")
	var g dgroup
	cost := seenMapCost + int64(len(long)+1) + distinctCost
	mem := &stateMem{acct: budget.New(1 << 30).NewAccount(), max: cost}
	var spare seenMaps
	spare.keep(make(map[string]int64), mem)
	if len(spare.free) != 1 {
		t.Fatal("no spare kept")
	}
	g.addDistinct(1, append(long, 'a'), th, mem, &spare)
	if g.seen == nil || len(spare.free) != 0 || mem.used != g.seenBytes {
		t.Fatalf("spill at the bound with a spare: map %v, %d spares, %d bytes used for %d", g.seen != nil, len(spare.free), mem.used, g.seenBytes)
	}
}

// groupKeys is n group keys, format applied to 0…n-1.
func groupKeys(n int, format string) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, format, i)
	}
	return keys
}

// A new key that evicts one of as many bytes keeps the bytes reserved for
// it (no release and reserve again); one of other bytes, or a state that
// was closed, goes through the budget as before: the state's bytes and the
// budget's stay equal, and a closed state tracks nothing new.
func TestLRUEvictionKeepsEqualBytes(t *testing.T) {
	b := budget.New(1 << 30)
	acct := b.NewAccount()
	mem := &stateMem{acct: acct, max: 1 << 30}
	l := newLRU[tgroup](4, mem)
	long := strings.Repeat("x", 2*inlineKey)
	for i := range 40 {
		k := fmt.Sprintf("10.0.0.%d", i)
		if i%3 == 0 {
			k += long // a buffer of its own: more bytes
		}
		if insert(l, []byte(k)) == nil {
			t.Fatalf("key %d refused", i)
		}
		var want int64
		for e := l.head; e != nil; e = e.next {
			want += e.cost
		}
		want += int64(l.pageSlots) * l.entryBytes
		if mem.used != want || acct.Used(budget.Rules) != want {
			t.Fatalf("after key %d: state %d bytes, budget %d, entries' %d", i, mem.used, acct.Used(budget.Rules), want)
		}
	}
	mem.close()
	if e := insert(l, []byte("10.0.1.1")); e != nil || acct.Used(budget.Rules) != 0 {
		t.Errorf("closed state: took a key (%v), budget holds %d", e != nil, acct.Used(budget.Rules))
	}
}

// Threshold rules grouping by the same fields share an event's group key
// and its hash (prepare); each still counts its own groups.
func TestGroupKeySharedByRules(t *testing.T) {
	set := mustLoad(t, `
rules:
  - id: PAIR-COUNT
    name: pair count
    severity: low
    condition: event.dataset == "packetsleuth.flow"
    threshold: {type: count, group_by: [source.ip, destination.ip], window: 1m, gte: 3}
  - id: SRC-PORTS
    name: source ports
    severity: low
    condition: event.dataset == "packetsleuth.flow"
    threshold: {type: distinct, field: destination.port, group_by: [source.ip], window: 1m, gte: 3}
  - id: PAIR-PORTS
    name: pair ports
    severity: low
    condition: event.dataset == "packetsleuth.flow" and destination.port != 22
    threshold: {type: distinct, field: destination.port, group_by: [source.ip, destination.ip], window: 1m, gte: 2}
  - id: DST-SRC
    name: reversed pair
    severity: low
    condition: event.dataset == "packetsleuth.flow"
    threshold: {type: count, group_by: [destination.ip, source.ip], window: 1m, gte: 4}
`)
	e := NewEvaluator(set, EvalOptions{})
	if got := fmt.Sprint(e.keyOf); got != "[0 1 0 3]" {
		t.Errorf("key of each rule: %s, want [0 1 0 3]", got)
	}
	if st := e.local.rules; st[0].groups.seed != st[2].dgroups.seed {
		t.Error("the rules' groups hash with different seeds")
	}
	var evs []schemas.Event
	for i, port := range []int{22, 80, 81, 82} {
		ev := flowEvent("10.0.0.1", "10.0.0.2", port)
		ev.Timestamp = t0.Add(time.Duration(i) * time.Second)
		evs = append(evs, ev)
	}
	evs = append(evs, flowEvent("10.0.0.1", "10.0.0.3", 80)) // another pair: new groups
	var got []string
	for _, a := range collect(e, evs...) {
		got = append(got, a.Rule.ID+"@"+fmt.Sprint(a.Sensor.Alert.Count))
	}
	want := "[PAIR-COUNT@3 SRC-PORTS@3 PAIR-PORTS@2 DST-SRC@4]"
	if fmt.Sprint(got) != want {
		t.Errorf("alerts %v, want %s", got, want)
	}
}
