// Package intern keeps the strings one goroutine makes again and again
// (TLS fingerprints, server names), so that a value met before is not a
// new allocation. A Table is small and fixed: one string per slot of a
// seeded hash, a new value replacing the one in its slot, so attacker
// chosen values can make it miss but not grow.
package intern

import (
	"hash/maphash"

	"github.com/packetsleuth/packetsleuth/internal/budget"
)

const (
	// Slots is the number of strings a Table keeps.
	Slots = 512
	// MaxLen is the longest string a Table keeps; longer ones are made
	// anew each time.
	MaxLen = 1024
	// slotsCost is what the slots themselves take (string headers), and
	// keptCost what a kept string takes beyond its bytes (its allocation).
	slotsCost = Slots * 16
	keptCost  = 16
)

// Table is a goroutine's interned strings. The zero value is ready and
// draws on no budget; a nil *Table interns nothing. It is not safe for
// concurrent use.
type Table struct {
	acct  *budget.Account
	held  int64 // reserved on acct
	seed  maphash.Seed
	slots *[Slots]string
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
	if t == nil || len(b) == 0 || len(b) > MaxLen {
		return string(b)
	}
	if t.slots == nil {
		if !t.acct.Reserve(budget.Parsers, slotsCost) {
			return string(b)
		}
		t.held += slotsCost
		t.seed, t.slots = maphash.MakeSeed(), new([Slots]string)
	}
	slot := &t.slots[maphash.Bytes(t.seed, b)%Slots]
	if *slot == string(b) {
		return *slot
	}
	s := string(b)
	if old := *slot; old != "" {
		*slot = ""
		t.acct.Release(budget.Parsers, int64(len(old))+keptCost)
		t.held -= int64(len(old)) + keptCost
	}
	if cost := int64(len(s)) + keptCost; t.acct.Reserve(budget.Parsers, cost) {
		*slot = s
		t.held += cost
	}
	return s
}

// Release forgets every string and gives the memory back.
func (t *Table) Release() {
	if t == nil {
		return
	}
	t.acct.Release(budget.Parsers, t.held)
	t.held, t.slots = 0, nil
}
