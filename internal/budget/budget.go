// Package budget is the process's one memory budget. Every structure that
// grows with traffic — flow tables, reassembly buffers, IP fragments, body
// decoders, parser state, rule state, files in transfer, the outputs'
// queues — reserves its bytes here before it grows and gives them back when
// it shrinks, so that a flood meets one limit however many workers share
// the process, and says so when it does.
//
// A Budget is shared; each worker draws on it through its own Account,
// which takes credit in chunks so that the hot path touches the shared
// counter only once per chunk. A nil *Budget or *Account accepts every
// reservation: code under test need not set one up.
package budget

import (
	"sync"
	"sync/atomic"
)

// Pool names what a reservation is for; each pool is counted on its own.
type Pool uint8

const (
	Flows      Pool = iota // flow-table entries
	Reassembly             // TCP segments held out of order
	Fragments              // IP fragments awaiting their datagram
	Decoders               // content decoders (gzip, deflate) of message bodies
	Parsers                // per-connection parser state (headers, pending queries)
	Rules                  // threshold and suppression state of the rules
	Files                  // files being typed and hashed as they transfer
	Packets                // packets on their way to the packet ring, or in its look-back
	Hosts                  // the IP → MAC → host name table learnt from DHCP
	Outputs                // records waiting in the outputs' queues
	NumPools
)

var poolNames = [NumPools]string{"flows", "reassembly", "fragments", "decoders", "parsers", "rules", "files", "packets", "hosts", "outputs"}

// String returns the pool's name as used in metrics and anomaly events.
func (p Pool) String() string {
	if p < NumPools {
		return poolNames[p]
	}
	return "unknown"
}

// chunk is the credit an Account takes from its Budget at once. Two workers
// can hold at most a few chunks the other cannot use: negligible against any
// sensible limit.
const chunk = 256 << 10

// Budget is the memory limit of the whole process.
type Budget struct {
	limit int64 // bytes; <= 0 is unlimited (still counted)
	used  atomic.Int64
	peak  atomic.Int64

	mu       sync.Mutex
	accounts []*Account
	shared   *Account // for callers without their own Account

	fair     []*Account   // accounts of Fair, guarded by mu
	nfair    atomic.Int64 // len(fair)
	starving atomic.Int64 // fair accounts refused below their share (fair.go)
}

// New returns a Budget of limit bytes; limit <= 0 counts without limiting.
func New(limit int64) *Budget {
	b := &Budget{limit: limit}
	b.shared = &Account{b: b, shared: true}
	b.accounts = []*Account{b.shared}
	return b
}

// Limit returns the limit in bytes (<= 0: none).
func (b *Budget) Limit() int64 {
	if b == nil {
		return 0
	}
	return b.limit
}

// take moves n bytes of credit from the budget to account a.
func (b *Budget) take(a *Account, n int64) bool {
	if a.fair != nil && b.starving.Load() > 0 && !a.fair.starving && a.drawn.Load()+n > b.share() {
		return false // past its share while another account starves
	}
	used := b.used.Add(n)
	if b.limit > 0 && used > b.limit {
		b.used.Add(-n)
		return false
	}
	for {
		p := b.peak.Load()
		if used <= p || b.peak.CompareAndSwap(p, used) {
			a.drawn.Add(n)
			a.fed()
			return true
		}
	}
}

func (b *Budget) give(a *Account, n int64) {
	a.drawn.Add(-n)
	b.used.Add(-n)
}

// NewAccount returns an Account drawing on b, for one goroutine's use.
func (b *Budget) NewAccount() *Account {
	if b == nil {
		return nil
	}
	a := &Account{b: b}
	b.mu.Lock()
	b.accounts = append(b.accounts, a)
	b.mu.Unlock()
	return a
}

// Reserve reserves n bytes for pool p on the budget's shared account; it
// is safe for concurrent use and slower than an Account's.
func (b *Budget) Reserve(p Pool, n int64) bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.shared.Reserve(p, n)
}

// Release gives back n bytes of pool p reserved with Budget.Reserve.
func (b *Budget) Release(p Pool, n int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.shared.Release(p, n)
}

// Stats is a snapshot of a Budget.
type Stats struct {
	Limit int64 // bytes, <= 0: none
	Used  int64 // bytes reserved by the pools (credit held by accounts excluded)
	Peak  int64 // highest credit taken from the budget, bytes
	Pools [NumPools]PoolStats
}

// PoolStats counts one pool.
type PoolStats struct {
	Used   int64  // bytes reserved now
	Denied uint64 // reservations refused because the budget was spent
}

// Stats sums the accounts' pools. It may be called from any goroutine.
func (b *Budget) Stats() Stats {
	if b == nil {
		return Stats{}
	}
	s := Stats{Limit: b.limit, Peak: b.peak.Load()}
	b.mu.Lock()
	accounts := b.accounts
	b.mu.Unlock()
	for _, a := range accounts {
		for p := range NumPools {
			u := a.pools[p].used.Load()
			s.Pools[p].Used += u
			s.Pools[p].Denied += a.pools[p].denied.Load()
			s.Used += u
		}
	}
	return s
}

// Account is one goroutine's share of a Budget. Its methods must not be
// called concurrently (Stats reads its counters from anywhere).
type Account struct {
	b      *Budget
	credit int64        // taken from b, not yet reserved
	drawn  atomic.Int64 // taken from b and not given back: the pools' bytes and credit
	shared bool         // the Budget's own account, guarded by its mutex
	fair   *fairness    // set by Fair
	pools  [NumPools]struct {
		used   atomic.Int64
		denied atomic.Uint64
	}
}

// Reserve reserves n bytes for pool p and reports whether the budget had
// them. A refusal is counted; the caller must then do without (evict, skip,
// count) and, where it matters to an analyst, report an anomaly.
func (a *Account) Reserve(p Pool, n int64) bool {
	if a == nil || n <= 0 {
		return true
	}
	if a.credit < n {
		grab := max(n-a.credit, chunk)
		if !a.b.take(a, grab) {
			grab = n - a.credit
			if !a.b.take(a, grab) {
				a.pools[p].denied.Add(1)
				a.refused()
				return false
			}
		}
		a.credit += grab
	}
	a.credit -= n
	a.pools[p].used.Add(n)
	return true
}

// Release gives back n bytes of pool p.
func (a *Account) Release(p Pool, n int64) {
	if a == nil || n <= 0 {
		return
	}
	a.pools[p].used.Add(-n)
	a.credit += n
	if a.credit > 2*chunk {
		back := a.credit - chunk
		a.credit -= back
		a.b.give(a, back)
	}
}

// Used returns the bytes this account holds for pool p.
func (a *Account) Used(p Pool) int64 {
	if a == nil {
		return 0
	}
	return a.pools[p].used.Load()
}

// Close gives the account's unused credit back to the budget.
func (a *Account) Close() {
	if a == nil {
		return
	}
	a.Idle()
	a.leaveFair()
}

// Idle gives the account's unused credit back to the budget, for an
// account that holds nothing now and may hold nothing for long: its
// credit (up to two chunks) would be missed by the others under a small
// budget.
func (a *Account) Idle() {
	if a == nil {
		return
	}
	a.b.give(a, a.credit)
	a.credit = 0
}
