package parsers

import (
	"errors"

	"github.com/packetsleuth/packetsleuth/internal/budget"
)

// ErrBudget is returned by Framer.Next when the memory budget refuses to
// hold a frame split across segments.
var ErrBudget = errors.New("memory budget spent: frame split across segments not read")

// Framer cuts one direction of a stream into length-prefixed frames: the
// frames that lie whole in a piece are returned in place, a frame split
// across pieces is gathered in a buffer paid from the memory budget (pool
// Parsers). One Framer per direction.
type Framer struct {
	Acct *budget.Account // nil: unbounded
	held []byte
	paid int64
}

// Next returns the next whole frame of b (completing the one held, if
// any) and the rest of b. When b ends inside a frame, it holds the bytes
// and returns a nil frame. length reads the frame's total length from its
// first hdr bytes, or rejects them; a frame is valid until the next call.
func (f *Framer) Next(b []byte, hdr int, length func(h []byte) (int, error)) (frame, rest []byte, err error) {
	if len(f.held) == 0 && len(b) >= hdr {
		n, err := length(b[:hdr])
		if err != nil {
			return nil, nil, err
		}
		if len(b) >= n {
			return b[:n], b[n:], nil
		}
	}
	for len(b) > 0 {
		need := hdr - len(f.held)
		if len(f.held) >= hdr {
			n, err := length(f.held[:hdr])
			if err != nil {
				return nil, nil, err
			}
			need = n - len(f.held)
		}
		take := min(need, len(b))
		if !f.room(len(f.held) + take) {
			return nil, nil, ErrBudget
		}
		f.held = append(f.held, b[:take]...)
		b = b[take:]
		if len(f.held) >= hdr {
			n, err := length(f.held[:hdr])
			if err != nil {
				return nil, nil, err
			}
			if len(f.held) == n {
				frame = f.held
				f.held = f.held[:0]
				return frame, b, nil
			}
		}
	}
	return nil, nil, nil
}

// Held is how many bytes of a split frame are held.
func (f *Framer) Held() int { return len(f.held) }

func (f *Framer) room(n int) bool {
	if n <= cap(f.held) {
		return true
	}
	c := max(n, 2*cap(f.held), 64)
	if !f.Acct.Reserve(budget.Parsers, int64(c-cap(f.held))) {
		return false
	}
	f.paid += int64(c - cap(f.held))
	f.held = append(make([]byte, 0, c), f.held...)
	return true
}

// Release frees the buffer and gives its bytes back to the budget.
func (f *Framer) Release() {
	f.Acct.Release(budget.Parsers, f.paid)
	f.held, f.paid = nil, 0
}
