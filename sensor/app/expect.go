package app

import (
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/packetsleuth/packetsleuth/internal/budget"
)

// Bounds of the expected endpoints: how many are remembered, and for how
// long (packet time) an announcement stands.
const (
	maxExpected = 4096
	expectTTL   = 10 * time.Minute
)

// Expectations are the endpoints announced for later connections: by the
// DCE/RPC endpoint mapper (ept_map answers: a later TCP connection to one
// is parsed as DCE/RPC even when its first bytes do not show it, as when
// it is picked up after its bind), and by FTP control connections
// (PORT/EPRT, PASV/EPSV: the data connection is labelled ftp-data and
// linked to its control connection, once). One table serves every worker:
// flows are sharded by host pair (flow.PairHash), so an announcement
// and a later connection between the same two hosts are one worker's, in
// packet order; one announcing a third host (FTP's FXP, an endpoint on
// another server) may land on another worker, and with several workers a
// connection that a worker reads before another has read the announcement
// is judged on content alone. Entries are paid from the memory budget
// (UseBudget); one the budget refuses is not kept, and counted.
type Expectations struct {
	mu sync.Mutex
	m  map[expectKey]expected
	// order holds the keys in the order they were added, so that a full
	// table finds its oldest entry at once: a flood of announcements (PASV
	// replies, PORT commands) meets a full table at every one. Entries
	// claimed or replaced since stay behind until compacted away: at most
	// 2·len(m)+orderSlack are held, which each entry's cost pays for
	// (orderSlack apart).
	order   []added
	nextSeq uint64
	// held is len(m), read without the lock: every new TCP flow and every
	// ended one asks the table, and it is nearly always empty.
	held    atomic.Int32
	acct    *budget.Account
	refused atomic.Uint64
}

// added is an entry of Expectations.order: the key, and which adding of
// it (an entry of order whose seq is not its key's is stale).
type added struct {
	k   expectKey
	seq uint64
}

// expectKey is an announced endpoint, per kind of announcement.
type expectKey struct {
	ap   netip.AddrPort
	kind uint8
}

// Kinds of expectKey.
const (
	expectDCERPC      = iota // an endpoint the endpoint mapper announced
	expectFTPData            // an FTP data connection
	expectFTPTransfer        // the data command that will use an FTP data connection
)

type expected struct {
	seq     uint64     // which adding (Expectations.order)
	at      time.Time  // when it was announced
	control string     // FTP: the control connection's community ID
	server  netip.Addr // FTP: the control connection's server
	xfer    FTPTransfer
	cost    int64
}

// FTPLink is the control connection of an FTP data connection.
type FTPLink struct {
	Control string         // its community ID
	Server  netip.Addr     // its server: bytes from there are downloads
	At      netip.AddrPort // the endpoint it announced
}

// FTPTransfer is the command an FTP data connection carries the bytes of.
type FTPTransfer struct {
	Command string // RETR, STOR, STOU, APPE, LIST, NLST or MLSD
	File    string
	Tx      uint64
	Size    int64 // declared, -1 unknown
}

// expectedBytes is what an entry costs: key, value and map overhead
// (strings apart), and its two places in order.
const expectedBytes = 128 + 2*int64(unsafe.Sizeof(added{}))

// orderSlack is how many stale entries order holds beyond its bound
// before it is compacted: compaction then takes at least orderSlack (and
// half of order), so it costs O(1) a call, amortized.
const orderSlack = 64

// NewExpectations returns an empty table.
func NewExpectations() *Expectations {
	return &Expectations{m: map[expectKey]expected{}}
}

// UseBudget makes the table pay its entries on acct (pool Parsers).
func (e *Expectations) UseBudget(acct *budget.Account) { e.acct = acct }

// Refused counts the announcements not kept for lack of budget.
func (e *Expectations) Refused() uint64 {
	if e == nil {
		return 0
	}
	return e.refused.Load()
}

// Add records ap as announced at ts. A full table forgets its oldest
// announcement.
func (e *Expectations) Add(ap netip.AddrPort, ts time.Time) {
	e.add(expectKey{ap: ap, kind: expectDCERPC}, expected{at: ts})
}

