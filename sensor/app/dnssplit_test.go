package app

import (
	"fmt"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers/dns"
)

var splitNames = []string{
	"www.example.com", "www.example.com.", "WWW.Example.CO.UK", "a.b.c.example.co.uk.", "example.com",
	"co.uk", "com.", "wpad", "localhost.", "", ".", "bad..name.com", "foo.appspot.com", "192.0.2.1",
	"xn--bcher-kva.example", "sub.domain.cromulent",
	`x.evil\.bank.com`, `www.example.com\.`, `a\\.example.com.`, // dots inside labels, as the parser writes them
}

// The remembered split is dns.SplitName's, on a miss and on a hit, and a
// hit allocates nothing.
func TestSplitNameRemembered(t *testing.T) {
	a := &Analyzer{}
	for round := range 2 {
		for _, n := range splitNames {
			r, s, tld := a.splitName(n)
			wr, ws, wtld := dns.SplitName(n)
			if r != wr || s != ws || tld != wtld {
				t.Errorf("round %d: splitName(%q) = %q %q %q, want %q %q %q", round, n, r, s, tld, wr, ws, wtld)
			}
		}
	}
	if n := testing.AllocsPerRun(100, func() { a.splitName("www.example.com") }); n != 0 {
		t.Errorf("%v allocations per remembered name", n)
	}
}

// The cache holds at most maxNameSplits names, each reserved on the
// budget; refused, a name is split but not remembered, and Close gives
// everything back.
func TestSplitNameBounded(t *testing.T) {
	b := budget.New(1 << 20)
	a := &Analyzer{acct: b.NewAccount()}
	for i := range 3 * maxNameSplits {
		a.splitName(fmt.Sprintf("host%d.example.org", i))
	}
	if n := len(a.splits.m); n == 0 || n > maxNameSplits {
		t.Errorf("%d names remembered, want 1..%d", n, maxNameSplits)
	}
	if used := a.acct.Used(budget.Parsers); used != a.splits.cost || used == 0 {
		t.Errorf("budget: %d bytes reserved, cache says %d", used, a.splits.cost)
	}
	a.Close()
	if used := a.acct.Used(budget.Parsers); used != 0 {
		t.Errorf("%d bytes still reserved after Close", used)
	}

	tight := budget.New(1)
	a = &Analyzer{acct: tight.NewAccount()}
	if r, _, _ := a.splitName("www.example.com"); r != "example.com" || len(a.splits.m) != 0 {
		t.Errorf("without budget: registered %q, %d names remembered", r, len(a.splits.m))
	}
}
