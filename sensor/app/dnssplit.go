package app

import (
	"strings"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers/dns"
)

// nameSplits remembers dns.SplitName's answers for the names seen last:
// the Public Suffix lookup allocates for every name (the error of its IP
// address check), and query names repeat. An answer is kept as offsets, so
// a hit slices the name at hand and keeps nothing of the message the name
// was first seen in.
type nameSplits struct {
	m    map[string]dns.NameSplit
	cost int64 // reserved on the budget (pool Parsers) for m
}

const (
	maxNameSplits = 1024
	nameSplitCost = 64 // a map slot and the key's header, beyond its bytes
)

// splitName is dns.SplitName, remembered.
func (a *Analyzer) splitName(name string) (registered, subdomain, tld string) {
	c := &a.splits
	s, ok := c.m[name]
	if !ok {
		s = dns.SplitNameAt(name)
		a.keepSplit(name, s)
	}
	return name[s.Registered:s.End], name[:s.Subdomain], name[s.TLD:s.End]
}

// keepSplit remembers the split s of name.
func (a *Analyzer) keepSplit(name string, s dns.NameSplit) {
	c := &a.splits
	if len(c.m) >= maxNameSplits {
		a.forgetSplits()
	}
	// Refused (counted by the budget as denied): split, not remembered.
	if cost := nameSplitCost + int64(len(name)); a.acct.Reserve(budget.Parsers, cost) {
		if c.m == nil {
			c.m = make(map[string]dns.NameSplit)
		}
		c.m[strings.Clone(name)] = s
		c.cost += cost
	}
}

// forgetSplits empties the cache and gives its memory back.
func (a *Analyzer) forgetSplits() {
	clear(a.splits.m)
	a.acct.Release(budget.Parsers, a.splits.cost)
	a.splits.cost = 0
}
