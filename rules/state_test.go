package rules

import (
	"fmt"
	"sync"
	"testing"
	"time"

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

// A full LRU makes room for a new key with its least recently used entry,
// whose struct it reuses: adding then costs the key's allocation only,
// the memory held stays that of max entries, and the evicted key is gone.
func TestLRUFullReusesEvicted(t *testing.T) {
	b := budget.New(1 << 30)
	mem := &stateMem{acct: b.NewAccount(), max: 1 << 30}
	l := newLRU[tgroup](4, mem)
	key := func(i int) []byte { return fmt.Appendf(nil, "10.0.0.%d", i) }
	for i := range 4 {
		l.add(key(i)).val.newest = int64(i)
	}
	l.get(key(0)) // 1 is now the least recently used
	e := l.add(key(9))
	if e.val.newest != 0 || e.key != "10.0.0.9" || e.last != 0 {
		t.Errorf("new entry carries %+v / key %q last %d", e.val.newest, e.key, e.last)
	}
	if l.get(key(1)) != nil || l.get(key(0)) == nil || l.get(key(9)) != e || len(l.m) != 4 || l.evicted != 1 {
		t.Errorf("after eviction: entries %d, evicted %d", len(l.m), l.evicted)
	}
	if want := 4 * (l.cost + int64(len("10.0.0.0"))); mem.used != want {
		t.Errorf("state holds %d bytes, want %d", mem.used, want)
	}
	keys := make([][]byte, 200)
	for i := range keys {
		keys[i] = key(100 + i)
	}
	n := 0
	if allocs := testing.AllocsPerRun(100, func() { l.add(keys[n%len(keys)]); n++ }); allocs != 1 {
		t.Errorf("adding to a full LRU: %v allocations, want 1 (the key)", allocs)
	}
}
