package budget

import (
	"sync"
	"testing"
)

func TestAccountsShareOneLimit(t *testing.T) {
	b := New(1 << 20)
	a1, a2 := b.NewAccount(), b.NewAccount()
	var got1, got2 int64
	for a1.Reserve(Flows, 1000) {
		got1 += 1000
	}
	for a2.Reserve(Reassembly, 1000) {
		got2 += 1000
	}
	if got1+got2 > 1<<20 {
		t.Fatalf("reserved %d+%d bytes of a 1 MiB budget", got1, got2)
	}
	if got1+got2 < 1<<20-2000 {
		t.Fatalf("reserved only %d+%d bytes of a 1 MiB budget", got1, got2)
	}
	s := b.Stats()
	if s.Pools[Flows].Used != got1 || s.Pools[Reassembly].Used != got2 || s.Used != got1+got2 {
		t.Fatalf("stats %+v, want flows %d reassembly %d", s, got1, got2)
	}
	if s.Pools[Flows].Denied != 1 || s.Pools[Reassembly].Denied != 1 {
		t.Fatalf("denied counts %+v, want 1 each", s.Pools)
	}
	// What one worker releases, the other can take.
	a1.Release(Flows, got1)
	if !a2.Reserve(Reassembly, 4096) {
		t.Fatal("released memory is not available to another account")
	}
	if s := b.Stats(); s.Pools[Flows].Used != 0 {
		t.Fatalf("flows still hold %d after release", s.Pools[Flows].Used)
	}
}

func TestUnlimitedAndNil(t *testing.T) {
	var nb *Budget
	if !nb.Reserve(Rules, 1<<40) || !nb.NewAccount().Reserve(Flows, 1<<40) {
		t.Fatal("a nil budget must accept everything")
	}
	b := New(0)
	a := b.NewAccount()
	if !a.Reserve(Fragments, 1<<40) {
		t.Fatal("an unlimited budget refused")
	}
	if s := b.Stats(); s.Pools[Fragments].Used != 1<<40 {
		t.Fatalf("unlimited budget does not count: %+v", s)
	}
}

func TestCreditGoesBack(t *testing.T) {
	b := New(10 * chunk)
	a := b.NewAccount()
	for range 1000 {
		if !a.Reserve(Parsers, 100_000) {
			t.Fatal("refused with the budget nearly free")
		}
		a.Release(Parsers, 100_000)
	}
	if u := b.used.Load(); u > 2*chunk {
		t.Fatalf("an idle account holds %d bytes of credit", u)
	}
	a.Close()
	if u := b.used.Load(); u != 0 {
		t.Fatalf("closed account left %d bytes taken", u)
	}
}

func TestConcurrentSharedReserve(t *testing.T) {
	b := New(1 << 30)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := b.NewAccount()
			for range 10000 {
				b.Reserve(Rules, 10)
				a.Reserve(Flows, 300)
				a.Release(Flows, 300)
				b.Release(Rules, 10)
				_ = b.Stats()
			}
		}()
	}
	wg.Wait()
	if s := b.Stats(); s.Used != 0 {
		t.Fatalf("used %d after balanced reserve/release", s.Used)
	}
}

func TestDefaultLimit(t *testing.T) {
	if l := DefaultLimit(); l < 256<<20 {
		t.Fatalf("default limit %d below 256 MiB", l)
	}
}

func BenchmarkAccountReserveRelease(b *testing.B) {
	a := New(1 << 30).NewAccount()
	b.ReportAllocs()
	for b.Loop() {
		a.Reserve(Flows, 288)
		a.Release(Flows, 288)
	}
}
