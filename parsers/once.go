package parsers

import (
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
)

// Once is what the parsers of a connection's start (database logins)
// share: both directions framed on the memory budget, the result emitted
// exactly once, a bounded list of notes, and the bytes handed over when
// the connection goes on as TLS. A parser embeds it, which gives it Gap,
// End and Switched.
type Once[T any] struct {
	Frames [2]Framer
	Done   bool      // the result was emitted: later bytes are not read
	Handed [2][]byte // after ErrStartTLS: the bytes already received of the TLS stream
	v      *T
	notes  *[]string
	emit   func(*T)
}

// maxNotes bounds the notes of one result.
const maxNotes = 8

// Init sets what Once emits (v, whose notes list is notes) and the
// budget account its frames are paid from.
func (o *Once[T]) Init(acct *budget.Account, v *T, notes *[]string, emit func(*T)) {
	o.Frames[0].Acct, o.Frames[1].Acct = acct, acct
	o.v, o.notes, o.emit = v, notes, emit
}

// Note adds a note to the result, up to a bound.
func (o *Once[T]) Note(n string) {
	if len(*o.notes) < maxNotes {
		*o.notes = append(*o.notes, n)
	}
}

// Finish emits the result (once) and frees the held bytes.
func (o *Once[T]) Finish() {
	if !o.Done {
		o.Done = true
		o.emit(o.v)
	}
	o.Frames[0].Release()
	o.Frames[1].Release()
}

// Switched returns, after ErrStartTLS, the bytes already received that
// belong to the TLS stream (valid until the next call).
func (o *Once[T]) Switched() [2][]byte { return o.Handed }

// Gap ends the reading: what follows a hole cannot be framed.
func (o *Once[T]) Gap(d Dir, n int, ts time.Time) {
	if !o.Done {
		o.Note("gap before the outcome")
		o.Finish()
	}
}

// End emits what was read.
func (o *Once[T]) End(ts time.Time) { o.Finish() }

// CString is b up to its first NUL, at most max bytes of it.
func CString(b []byte, max int) string {
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	return string(b[:min(len(b), max)])
}

// Printable says whether b is printable ASCII.
func Printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}
