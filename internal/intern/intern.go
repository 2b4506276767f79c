// Package intern keeps the strings one goroutine makes again and again
// (TLS fingerprints, server names), so that a value met before is not a
// new allocation, and the values it works out again and again from the
// same bytes (Memo). A Table or a Memo is small and fixed: one string
// (or key and value) per slot of a seeded hash, a new one replacing the
// one in its slot, so attacker chosen values can make it miss but not
// grow.
package intern

import (
	"hash/maphash"
	"math/bits"

	"github.com/packetsleuth/packetsleuth/internal/budget"
)

const (
	// Slots is the number of strings a Table keeps (unless its Size says
	// otherwise), and of pairs a Memo.
	Slots = 512
	// MaxLen is the longest string a Table keeps (unless its Longest says
	// less), and key a Memo keeps; longer ones are made anew each time.
	MaxLen = 1024
	// slotsCost is what the slots themselves take (string headers), and
	// keptCost what a kept string takes beyond its bytes (its allocation).
	slotsCost = Slots * 16
	keptCost  = 16
)

// bill is what a Table or a Memo holds on its account (pool Parsers).
type bill struct {
	acct *budget.Account
	held int64
}

func (b *bill) reserve(n int64) bool {
	if !b.acct.Reserve(budget.Parsers, n) {
		return false
	}
	b.held += n
	return true
}

func (b *bill) release(n int64) {
	b.acct.Release(budget.Parsers, n)
	b.held -= n
}

// kept is what a kept string s costs.
func kept(s string) int64 { return int64(len(s)) + keptCost }

// Table is a goroutine's interned strings. The zero value is ready and
// draws on no budget; a nil *Table interns nothing. It is not safe for
// concurrent use.
type Table struct {
	bill
	// Size is the number of strings t keeps, rounded up to a power of two
	// (0: Slots), fixed when t is first used: a goroutine meeting more
	// distinct values again and again (a link's DNS names) keeps more.
	Size int
	// Longest is the longest string t keeps (0: MaxLen, and never more):
	// with Size it bounds what t can hold, Size × (16 + Longest + 16)
	// bytes, whatever it is fed.
	Longest int
	seed    maphash.Seed
	slots   []string
}

// UseBudget makes t reserve what it keeps on acct (pool Parsers): a value
// refused is returned without being kept.
func (t *Table) UseBudget(acct *budget.Account) {
	t.Release()
	t.acct = acct
}

// String returns b as a string: the one t keeps if it is b, else a new one,
// which t keeps in place of its slot's.
func (t *Table) String(b []byte) string {
	if t == nil || len(b) == 0 || len(b) > MaxLen || t.Longest > 0 && len(b) > t.Longest {
		return string(b)
	}
	if t.slots == nil {
		n := Slots
		if t.Size > 0 {
			n = 1 << bits.Len(uint(t.Size-1))
		}
		if !t.reserve(int64(n) * slotsCost / Slots) {
			return string(b)
		}
		t.seed, t.slots = maphash.MakeSeed(), make([]string, n)
	}
	slot := &t.slots[maphash.Bytes(t.seed, b)&uint64(len(t.slots)-1)]
	if *slot == string(b) {
		return *slot
	}
	s := string(b)
	if old := *slot; old != "" {
		*slot = ""
		t.release(kept(old))
	}
	if t.reserve(kept(s)) {
		*slot = s
	}
	return s
}

// Release forgets every string and gives the memory back.
func (t *Table) Release() {
	if t == nil {
		return
	}
	t.release(t.held)
	t.slots = nil
}

// Memo is a goroutine's values worked out from keys met before (the TLS
// fingerprints of a ClientHello's lists): one met again gives its value
// without the work. The zero value is ready and draws on no budget; a nil
// *Memo keeps nothing. It is not safe for concurrent use.
type Memo struct {
	bill
	seed  maphash.Seed
	slots *[Slots]pair
}

type pair struct{ key, val string }

// UseBudget makes m reserve what it keeps on acct (pool Parsers): a pair
// refused is not kept.
func (m *Memo) UseBudget(acct *budget.Account) {
	m.Release()
	m.acct = acct
}

// Get returns the value m keeps for key, if it keeps one.
func (m *Memo) Get(key []byte) (string, bool) {
	if m == nil || m.slots == nil || len(key) == 0 || len(key) > MaxLen {
		return "", false
	}
	p := &m.slots[maphash.Bytes(m.seed, key)%Slots]
	if p.key != string(key) {
		return "", false
	}
	return p.val, true
}

// Put keeps val for key in place of its slot's pair.
func (m *Memo) Put(key []byte, val string) {
	if m == nil || len(key) == 0 || len(key) > MaxLen {
		return
	}
	if m.slots == nil {
		if !m.reserve(2 * slotsCost) {
			return
		}
		m.seed, m.slots = maphash.MakeSeed(), new([Slots]pair)
	}
	p := &m.slots[maphash.Bytes(m.seed, key)%Slots]
	if p.key != "" {
		m.release(kept(p.key) + kept(p.val))
		*p = pair{}
	}
	k := string(key)
	if m.reserve(kept(k) + kept(val)) {
		*p = pair{k, val}
	}
}

// Release forgets every pair and gives the memory back.
func (m *Memo) Release() {
	if m == nil {
		return
	}
	m.release(m.held)
	m.slots = nil
}
