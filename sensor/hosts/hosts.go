// Package hosts keeps the live address → MAC → host name table the sensor
// learns from DHCP (a DHCPv4 ACK, a DHCPv6 REPLY) and enriches events
// with: an event whose source or destination address holds a lease at the
// event's time gets that endpoint's ECS mac and domain (the host name) and
// the name in related.hosts.
//
// One Table is shared by the workers: learning (DHCP answers, rare) takes
// a shard's write lock, enriching (every event) its read lock, and an
// empty table costs one atomic load. Leases are kept by time: a lookup at
// packet time t sees a lease that started at or before t and had not
// ended, so an event is named by the lease of its own time. The table
// holds at most Config.MaxEntries leases and as many client names, paid
// from the memory budget (pool hosts); a lease that finds the table full
// after the ended ones are swept is not kept, counted and reported
// (limit.hosts).
//
// With several workers a lease is learnt by the worker that holds its
// DHCP flow: an event another worker makes in the same instant of packet
// time may come before it and go unnamed.
package hosts

import (
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// DefaultMaxEntries bounds the leases (and the client names) kept.
const DefaultMaxEntries = 65536

// DefaultMaxLearnRate bounds the DHCP messages a second (packet time)
// the table learns from (Admit): a campus boot storm stays well below.
const DefaultMaxLearnRate = 500

// DefaultLease is the lease assumed when an answer gives no lease time.
const DefaultLease = time.Hour

// nameTTL is how long a client's name waits for its lease (packet time).
const nameTTL = time.Hour

// entryCost is what one lease or name costs besides its strings: the
// struct, the map slot and key header.
const entryCost = 160

// Config bounds the table.
type Config struct {
	MaxEntries int // leases kept at once (and client names); 0: DefaultMaxEntries
	// Servers, when set, are the only senders (DHCP servers and relays)
	// whose answers grant leases: DHCP is unauthenticated, and any host of
	// the segment can send an ACK naming an address as it likes.
	Servers []netip.Prefix
	// MaxLearnRate bounds the messages learnt from a second of packet
	// time (Admit); 0: DefaultMaxLearnRate.
	MaxLearnRate int
}

// Lease is one address's lease.
type Lease struct {
	IP       string
	MAC      string // ECS notation (90-B1-1C-99-49-29); "" when the client gave none
	Hostname string
	Start    time.Time
	End      time.Time // zero: no end (infinite lease)
	client   string    // who holds it: "mac:…" or "duid:…"
}

func (l *Lease) live(t time.Time) bool {
	return !t.Before(l.Start) && (l.End.IsZero() || t.Before(l.End))
}

func (l *Lease) cost() int64 {
	return entryCost + int64(len(l.IP)+len(l.MAC)+len(l.Hostname)+len(l.client))
}

const nShards = 16

type shard struct {
	mu    sync.RWMutex
	byIP  map[string]*Lease
	names map[string]name // client key → its last name
}

type name struct {
	name string
	seen time.Time
}

// Stats counts what the table did.
type Stats struct {
	Leases   int64  // held now
	Names    int64  // client names held now
	Learned  uint64 // leases learnt (assigned)
	Released uint64 // leases ended by the client (RELEASE, DECLINE)
	Expired  uint64 // ended leases swept
	Refused  uint64 // leases not kept: table full or budget spent
	Ignored  uint64 // answers not taken: their sender is not among Config.Servers
	Limited  uint64 // messages not learnt from: past Config.MaxLearnRate in their second (Admit)
	Enriched uint64 // endpoints named
}

// Table is the shared lease table. Its methods are safe for concurrent use.
type Table struct {
	max     int64
	budget  *budget.Budget
	servers []netip.Prefix
	shards  [nShards]shard

	leases, names                                   atomic.Int64
	learned, released, expired, refused, ignored, n atomic.Uint64
	lastSweep                                       atomic.Int64 // packet time (s) of the last sweep
	namesSwept                                      atomic.Int64 // packet time (s) of the last sweepNames

	maxRate int64
	rate    sync.Mutex   // guards rates (Admit)
	rates   [2]learnRate // clients' messages, servers' answers
	limited atomic.Uint64
}

// New returns an empty table drawing on b (nil: unlimited).
func New(cfg Config, b *budget.Budget) *Table {
	t := &Table{max: int64(cfg.MaxEntries), budget: b, servers: cfg.Servers, maxRate: int64(cfg.MaxLearnRate)}
	if t.max <= 0 {
		t.max = DefaultMaxEntries
	}
	if t.maxRate <= 0 {
		t.maxRate = DefaultMaxLearnRate
	}
	for i := range t.shards {
		t.shards[i].byIP = map[string]*Lease{}
		t.shards[i].names = map[string]name{}
	}
	return t
}

// shardOf picks a shard by the key's last bytes (the varying end of an
// address's text).
func (t *Table) shardOf(key string) *shard {
	h := uint(len(key))
	if n := len(key); n > 0 {
		h = h*31 + uint(key[n-1])
		if n > 1 {
			h = h*31 + uint(key[n-2])
		}
	}
	return &t.shards[h%nShards]
}

// Stats returns the counters.
func (t *Table) Stats() Stats {
	return Stats{Leases: t.leases.Load(), Names: t.names.Load(), Learned: t.learned.Load(), Released: t.released.Load(),
		Expired: t.expired.Load(), Refused: t.refused.Load(), Ignored: t.ignored.Load(), Limited: t.limited.Load(), Enriched: t.n.Load()}
}

// Leases returns the leases live at time now, or every one held with a
// zero now, in no order.
func (t *Table) Leases(now time.Time) []Lease {
	var out []Lease
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.RLock()
		for _, l := range s.byIP {
			if now.IsZero() || l.live(now) {
				out = append(out, *l)
			}
		}
		s.mu.RUnlock()
	}
	return out
}

// Lookup returns the lease of ip live at time at.
func (t *Table) Lookup(ip string, at time.Time) (Lease, bool) {
	if t.leases.Load() == 0 || ip == "" {
		return Lease{}, false
	}
	s := t.shardOf(ip)
	s.mu.RLock()
	l := s.byIP[ip]
	ok := l != nil && l.live(at)
	var out Lease
	if ok {
		out = *l
	}
	s.mu.RUnlock()
	return out, ok
}

// EnrichGroups are the groups Learn and Enrich write of an event that is
// not a DHCP one.
const EnrichGroups = schemas.GroupSource | schemas.GroupDestination | schemas.GroupRelated

// Enrich names ev's source and destination from their leases at ev's
// time: the endpoint's mac and domain when the event has none, and the
// name in related.hosts.
func (t *Table) Enrich(ev *schemas.Event) {
	if t.leases.Load() == 0 {
		return
	}
	for _, ep := range []*schemas.Endpoint{&ev.Source, &ev.Destination} {
		l, ok := t.Lookup(ep.IP, ev.Timestamp)
		if !ok {
			continue
		}
		t.n.Add(1)
		if ep.MAC == "" {
			ep.MAC = l.MAC
		}
		if l.Hostname == "" {
			continue
		}
		if ep.Domain == "" {
			ep.Domain = l.Hostname
		}
		if !slices.Contains(ev.Related.Hosts, l.Hostname) {
			ev.Related.Hosts = append(ev.Related.Hosts, l.Hostname)
		}
	}
}

// ECSMAC turns "90:b1:1c:99:49:29" into ECS notation, "90-B1-1C-99-49-29".
func ECSMAC(mac string) string {
	return strings.ToUpper(strings.ReplaceAll(mac, ":", "-"))
}
