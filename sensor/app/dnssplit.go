package app

import (
	"strings"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers/dns"
)

// nameSplits remembers dns.SplitName's answers for the names seen last:
// the Public Suffix lookup allocates for every name (the error of its IP
// address check), and query names repeat. An answer is kept as lengths, so
// a hit slices the name at hand and keeps nothing of the message the name
// was first seen in.
type nameSplits struct {
	m    map[string]nameSplit
	cost int64 // reserved on the budget (pool Parsers) for m
}

// nameSplit: subdomain is a prefix of the name, registered and tld end
// where the name does, before a trailing dot.
type nameSplit struct{ registered, subdomain, tld int32 }

const (
	maxNameSplits = 1024
	nameSplitCost = 64 // a map slot and the key's header, beyond its bytes
)

// splitName is dns.SplitName, remembered.
func (a *Analyzer) splitName(name string) (registered, subdomain, tld string) {
	c := &a.splits
	if s, ok := c.m[name]; ok {
		end := len(strings.TrimSuffix(name, "."))
		return name[end-int(s.registered) : end], name[:s.subdomain], name[end-int(s.tld) : end]
	}
	registered, subdomain, tld = dns.SplitName(name)
	if len(c.m) >= maxNameSplits {
		a.forgetSplits()
	}
	// Refused (counted by the budget as denied): split, not remembered.
	if cost := nameSplitCost + int64(len(name)); a.acct.Reserve(budget.Parsers, cost) {
		if c.m == nil {
			c.m = make(map[string]nameSplit)
		}
		c.m[strings.Clone(name)] = nameSplit{int32(len(registered)), int32(len(subdomain)), int32(len(tld))}
		c.cost += cost
	}
	return registered, subdomain, tld
}

// forgetSplits empties the cache and gives its memory back.
func (a *Analyzer) forgetSplits() {
	clear(a.splits.m)
	a.acct.Release(budget.Parsers, a.splits.cost)
	a.splits.cost = 0
}
