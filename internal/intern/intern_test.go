package intern

import (
	"encoding/binary"
	"fmt"
	"testing"
	"unsafe"

	"github.com/packetsleuth/packetsleuth/internal/budget"
)

// A value met again is the string kept the first time, without an
// allocation; a longer one than MaxLen, or one on a nil Table, is a new
// string each time.
func TestStringKeepsRepeatedValues(t *testing.T) {
	var tab Table
	b := []byte("example.com")
	first := tab.String(b)
	b[0] = 'E' // the kept string does not share b's bytes
	if first != "example.com" {
		t.Fatalf("kept %q", first)
	}
	b[0] = 'e'
	if again := tab.String(b); unsafe.StringData(again) != unsafe.StringData(first) {
		t.Error("the same value made a new string")
	}
	if n := testing.AllocsPerRun(100, func() { tab.String(b) }); n != 0 {
		t.Errorf("a kept value: %v allocations, want 0", n)
	}
	long := make([]byte, MaxLen+1)
	if n := testing.AllocsPerRun(10, func() { tab.String(long) }); n != 1 {
		t.Errorf("a value over MaxLen: %v allocations, want 1", n)
	}
	var none *Table
	if s := none.String(b); s != "example.com" {
		t.Errorf("nil table: %q", s)
	}
}

// Many distinct values only replace one another: the table keeps at most
// Slots strings (or its Size, rounded up to a power of two), reserves
// exactly what it keeps, and gives it all back.
func TestTableBoundedAndBudgeted(t *testing.T) {
	for _, c := range []struct{ size, slots int }{{0, Slots}, {3000, 4096}} {
		bud := budget.New(1 << 22)
		acct := bud.NewAccount()
		tab := Table{Size: c.size}
		tab.UseBudget(acct)
		for i := range 10 * c.slots {
			v := fmt.Sprintf("host-%d.example.com", i)
			if s := tab.String([]byte(v)); s != v {
				t.Fatalf("got %q for %q", s, v)
			}
		}
		kept, want := 0, int64(c.slots*16)
		for _, s := range tab.slots {
			if s != "" {
				kept++
				want += int64(len(s)) + keptCost
			}
		}
		if len(tab.slots) != c.slots || kept == 0 || kept > c.slots || tab.held != want || acct.Used(budget.Parsers) != want {
			t.Errorf("size %d: %d slots, %d kept, %d held, %d reserved, want %d", c.size, len(tab.slots), kept, tab.held, acct.Used(budget.Parsers), want)
		}
		tab.Release()
		if used := acct.Used(budget.Parsers); used != 0 {
			t.Errorf("size %d: %d bytes reserved after Release", c.size, used)
		}
	}
}

// A Table's Longest bounds what it holds whatever it is fed: distinct
// values of up to MaxLen bytes keep at most Size slots of Longest bytes.
func TestTableLongestBoundsHeld(t *testing.T) {
	const size, longest = 8192, 255
	bud := budget.New(1 << 30)
	acct := bud.NewAccount()
	tab := Table{Size: size, Longest: longest}
	tab.UseBudget(acct)
	v := make([]byte, MaxLen)
	for i := range 65536 {
		binary.BigEndian.PutUint32(v, uint32(i))
		n := MaxLen
		if i%2 == 0 {
			n = longest // the longest kept
		}
		if s := tab.String(v[:n]); s != string(v[:n]) {
			t.Fatalf("value %d: got %d bytes", i, len(s))
		}
	}
	if used, most := acct.Used(budget.Parsers), int64(size*(slotsCost/Slots+keptCost+longest)); used > most || used != tab.held {
		t.Errorf("%d bytes reserved (%d held), want at most %d", used, tab.held, most)
	}
	for _, s := range tab.slots {
		if len(s) > longest {
			t.Fatalf("kept a %d-byte value", len(s))
		}
	}
	tab.Release()
}

// A budget that refuses leaves values unkept but still returned.
func TestTableRefusedByBudget(t *testing.T) {
	bud := budget.New(1)
	var tab Table
	tab.UseBudget(bud.NewAccount())
	if s := tab.String([]byte("a.example")); s != "a.example" || tab.slots != nil {
		t.Errorf("refused: %q, slots made %v", s, tab.slots != nil)
	}
}

// A Memo gives back what was put for a key while its slot keeps it,
// nothing for another key; it keeps at most Slots pairs, reserves exactly
// what it keeps, and gives it all back. A nil Memo keeps nothing.
func TestMemoBoundedAndBudgeted(t *testing.T) {
	bud := budget.New(1 << 20)
	acct := bud.NewAccount()
	var m Memo
	m.UseBudget(acct)
	if _, ok := m.Get([]byte("k")); ok {
		t.Fatal("an empty memo gave a value")
	}
	for i := range 10 * Slots {
		k, v := fmt.Sprintf("key-%d", i), fmt.Sprintf("value of %d", i)
		m.Put([]byte(k), v)
		if got, ok := m.Get([]byte(k)); !ok || got != v {
			t.Fatalf("Get(%q) = %q, %v", k, got, ok)
		}
		if got, ok := m.Get([]byte(k + "x")); ok {
			t.Fatalf("Get of a key never put: %q", got)
		}
	}
	n, want := 0, int64(2*slotsCost)
	for _, p := range m.slots {
		if p.key != "" {
			n++
			want += kept(p.key) + kept(p.val)
			if got, ok := m.Get([]byte(p.key)); !ok || got != p.val {
				t.Errorf("kept %q: Get = %q, %v", p.key, got, ok)
			}
		}
	}
	if n == 0 || n > Slots || m.held != want || acct.Used(budget.Parsers) != want {
		t.Errorf("%d kept, %d held, %d reserved, want %d", n, m.held, acct.Used(budget.Parsers), want)
	}
	m.Release()
	if used := acct.Used(budget.Parsers); used != 0 {
		t.Errorf("%d bytes reserved after Release", used)
	}
	var none *Memo
	none.Put([]byte("k"), "v")
	if _, ok := none.Get([]byte("k")); ok {
		t.Error("a nil memo gave a value")
	}
}
