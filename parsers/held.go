package parsers

import "github.com/packetsleuth/packetsleuth/internal/budget"

// Held is bytes a parser keeps across calls (a message split across
// segments), its capacity paid on a memory budget account (pool Parsers).
type Held struct {
	B    []byte
	paid int64
}

// Append adds b, growing the buffer (doubling, at least 64 bytes, never
// past limit when limit leaves room for b) with the growth reserved on
// acct first. It returns false, holding nothing more, when the budget
// refuses.
func (h *Held) Append(acct *budget.Account, b []byte, limit int) bool {
	if len(h.B)+len(b) > cap(h.B) {
		n := max(len(h.B)+len(b), 2*cap(h.B), 64)
		n = min(n, max(limit, len(h.B)+len(b)))
		if !acct.Reserve(budget.Parsers, int64(n-cap(h.B))) {
			return false
		}
		h.paid += int64(n - cap(h.B))
		h.B = append(make([]byte, 0, n), h.B...)
	}
	h.B = append(h.B, b...)
	return true
}

// Reset empties the buffer, keeping its room when it is at most keep
// bytes and giving it back to acct otherwise.
func (h *Held) Reset(acct *budget.Account, keep int) {
	if cap(h.B) <= keep {
		h.B = h.B[:0]
		return
	}
	acct.Release(budget.Parsers, h.paid)
	h.B, h.paid = nil, 0
}
