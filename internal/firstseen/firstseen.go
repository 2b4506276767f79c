// Package firstseen remembers when the sensor first saw each domain (in a
// DNS query, an HTTP Host, a TLS server name), so that rules can ask
// whether a domain is new: first seen within a window of packet time. It
// keys registered domains (eTLD+1: a new host of an old domain is not a
// new domain), holds at most a configured number of them, the least
// recently seen forgotten first, and pays every entry from the memory
// budget (pool Rules). One Table serves every worker; it is sharded so
// that workers seldom wait on each other.
//
// A sensor that just started has seen nothing: every domain would look
// new. A domain is therefore new only when the table had been observing
// for at least Warmup before the domain first came (the table's start is
// kept with the domains across restarts when a state file is set).
package firstseen

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"golang.org/x/net/publicsuffix"
)

// Config is enrich.first_seen.
type Config struct {
	// Window: a domain first seen less than this long ago is new. 0: off.
	Window time.Duration `yaml:"window" json:"window,omitempty"`
	// Warmup is how long the table must have observed before a domain can
	// be new; 0 means Window.
	Warmup time.Duration `yaml:"warmup" json:"warmup,omitempty"`
	// MaxEntries bounds the domains held; 0 means DefaultMaxEntries.
	MaxEntries int `yaml:"max_entries" json:"max_entries,omitempty"`
	// File keeps the table across restarts (read at start, written at
	// stop, mode 0600); "" keeps nothing.
	File string `yaml:"file" json:"file,omitempty"`
}

// DefaultMaxEntries is MaxEntries when 0.
const DefaultMaxEntries = 100_000

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Window < 0 || c.Warmup < 0 {
		errs = append(errs, errors.New("enrich.first_seen: window and warmup must not be negative"))
	}
	if c.MaxEntries < 0 || c.MaxEntries > 1<<24 {
		errs = append(errs, fmt.Errorf("enrich.first_seen.max_entries: %d out of range 0..%d", c.MaxEntries, 1<<24))
	}
	return errors.Join(errs...)
}

const nShards = 16

// entryBytes is what an entry costs besides its name: the map slot, the
// entry and its list links.
const entryBytes = 96

// Table is the first-seen state. Safe for concurrent use.
type Table struct {
	window, warmup time.Duration
	perShard       int
	seed           maphash.Seed
	start          atomic.Int64 // unix ns of the first observation; 0: none yet
	shards         [nShards]shard
	evicted        atomic.Uint64 // for max_entries
	evictedMemory  atomic.Uint64 // for the memory budget
	refused        atomic.Uint64
}

type shard struct {
	mu   sync.Mutex
	m    map[string]*entry
	head entry // sentinel of the list, most recently seen first
	acct *budget.Account
}

type entry struct {
	name       string
	first      int64 // unix ns
	prev, next *entry
}

// New returns an empty table paying its entries on b (nil: unbounded but
// for MaxEntries).
func New(c Config, b *budget.Budget) *Table {
	t := &Table{window: c.Window, warmup: cmp.Or(c.Warmup, c.Window), seed: maphash.MakeSeed()}
	t.perShard = max(1, cmp.Or(c.MaxEntries, DefaultMaxEntries)/nShards)
	for i := range t.shards {
		s := &t.shards[i]
		s.m = map[string]*entry{}
		s.head.prev, s.head.next = &s.head, &s.head
		if b != nil {
			s.acct = b.NewAccount()
		}
	}
	return t
}

// Key is the registered domain of name (lower case, without a trailing
// dot), "" for an address or an empty name.
func Key(name string) string {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if name == "" {
		return ""
	}
	if _, err := netip.ParseAddr(strings.Trim(name, "[]")); err == nil {
		return ""
	}
	if d, err := publicsuffix.EffectiveTLDPlusOne(name); err == nil {
		return d
	}
	return name // a public suffix itself, or a single label
}

// Seen is what the table knows of a domain when it is observed.
type Seen struct {
	Domain string    // the registered domain
	First  time.Time // when it was first seen
	New    bool      // first seen within the window, after the warm-up
}

