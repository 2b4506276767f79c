package tls

import "github.com/packetsleuth/packetsleuth/internal/budget"

// CertCache remembers the descriptions of the certificates seen last, by
// their DER bytes. A server sends the same chain to every client, and
// describing a certificate (three digests and an X.509 parse, some fifty
// allocations) is most of what a TLS 1.2 handshake costs the sensor; a
// repeated one costs a map lookup. It is bounded in entries and in the size
// of each certificate, its bytes draw on the memory budget (pool Parsers;
// refused: not kept, counted), and the oldest entry makes room for a new
// one, so certificates an attacker makes up only cycle through it. For one
// goroutine (one per worker); the zero value is not usable, nil caches
// nothing.
type CertCache struct {
	acct  *budget.Account
	m     map[string]int // DER -> index in ents
	ents  []certEntry
	next  int // the oldest entry, replaced next once ents is full
	stats CertCacheStats
}

type certEntry struct {
	der  string
	cert Certificate
	paid int64
}

// CertCacheStats counts what the cache did.
type CertCacheStats struct {
	Hits, Misses uint64
	Refused      uint64 // not kept: the budget refused the bytes
}

const (
	// certCacheEntries bounds the entries: chains of the servers a
	// worker's clients talk to most.
	certCacheEntries = 256
	// certCacheMaxDER is the largest certificate kept; larger ones are
	// described each time.
	certCacheMaxDER = 8 << 10
	// certEntryBytes is what an entry costs beyond its DER: the strings
	// of its description and the map slot.
	certEntryBytes = 1 << 10
)

// NewCertCache returns an empty cache drawing on acct (nil: unbounded by a
// budget, still bounded in entries).
func NewCertCache(acct *budget.Account) *CertCache {
	return &CertCache{acct: acct, m: make(map[string]int)}
}

// UseBudget makes later entries draw on acct.
func (cc *CertCache) UseBudget(acct *budget.Account) { cc.acct = acct }

// Stats returns the counters.
func (cc *CertCache) Stats() CertCacheStats { return cc.stats }

// Release gives back the budget of every entry and empties the cache.
func (cc *CertCache) Release() {
	for i := range cc.ents {
		cc.acct.Release(budget.Parsers, cc.ents[i].paid)
	}
	cc.ents, cc.next = nil, 0
	clear(cc.m)
}

// Parse is ParseCertificate, remembered. The slices of the result are
// shared with other results of the same certificate: read only.
func (cc *CertCache) Parse(der []byte) Certificate {
	if cc == nil {
		return ParseCertificate(der)
	}
	if i, ok := cc.m[string(der)]; ok {
		cc.stats.Hits++
		return cc.ents[i].cert
	}
	cc.stats.Misses++
	c := ParseCertificate(der)
	if len(der) > certCacheMaxDER {
		return c
	}
	cost := int64(len(der)) + certEntryBytes
	i := len(cc.ents)
	if i == certCacheEntries {
		i = cc.next
		cc.next = (cc.next + 1) % certCacheEntries
		old := &cc.ents[i]
		delete(cc.m, old.der)
		cc.acct.Release(budget.Parsers, old.paid)
		*old = certEntry{}
	} else {
		cc.ents = append(cc.ents, certEntry{})
	}
	if !cc.acct.Reserve(budget.Parsers, cost) {
		cc.stats.Refused++
		if i == len(cc.ents)-1 && len(cc.ents) < certCacheEntries {
			cc.ents = cc.ents[:i]
		} // else the replaced slot stays empty: no key maps to it
		return c
	}
	cc.ents[i] = certEntry{der: string(der), cert: c, paid: cost}
	cc.m[cc.ents[i].der] = i
	return c
}
