package app

import (
	"net/netip"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
)

func TestExpectationsAreBoundedAndExpire(t *testing.T) {
	e := NewExpectations()
	t0 := time.Unix(1000, 0)
	ap := func(i int) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 49152)
	}
	for i := range maxExpected + 1 {
		e.Add(ap(i), t0.Add(time.Duration(i)*time.Millisecond))
	}
	if len(e.m) != maxExpected {
		t.Fatalf("%d entries held", len(e.m))
	}
	last := t0.Add(maxExpected * time.Millisecond)
	if e.Has(ap(0), last) || !e.Has(ap(1), last) || !e.Has(ap(maxExpected), last) {
		t.Error("a full table forgets its oldest announcement")
	}
	if e.Has(ap(maxExpected), t0) {
		t.Error("an announcement counts for a connection before it (another worker's, further on)")
	}
	if e.Has(ap(5), t0.Add(expectTTL+time.Second)) {
		t.Error("an announcement outlived its time")
	}
	var none *Expectations
	none.Add(ap(1), t0)
	if none.Has(ap(1), t0) {
		t.Error("a nil table holds nothing")
	}
}

// An FTP data connection is claimed once, within its time, and its entry
// is paid from the budget, which gets it back; a refused entry is counted.
func TestFTPDataExpectations(t *testing.T) {
	b := budget.New(1 << 20)
	e := NewExpectations()
	e.UseBudget(b.NewAccount())
	t0 := time.Unix(1000, 0)
	a1, a2 := netip.MustParseAddrPort("10.0.0.1:2000"), netip.MustParseAddrPort("[2001:db8::1]:2002")
	srv := netip.MustParseAddr("10.0.0.9")
	if !e.AddFTPData(a1, "c1", srv, t0) || !e.AddFTPData(a2, "c2", srv, t0) {
		t.Fatal("refused with room")
	}
	if e.Has(a1, t0) {
		t.Error("an FTP data announcement is taken for a DCE/RPC endpoint")
	}
	if l, ok := e.ClaimFTPData(a1, t0.Add(time.Second)); !ok || l.Control != "c1" || l.Server != srv {
		t.Fatalf("claim: %+v %v", l, ok)
	}
	if _, ok := e.ClaimFTPData(a1, t0.Add(time.Second)); ok {
		t.Error("claimed twice")
	}
	if _, ok := e.ClaimFTPData(a2, t0.Add(expectTTL+time.Second)); ok {
		t.Error("claimed after its time")
	}
	if used := b.Stats().Used; used != 0 {
		t.Errorf("%d bytes of budget still held", used)
	}
	tiny := NewExpectations()
	tiny.UseBudget(budget.New(1).NewAccount())
	if tiny.AddFTPData(a1, "c", srv, t0) || tiny.Refused() != 1 {
		t.Error("the budget's refusal was not honoured")
	}
}

// The data command recorded for an announced data endpoint is claimed
// once by the data connection to that endpoint; a newer record (the 1xx
// reply's) replaces it, paid once; another endpoint's is not taken; every
// byte of budget comes back.
func TestFTPTransferExpectations(t *testing.T) {
	b := budget.New(1 << 20)
	e := NewExpectations()
	e.UseBudget(b.NewAccount())
	t0 := time.Unix(1000, 0)
	a1, a2 := netip.MustParseAddrPort("10.0.0.1:2000"), netip.MustParseAddrPort("10.0.0.1:2001")
	e.SetFTPTransfer(a1, FTPTransfer{Command: "RETR", File: "/pub/a.exe", Tx: 5, Size: -1}, t0)
	if !e.SetFTPTransfer(a1, FTPTransfer{Command: "RETR", File: "/pub/a.exe", Tx: 5, Size: 77}, t0) {
		t.Fatal("refused with room")
	}
	if len(e.m) != 1 {
		t.Fatalf("%d entries for one endpoint", len(e.m))
	}
	if _, ok := e.ClaimFTPTransfer(a2, t0); ok {
		t.Error("another endpoint's transfer claimed")
	}
	if _, ok := e.ClaimFTPData(a1, t0); ok {
		t.Error("a transfer taken for a data connection announcement")
	}
	x, ok := e.ClaimFTPTransfer(a1, t0.Add(time.Second))
	if !ok || x.Command != "RETR" || x.File != "/pub/a.exe" || x.Tx != 5 || x.Size != 77 {
		t.Fatalf("claim: %+v %v", x, ok)
	}
	if _, ok := e.ClaimFTPTransfer(a1, t0.Add(time.Second)); ok {
		t.Error("claimed twice")
	}
	e.SetFTPTransfer(a2, FTPTransfer{Command: "STOR"}, t0)
	if _, ok := e.ClaimFTPTransfer(a2, t0.Add(expectTTL+time.Second)); ok {
		t.Error("claimed after its time")
	}
	if used := b.Stats().Used; used != 0 {
		t.Errorf("%d bytes of budget still held", used)
	}
}