// Observe records that name was seen at ts and says when its domain was
// first seen. ok is false for an address, when the table is off, or when
// the domain is not held (the budget refused it: counted).
func (t *Table) Observe(name string, ts time.Time) (Seen, bool) {
	if t == nil || t.window <= 0 {
		return Seen{}, false
	}
	key := Key(name)
	if key == "" {
		return Seen{}, false
	}
	now := ts.UnixNano()
	start := t.start.Load()
	for start == 0 || now < start {
		if t.start.CompareAndSwap(start, now) {
			start = now
			break
		}
		start = t.start.Load()
	}
	s := &t.shards[maphash.String(t.seed, key)%nShards]
	s.mu.Lock()
	e := s.m[key]
	if e != nil {
		e.unlink()
		e.first = min(e.first, now) // workers see events a little out of order
	} else {
		if !s.admit(t, entryBytes+int64(len(key))) {
			s.mu.Unlock()
			t.refused.Add(1)
			return Seen{}, false
		}
		e = &entry{name: key, first: now}
		s.m[key] = e
	}
	s.head.pushFront(e)
	first := e.first
	s.mu.Unlock()
	return Seen{
		Domain: key,
		First:  time.Unix(0, first).UTC(),
		New:    now-first < int64(t.window) && first-start >= int64(t.warmup),
	}, true
}

// admit pays cost for a new entry: it asks the budget first, and forgets
// the shard's least recently seen domain only when the shard is full or
// the budget refused (then asking again with the room it freed), so that
// a tight budget neither costs a domain for nothing nor blinds the table
// to new ones. It says whether the entry may be held.
func (s *shard) admit(t *Table, cost int64) bool {
	ok := s.acct.Reserve(budget.Rules, cost)
	full := len(s.m) >= t.perShard
	if ok && !full {
		return true
	}
	if lru := s.head.prev; lru != &s.head {
		s.evict(lru)
		if full {
			t.evicted.Add(1)
		} else {
			t.evictedMemory.Add(1)
		}
	}
	return ok || s.acct.Reserve(budget.Rules, cost)
}

func (s *shard) evict(e *entry) {
	e.unlink()
	delete(s.m, e.name)
	s.acct.Release(budget.Rules, entryBytes+int64(len(e.name)))
}

func (e *entry) unlink() { e.prev.next, e.next.prev = e.next, e.prev }

func (head *entry) pushFront(e *entry) {
	e.prev, e.next = head, head.next
	head.next.prev, head.next = e, e
}

// Stats are the table's counters.
type Stats struct {
	Domains       int    `json:"domains"`
	Evicted       uint64 `json:"evicted"`        // forgotten for room (max_entries)
	EvictedMemory uint64 `json:"evicted_memory"` // forgotten for a new domain the memory budget refused
	Refused       uint64 `json:"refused"`        // not held: the memory budget refused, even after forgetting one
}

// Stats returns the counters.
func (t *Table) Stats() Stats {
	if t == nil {
		return Stats{}
	}
	st := Stats{Evicted: t.evicted.Load(), EvictedMemory: t.evictedMemory.Load(), Refused: t.refused.Load()}
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		st.Domains += len(s.m)
		s.mu.Unlock()
	}
	return st
}

// state is the file format: the table's start and each domain's first
// sighting, in unix seconds.
type state struct {
	Start   int64            `json:"start"`
	Domains map[string]int64 `json:"domains"`
}

// Save writes the table to path (0600, through a temporary file renamed
// into place, so a crash leaves the old state).
func (t *Table) Save(path string) error {
	st := state{Start: t.start.Load() / 1e9, Domains: map[string]int64{}}
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for k, e := range s.m {
			st.Domains[k] = e.first / 1e9
		}
		s.mu.Unlock()
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".first_seen-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Load reads a table Save wrote into an empty table; a missing file is an
// empty table. Past MaxEntries, the domains first seen earliest are kept
// (they are the ones that are not new).
func (t *Table) Load(path string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if st.Start > 0 {
		t.start.Store(st.Start * 1e9)
	}
	// Oldest first: each goes to the front of its shard's list, as if last
	// seen when first seen (a loaded table knows nothing more recent); a
	// full shard keeps the oldest.
	names := make([]string, 0, len(st.Domains))
	for k, first := range st.Domains {
		if Key(k) != k || first <= 0 {
			return fmt.Errorf("%s: bad entry %q", path, k)
		}
		names = append(names, k)
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Compare(st.Domains[a], st.Domains[b]) })
	for _, k := range names {
		s := &t.shards[maphash.String(t.seed, k)%nShards]
		if len(s.m) >= t.perShard {
			continue
		}
		if !s.acct.Reserve(budget.Rules, entryBytes+int64(len(k))) {
			t.refused.Add(1)
			continue
		}
		e := &entry{name: k, first: st.Domains[k] * 1e9}
		s.m[k] = e
		s.head.pushFront(e)
	}
	return nil
}
