// Package parsertest drives stream parsers in tests: messages of either
// direction fed in pieces of a chosen size, the result checked to be
// emitted exactly once.
package parsertest

import (
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// Msg is the bytes one direction sends in one go.
type Msg struct {
	D parsers.Dir
	B []byte
}

// Run makes a parser with newConn, feeds it msgs in pieces of at most k
// bytes until an error, ends it, and returns a copy of the one result it
// emitted and the error. It fails t when the parser emits other than once.
func Run[T any](t testing.TB, newConn func(emit func(*T)) parsers.StreamParser, k int, msgs ...Msg) (*T, error) {
	t.Helper()
	var got *T
	n := 0
	c := newConn(func(v *T) { n++; cp := *v; got = &cp })
	var err error
	for _, m := range msgs {
		for b := m.B; len(b) > 0 && err == nil; {
			p := min(k, len(b))
			err = c.Data(m.D, b[:p], time.Time{})
			b = b[p:]
		}
	}
	c.End(time.Time{})
	if n != 1 {
		t.Fatalf("emitted %d times", n)
	}
	return got, err
}
