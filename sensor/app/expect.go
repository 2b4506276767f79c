package app

import (
	"net/netip"
	"sync"
	"time"
)

// Bounds of the expected endpoints: how many are remembered, and for how
// long (packet time) an announcement stands.
const (
	maxExpected = 4096
	expectTTL   = 10 * time.Minute
)

// Expectations are the endpoints the DCE/RPC endpoint mapper announced
// (ept_map answers): a later TCP connection to one of them is parsed as
// DCE/RPC even when its first bytes do not show it, as when it is picked
// up after its bind. One table serves every worker, since flows are
// sharded by 5-tuple and the answer and the later connection may land on
// different workers; with several workers, a connection that a worker
// reads before another has read the answer is judged on content alone.
type Expectations struct {
	mu sync.Mutex
	m  map[netip.AddrPort]time.Time // endpoint → when it was announced
}

// NewExpectations returns an empty table.
func NewExpectations() *Expectations {
	return &Expectations{m: map[netip.AddrPort]time.Time{}}
}

// Add records ap as announced at ts. A full table first forgets what
// expired, then, if still full, the oldest announcement.
func (e *Expectations) Add(ap netip.AddrPort, ts time.Time) {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.m[ap]; !ok && len(e.m) >= maxExpected {
		var oldest netip.AddrPort
		var at time.Time
		for k, t := range e.m {
			if ts.Sub(t) > expectTTL {
				delete(e.m, k)
			} else if at.IsZero() || t.Before(at) {
				oldest, at = k, t
			}
		}
		if len(e.m) >= maxExpected {
			delete(e.m, oldest)
		}
	}
	e.m[ap] = ts
}

// Has tells whether ap was announced within expectTTL of ts.
func (e *Expectations) Has(ap netip.AddrPort, ts time.Time) bool {
	if e == nil {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.m[ap]
	return ok && ts.Sub(t) <= expectTTL
}
