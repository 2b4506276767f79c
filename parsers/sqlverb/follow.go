package sqlverb

import (
	"unsafe"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// Follow is embedded by a login parser (type L the login) that goes on,
// after a successful login, to count the client's statements: it holds
// the Reader and Counts once started, and emits them with the login at the
// end of the connection.
type Follow[L any] struct {
	emit    func(*L, *Counts)
	s       *following
	acct    *budget.Account
	refused bool // the memory budget refused the counting
}

type following struct {
	r   Reader
	c   Counts
	msg func(h []byte, n int, p []byte)
}

// OnStatements makes the parser go on after a successful login and count
// the client's statements; emit is called once, with the login, at the
// end of the connection when there was any. Statement text is never kept.
func (f *Follow[L]) OnStatements(emit func(*L, *Counts)) { f.emit = emit }

// followCost is what counting costs a connection, paid from the memory budget.
const followCost = int64(unsafe.Sizeof(following{}))

// Start begins counting (when OnStatements was set), paid from acct: msg
// reads each message of the client, with its header, size and first
// bytes. When the budget refuses, nothing is counted and the end of the
// connection emits Counts with Limited set.
func (f *Follow[L]) Start(acct *budget.Account, msg func(h []byte, n int, p []byte)) {
	if f.emit == nil {
		return
	}
	if !acct.Reserve(budget.Parsers, followCost) {
		f.refused = true
		return
	}
	f.s, f.acct = &following{msg: msg, c: Counts{acct: acct}}, acct
}

// Enabled says whether OnStatements was set (a caller checks it before
// making Start's msg, a method value that costs an allocation).
func (f *Follow[L]) Enabled() bool { return f.emit != nil }

// Following says whether the login is over and statements are counted.
func (f *Follow[L]) Following() bool { return f.s != nil }

// Counts are the statements counted so far (nil before Start).
func (f *Follow[L]) Counts() *Counts {
	if f.s == nil {
		return nil
	}
	return &f.s.c
}

// Feed reads the bytes of direction d (the server's are not read); a
// message that cannot be framed stops the counting.
func (f *Follow[L]) Feed(d parsers.Dir, b []byte, hdr int, length func(h []byte) (int, error)) {
	if d == parsers.ToServer && !f.s.c.Stopped {
		if err := f.s.r.Feed(b, hdr, length, f.s.msg); err != nil {
			f.s.c.Stopped = true
		}
	}
}

// Gap stops the counting when the client's stream has a hole.
func (f *Follow[L]) Gap(d parsers.Dir) {
	if d == parsers.ToServer {
		f.s.c.Stopped = true
	}
}

// Flush emits what was counted, with the login l, once, and frees it.
func (f *Follow[L]) Flush(l *L) {
	if f.refused {
		f.refused = false
		f.emit(l, &Counts{Limited: true, Stopped: true})
	}
	if s := f.s; s != nil {
		f.s = nil
		f.acct.Release(budget.Parsers, followCost+s.c.dbBytes)
		if s.c.Any() {
			f.emit(l, &s.c)
		}
	}
}
