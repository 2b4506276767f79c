package parsers

import (
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/budget"
)

func TestHeldPaysItsCapacity(t *testing.T) {
	acct := budget.New(200).NewAccount()
	var h Held
	if !h.Append(acct, make([]byte, 10), 100) || acct.Used(budget.Parsers) != 64 || cap(h.B) != 64 {
		t.Fatalf("first append: used %d cap %d", acct.Used(budget.Parsers), cap(h.B))
	}
	if !h.Append(acct, make([]byte, 80), 100) || acct.Used(budget.Parsers) != 100 || len(h.B) != 90 {
		t.Fatalf("growth within limit: used %d cap %d", acct.Used(budget.Parsers), cap(h.B))
	}
	if h.Append(acct, make([]byte, 200), 0) || len(h.B) != 90 {
		t.Fatal("the budget's refusal was not honoured")
	}
	h.Reset(acct, 1024)
	if len(h.B) != 0 || acct.Used(budget.Parsers) != 100 {
		t.Fatal("a small buffer keeps its room")
	}
	h.Reset(acct, 0)
	if acct.Used(budget.Parsers) != 0 {
		t.Fatalf("%d still reserved", acct.Used(budget.Parsers))
	}
}