// An attacker's flood of announcements (PASV replies) meets a full table
// at every one: each must cost about what an add to a table with room does.
func BenchmarkExpectationsFull(b *testing.B) {
	e := NewExpectations()
	t0 := time.Unix(1000, 0)
	ap := func(i int) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 49152)
	}
	for i := range maxExpected {
		e.Add(ap(i), t0)
	}
	b.ResetTimer()
	for i := range b.N {
		e.Add(ap(maxExpected+i%(1<<20)), t0.Add(time.Duration(i)*time.Microsecond))
	}
}

// Claimed and replaced entries leave the table's order behind them, and
// the order stays bounded however many come and go; a replaced entry is
// as old as its last adding when a full table forgets its oldest.
func TestExpectationsOrderBounded(t *testing.T) {
	e := NewExpectations()
	t0 := time.Unix(1000, 0)
	ap := func(i int) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 21)
	}
	srv := ap(0).Addr()
	for i := range 10 * maxExpected {
		e.AddFTPData(ap(i), "c", srv, t0)
		if i%2 == 0 {
			e.ClaimFTPData(ap(i), t0)
		}
		if len(e.order) > 2*len(e.m)+orderSlack {
			t.Fatalf("order holds %d entries for %d held, after %d adds", len(e.order), len(e.m), i+1)
		}
	}
	// A flood claimed: what order holds shrinks with the table, claim by
	// claim.
	for i := range 10 * maxExpected {
		e.ClaimFTPData(ap(i), t0)
		if len(e.order) > 2*len(e.m)+orderSlack {
			t.Fatalf("order holds %d entries for %d held, after a claim", len(e.order), len(e.m))
		}
	}
	if len(e.m) != 0 || cap(e.order) > 3*orderSlack {
		t.Fatalf("none held, order %d long with room for %d", len(e.order), cap(e.order))
	}

	e = NewExpectations()
	for i := range maxExpected {
		e.AddFTPData(ap(i), "c", srv, t0)
	}
	e.AddFTPData(ap(0), "again", srv, t0) // the oldest, replaced: now the newest
	for i := range maxExpected - 1 {
		e.AddFTPData(ap(maxExpected+i), "c", srv, t0)
	}
	if l, ok := e.ClaimFTPData(ap(0), t0); !ok || l.Control != "again" {
		t.Error("a replaced entry was forgotten as if it were as old as its first adding")
	}
	if _, ok := e.ClaimFTPData(ap(1), t0); ok {
		t.Error("a full table kept its oldest entry")
	}
}

// Every new and every ended TCP flow asks the table, nearly always empty.
func BenchmarkExpectationsEmpty(b *testing.B) {
	e := NewExpectations()
	ap := netip.MustParseAddrPort("10.0.0.1:2000")
	t0 := time.Unix(1000, 0)
	for range b.N {
		if _, ok := e.ClaimFTPData(ap, t0); ok || e.Has(ap, t0) {
			b.Fatal("an empty table held an entry")
		}
	}
}