// Has tells whether ap was announced at most expectTTL before ts. Not
// after: the table serves every worker, and one that runs ahead of
// another may have announced ap for a later packet time.
func (e *Expectations) Has(ap netip.AddrPort, ts time.Time) bool {
	if e.none() {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.m[expectKey{ap: ap, kind: expectDCERPC}]
	d := ts.Sub(x.at)
	return ok && d >= 0 && d <= expectTTL
}

// AddFTPData records that the FTP control connection control announced
// at ts a data connection to ap. It reports false when the budget
// refused the entry.
// server is the control connection's server.
func (e *Expectations) AddFTPData(ap netip.AddrPort, control string, server netip.Addr, ts time.Time) bool {
	// A copy: control, cut from a block of the worker's event strings
	// (flow.Texts), would keep the whole block as long as the entry, and
	// then as long as the data connection's state.
	return e.add(expectKey{ap: ap, kind: expectFTPData}, expected{at: ts, control: strings.Clone(control), server: server, cost: int64(len(control))})
}

// ClaimFTPData returns the control connection that announced a data
// connection to ap within expectTTL of ts, and forgets the announcement.
func (e *Expectations) ClaimFTPData(ap netip.AddrPort, ts time.Time) (FTPLink, bool) {
	x, ok := e.claim(expectKey{ap: ap, kind: expectFTPData}, ts)
	return FTPLink{Control: x.control, Server: x.server, At: ap}, ok
}

// SetFTPTransfer records t, sent at ts, as the data command whose bytes
// the data connection announced at ap will carry. It reports false when
// the budget refused the entry.
func (e *Expectations) SetFTPTransfer(ap netip.AddrPort, t FTPTransfer, ts time.Time) bool {
	return e.add(expectKey{ap: ap, kind: expectFTPTransfer}, expected{at: ts, xfer: t, cost: int64(len(t.File))})
}

// ClaimFTPTransfer returns the data command recorded for the data
// connection announced at ap, within expectTTL of ts, and forgets it: one
// data connection carries one command's bytes.
func (e *Expectations) ClaimFTPTransfer(ap netip.AddrPort, ts time.Time) (FTPTransfer, bool) {
	x, ok := e.claim(expectKey{ap: ap, kind: expectFTPTransfer}, ts)
	return x.xfer, ok
}

// none says whether nothing is announced (a nil table never holds
// anything): a caller need not then make the endpoints it would ask about.
func (e *Expectations) none() bool { return e == nil || e.held.Load() == 0 }

// claim returns k's entry if it was announced within expectTTL of ts, and
// forgets it.
func (e *Expectations) claim(k expectKey, ts time.Time) (expected, bool) {
	if e.none() {
		return expected{}, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.m[k]
	if !ok {
		return expected{}, false
	}
	e.drop(k)
	e.bound()
	return x, ts.Sub(x.at) <= expectTTL
}

// add records an announcement. A full table forgets its oldest
// announcement (first added: in packet order, so the expired go first).
func (e *Expectations) add(k expectKey, x expected) bool {
	if e == nil {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.m[k]; ok {
		e.drop(k) // replaced: paid again below
	}
	for len(e.m) >= maxExpected {
		if !e.dropOldest() {
			break
		}
	}
	x.cost += expectedBytes
	if !e.acct.Reserve(budget.Parsers, x.cost) {
		e.refused.Add(1)
		return false
	}
	e.nextSeq++
	x.seq = e.nextSeq
	e.m[k] = x
	e.held.Store(int32(len(e.m)))
	e.bound()
	e.order = append(e.order, added{k, x.seq})
	return true
}

// dropOldest forgets the entry added first that is still held; false
// when order holds none (every held entry has its place in order, so a
// full table always finds one: the false only keeps add's loop finite).
func (e *Expectations) dropOldest() bool {
	for i, a := range e.order {
		if x, ok := e.m[a.k]; ok && x.seq == a.seq {
			e.drop(a.k)
			e.order = e.order[i+1:]
			return true
		}
	}
	e.order = e.order[:0]
	return false
}

// bound compacts order when it holds 2·len(m)+orderSlack entries: after
// every add and claim, so that what the entries pay for bounds it.
func (e *Expectations) bound() {
	if len(e.order) >= 2*len(e.m)+orderSlack {
		e.compact()
	}
}

// compact keeps in order only the entries still held, in an array of
// their size when the one held is much larger (after a flood).
func (e *Expectations) compact() {
	live := e.order[:0]
	for _, a := range e.order {
		if x, ok := e.m[a.k]; ok && x.seq == a.seq {
			live = append(live, a)
		}
	}
	if cap(live) > 4*len(live)+2*orderSlack {
		live = append(make([]added, 0, 2*len(live)+orderSlack), live...)
	}
	e.order = live
}

func (e *Expectations) drop(k expectKey) {
	e.acct.Release(budget.Parsers, e.m[k].cost)
	delete(e.m, k)
	e.held.Store(int32(len(e.m)))
}
