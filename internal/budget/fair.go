package budget

import (
	"slices"
	"sync/atomic"
)

// Fair share under pressure. Accounts that can give memory back on demand
// (the workers' flow tables, by evicting their least valuable flows) join
// with Fair; each is entitled to limit / (such accounts). Without this, a
// full budget stays with whoever took it first: evicted flows are reused,
// not given back, and a worker that starts late finds nothing.
//
// When a fair account below its share is refused, it is "starving": every
// fair account holding more than its share is asked to give back (Owes
// turns true, its wake is called), and takes no more than its share until
// no account starves. The owner gives back on its own goroutine, at its
// next packet: no account ever touches another's memory.

// fairness is an account's part in the fair share.
type fairness struct {
	wake     func()      // tells the owner to look at Owes soon; any goroutine, must not block
	owed     atomic.Bool // asked to give back what it holds past its share
	starving bool        // refused below its share and not fed since (owner's goroutine)

	// Guarded by Budget.mu.
	waiting bool            // in WaitFair: asked by nobody meanwhile
	askers  []chan struct{} // WaitFair callers to tell when it has given back
	closed  bool
}

// Fair makes a take part in the fair share (see above). wake is called,
// from another account's goroutine, when a is asked to give back; it must
// not block (a non-blocking send to a channel the owner watches). No
// effect without a limit.
func (a *Account) Fair(wake func()) {
	if a == nil || a.b.limit <= 0 {
		return
	}
	a.fair = &fairness{wake: wake}
	b := a.b
	b.mu.Lock()
	b.fair = append(b.fair, a)
	b.nfair.Store(int64(len(b.fair)))
	b.mu.Unlock()
}

// share is what each fair account is entitled to.
func (b *Budget) share() int64 {
	if n := b.nfair.Load(); n > 0 {
		return b.limit / n
	}
	return b.limit
}

// refused follows a refused take: below its share, a starts starving and
// asks the accounts above theirs to give back.
func (a *Account) refused() {
	f := a.fair
	if f == nil || f.starving || a.drawn.Load() >= a.b.share() {
		return
	}
	f.starving = true
	b := a.b
	b.starving.Add(1)
	b.mu.Lock()
	b.askOwners(a, nil)
	b.mu.Unlock()
}

// fed follows a granted take: a no longer starves.
func (a *Account) fed() {
	if f := a.fair; f != nil && f.starving {
		f.starving = false
		a.b.starving.Add(-1)
	}
}

// askOwners asks every other fair account above its share to give back
// (with done: to signal done once it has) and returns how many it asked.
// b.mu is held.
func (b *Budget) askOwners(a *Account, done chan struct{}) int {
	share := b.share()
	n := 0
	for _, o := range b.fair {
		of := o.fair
		if o == a || of.closed || of.waiting || o.drawn.Load() <= share {
			continue
		}
		if done != nil {
			of.askers = append(of.askers, done)
		}
		if !of.owed.Swap(true) && of.wake != nil {
			of.wake()
		}
		n++
	}
	return n
}

// answer clears a's debt and tells whoever waits for it. b.mu is held.
func (b *Budget) answer(a *Account) {
	f := a.fair
	f.owed.Store(false)
	for _, ch := range f.askers {
		ch <- struct{}{}
	}
	f.askers = nil
}

// WaitFair is for a fair account refused before it gives up anything of
// its own (a flow table before it evicts a flow): below its share, it asks
// the accounts above theirs to give back and waits until each has tried.
// It reports whether any was asked; the caller then reserves again. The
// caller must hold no lock the other accounts' owners may need. A waiting
// account answers its own askers at once, so two never wait for each other.
func (a *Account) WaitFair() bool {
	f := a.fair
	if f == nil || a.drawn.Load() >= a.b.share() {
		return false
	}
	b := a.b
	b.mu.Lock()
	f.waiting = true
	b.answer(a)
	done := make(chan struct{}, len(b.fair))
	n := b.askOwners(a, done)
	b.mu.Unlock()
	for range n {
		<-done
	}
	b.mu.Lock()
	f.waiting = false
	b.mu.Unlock()
	return n > 0
}

// Owes reports whether a was asked to give back what it holds past its
// share: the owner then frees what it can while OverShare holds, and calls
// Paid. One atomic load.
func (a *Account) Owes() bool {
	return a != nil && a.fair != nil && a.fair.owed.Load()
}

// OverShare gives a's unused credit back and reports whether a still holds
// more than its share.
func (a *Account) OverShare() bool {
	if a.credit > 0 {
		a.b.give(a, a.credit)
		a.credit = 0
	}
	return a.drawn.Load() > a.b.share()
}

// Paid tells the accounts waiting on a that it gave back what it could.
func (a *Account) Paid() {
	if a.fair == nil {
		return
	}
	a.b.mu.Lock()
	a.b.answer(a)
	a.b.mu.Unlock()
}

// leaveFair takes a closing account out of the share.
func (a *Account) leaveFair() {
	f := a.fair
	if f == nil {
		return
	}
	b := a.b
	b.mu.Lock()
	b.answer(a)
	f.closed = true
	b.fair = slices.DeleteFunc(b.fair, func(o *Account) bool { return o == a })
	b.nfair.Store(int64(len(b.fair)))
	b.mu.Unlock()
	a.fed() // a closed account starves no more
	a.fair = nil
}
