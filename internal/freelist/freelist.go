// Package freelist is a bounded stack of things given back for reuse, for
// the per-goroutine pools of the parsers (one owner, no locking).
package freelist

// List is a stack of things given back; the zero value is empty.
type List[T any] struct {
	items []T
}

// Get takes the thing given back last; ok is false when there is none.
func (l *List[T]) Get() (x T, ok bool) {
	n := len(l.items)
	if n == 0 {
		return x, false
	}
	x = l.items[n-1]
	var zero T
	l.items[n-1] = zero // the list no longer keeps it alive
	l.items = l.items[:n-1]
	return x, true
}

// Take returns the thing *T given back last, or a new zero one when there
// is none.
func Take[T any](l *List[*T]) *T {
	if x, ok := l.Get(); ok {
		return x
	}
	return new(T)
}

// Put gives x back, or drops it when the list holds max things already.
func (l *List[T]) Put(x T, max int) {
	if len(l.items) < max {
		l.items = append(l.items, x)
	}
}

// Len is how many things the list holds.
func (l *List[T]) Len() int { return len(l.items) }

// PutBuf gives the buffer b back emptied, unless it has no room or room
// for more than maxCap bytes (grown once for an outsized input, it is left
// to the garbage collector rather than held for ever).
func PutBuf(l *List[[]byte], b []byte, maxCap, max int) {
	if cap(b) > 0 && cap(b) <= maxCap {
		l.Put(b[:0], max)
	}
}
