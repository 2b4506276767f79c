package budget

import (
	"runtime"
	"testing"
)

// fairPair is two fair accounts of a budget, each with its wake channel.
func fairPair(limit int64) (b *Budget, a1, a2 *Account, w1, w2 chan struct{}) {
	b = New(limit)
	a1, a2 = b.NewAccount(), b.NewAccount()
	w1, w2 = make(chan struct{}, 1), make(chan struct{}, 1)
	a1.Fair(func() { w1 <- struct{}{} })
	a2.Fair(func() { w2 <- struct{}{} })
	return
}

// fill reserves n-byte pieces on a until the budget refuses; it returns
// the bytes reserved.
func fill(a *Account, n int64) (got int64) {
	for a.Reserve(Flows, n) {
		got += n
	}
	return got
}

// An account that took the whole budget is asked to give back when
// another below its share is refused, takes no more past its share while
// the other starves, and the other then gets its share.
func TestFairShareAskedBack(t *testing.T) {
	const limit = 4 << 20
	b, a1, a2, w1, _ := fairPair(limit)
	got1 := fill(a1, 1000)
	if got1 < limit-2*chunk {
		t.Fatalf("first account got only %d of %d", got1, limit)
	}
	if a1.Owes() {
		t.Fatal("owes before anyone asked")
	}
	if a2.Reserve(Flows, 1000) {
		t.Fatal("a full budget granted more")
	}
	if !a1.Owes() || len(w1) != 1 {
		t.Fatalf("the account past its share was not asked (owes %v, woken %d)", a1.Owes(), len(w1))
	}
	// While the other starves, what a1 frees is not a1's to take again
	// past its share.
	a1.Release(Flows, 3*chunk)
	got1 -= 3 * chunk
	if !a1.OverShare() {
		t.Fatalf("holding %d bytes of %d, the account is not past its share", got1, limit)
	}
	if a1.Reserve(Flows, 2*chunk) {
		t.Fatal("an account past its share took more while another starves")
	}
	// a1 gives back down to its share, as a worker sheds flows.
	for a1.OverShare() {
		a1.Release(Flows, 1000)
		got1 -= 1000
	}
	a1.Paid()
	if a1.Owes() {
		t.Fatal("still owes after paying")
	}
	got2 := fill(a2, 1000)
	if share := int64(limit / 2); got2 < share-2*chunk || got1 > share {
		t.Fatalf("after giving back: %d and %d bytes of shares of %d", got1, got2, share)
	}
	if p := b.Stats().Peak; p > limit {
		t.Fatalf("peak %d of %d", p, limit)
	}
}

// WaitFair blocks until the account asked has given back; the waiter then
// gets its reservation. An account at or past its share does not wait.
func TestWaitFair(t *testing.T) {
	const limit = 4 << 20
	_, a1, a2, w1, _ := fairPair(limit)
	fill(a1, 1000)
	done := make(chan struct{})
	go func() { // a1's owner: gives back when woken
		defer close(done)
		<-w1
		for a1.OverShare() {
			a1.Release(Flows, 1000)
		}
		a1.Paid()
	}()
	if a2.Reserve(Flows, 1000) {
		t.Fatal("a full budget granted more")
	}
	if !a2.WaitFair() {
		t.Fatal("nobody asked")
	}
	if !a2.Reserve(Flows, 1000) {
		t.Fatal("refused after the other gave back")
	}
	<-done
	if a1.WaitFair() {
		t.Fatal("an account at its share waited")
	}
}

// A closing account answers whoever waits for it and leaves the share:
// the other's share becomes the whole budget.
func TestFairCloseAnswers(t *testing.T) {
	const limit = 4 << 20
	b, a1, a2, _, _ := fairPair(limit)
	got := fill(a1, 1000)
	if a2.Reserve(Flows, 1000) {
		t.Fatal("a full budget granted more")
	}
	waited := make(chan bool)
	go func() { waited <- a2.WaitFair() }()
	for asked := 0; asked == 0; runtime.Gosched() { // until a2 waits for a1
		b.mu.Lock()
		asked = len(a1.fair.askers)
		b.mu.Unlock()
	}
	a1.Release(Flows, got) // closing: its flows are flushed, then the account closed
	a1.Close()
	if !<-waited {
		t.Fatal("WaitFair asked nobody")
	}
	if got := fill(a2, 1000); got < limit-2*chunk {
		t.Fatalf("alone, the account got %d of %d", got, limit)
	}
	if b.share() != limit {
		t.Fatalf("share %d after the other closed", b.share())
	}
}
