package dns

import (
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/intern"
)

// Notes put on a Transaction (after Packetbeat's dns notes).
const (
	// NoteNoResponse: the query expired (Expire) or the flow ended (Flush)
	// before a response came.
	NoteNoResponse = "no response"
	// NoteDuplicateQuery: another query with the same ID and question came
	// while this one waited; this one is closed unanswered and the new one
	// waits in its place.
	NoteDuplicateQuery = "duplicate query"
	// NoteOrphanResponse: a response matched no pending query.
	NoteOrphanResponse = "response without query"
	// NoteEvicted: more than MaxPending queries waited; the oldest was
	// closed unanswered.
	NoteEvicted = "too many pending queries"
	// NoteMalformedQuery and NoteMalformedResponse: the message did not
	// parse whole (Message.Err); the note goes on with the error, e.g.
	// "malformed query: question at offset 12: compression pointer loop",
	// and the transaction holds what was decoded before the bad field.
	NoteMalformedQuery    = "malformed query"
	NoteMalformedResponse = "malformed response"
)

// DefaultMaxPending is the Pairer bound used when NewPairer gets 0.
const DefaultMaxPending = 1024

// DefaultMaxPendingBytes is the default Pairer.MaxPendingBytes.
const DefaultMaxPendingBytes = 4 << 20

// Transaction is a query with its response, or one of them alone.
//
// A Transaction and the Messages it points to are only valid during the emit
// call that delivers it: the Pairer recycles its query copies and the
// response is the caller's. Copy (Message.Clone) what you keep.
type Transaction struct {
	Query        *Message // nil for a response without query
	Response     *Message // nil when unanswered
	QueryTime    time.Time
	ResponseTime time.Time
	QuerySize    int // bytes of the DNS message (UDP payload, TCP frame body)
	ResponseSize int
	Notes        []string // Note* constants
}

// Pairer matches the queries and responses of one flow (a UDP 5-tuple or a
// TCP connection; feed both directions to the same Pairer). A response
// answers the oldest pending query with the same ID and, when both carry a
// question, the same first question (name compared case-insensitively, for
// 0x20 randomisation, plus type and class).
//
// It keeps copies of the pending queries (never the caller's buffers), at
// most maxPending of them and at most MaxPendingBytes of their text. It is not safe for concurrent use; a worker owns
// its flows' Pairers. Times are packet times supplied by the caller.
type Pairer struct {
	// MaxPendingBytes bounds the memory the pending queries keep alive
	// (the sum of their Size and TextSize); over it the oldest are closed
	// with NoteEvicted. NewPairer sets DefaultMaxPendingBytes.
	MaxPendingBytes int

	maxPending int
	bytes      int
	emit       func(*Transaction)
	handler    Handler         // instead of emit (NewConnHandler)
	names      *intern.Table   // keeps the names and data met before (NewConnHandler), or nil
	pending    []*pendingQuery // oldest first
	free       []*pendingQuery
	tx         Transaction
	notes      [4]string
	// Most flows hold one query at a time: its slot and the lists' first
	// room come with the Pairer, not in allocations of their own.
	q0           pendingQuery
	pend0, free0 [2]*pendingQuery
	q0Question   [1]Question // q0's question, copied without an allocation
	q0Options    [4]uint16   // and its EDNS options (a cookie, a client subnet)
	q0Text       [96]byte    // and its text (names, ID) until delivered

	// Counters, for metrics.
	Paired, Unanswered, Duplicates, Orphans, Evicted int
}

type pendingQuery struct {
	msg  Message
	ts   time.Time
	size int
}

// NewPairer returns a Pairer that holds at most maxPending queries
// (DefaultMaxPending if maxPending <= 0) and hands every finished
// transaction to emit.
func NewPairer(maxPending int, emit func(*Transaction)) *Pairer {
	p := new(Pairer)
	p.init(maxPending, emit)
	return p
}

func (p *Pairer) init(maxPending int, emit func(*Transaction)) {
	if maxPending <= 0 {
		maxPending = DefaultMaxPending
	}
	p.maxPending, p.emit, p.MaxPendingBytes = maxPending, emit, DefaultMaxPendingBytes
	p.pending = p.pend0[:0]
	p.free = append(p.free0[:0], &p.q0)
	p.q0.msg.Questions = p.q0Question[:0]
	p.q0.msg.EDNS.Options = p.q0Options[:0]
	p.q0.msg.arena = p.q0Text[:0]
}

// Pending is the number of queries waiting for a response.
func (p *Pairer) Pending() int { return len(p.pending) }

// Add routes m by its QR bit to Query or Response. size is the wire size of
// the message.
func (p *Pairer) Add(m *Message, size int, ts time.Time) {
	if m.Response {
		p.Response(m, size, ts)
	} else {
		p.Query(m, size, ts)
	}
}

// Query records a query; m is copied, the caller may reuse it at once.
func (p *Pairer) Query(m *Message, size int, ts time.Time) {
	for i, q := range p.pending {
		if q.msg.ID == m.ID && sameQuestion(&q.msg, m) {
			p.Duplicates++
			p.Unanswered++
			p.remove(i)
			p.deliver(q, nil, 0, time.Time{}, NoteDuplicateQuery)
			p.recycle(q)
			break
		}
	}
	cost := queryCost(m)
	for len(p.pending) > 0 && (len(p.pending) >= p.maxPending || p.bytes+cost > p.MaxPendingBytes) {
		q := p.pending[0]
		p.remove(0)
		p.Evicted++
		p.Unanswered++
		p.deliver(q, nil, 0, time.Time{}, NoteEvicted)
		p.recycle(q)
	}
	var q *pendingQuery
	if n := len(p.free); n > 0 {
		q, p.free = p.free[n-1], p.free[:n-1]
	} else {
		q = new(pendingQuery)
	}
	m.CopyTo(&q.msg)
	q.ts, q.size = ts, size
	p.bytes += cost
	p.pending = append(p.pending, q)
}

// Response pairs m with its pending query and emits the transaction, or
// emits it alone with NoteOrphanResponse. m is not kept.
func (p *Pairer) Response(m *Message, size int, ts time.Time) {
	for i, q := range p.pending {
		if q.msg.ID == m.ID && sameQuestion(&q.msg, m) {
			p.remove(i)
			p.Paired++
			p.deliver(q, m, size, ts)
			p.recycle(q)
			return
		}
	}
	p.Orphans++
	p.deliver(nil, m, size, ts, NoteOrphanResponse)
}

// Expire closes, as unanswered with NoteNoResponse, every query older than
// timeout at packet time now, and returns how many it closed.
func (p *Pairer) Expire(now time.Time, timeout time.Duration) int {
	n := 0
	for len(p.pending) > 0 && now.Sub(p.pending[0].ts) > timeout {
		q := p.pending[0]
		p.remove(0)
		p.Unanswered++
		p.deliver(q, nil, 0, time.Time{}, NoteNoResponse)
		p.recycle(q)
		n++
	}
	return n
}

// Flush closes every pending query as unanswered (the flow ended) and
// returns how many it closed.
func (p *Pairer) Flush() int {
	n := len(p.pending)
	for len(p.pending) > 0 {
		q := p.pending[0]
		p.remove(0)
		p.Unanswered++
		p.deliver(q, nil, 0, time.Time{}, NoteNoResponse)
		p.recycle(q)
	}
	return n
}

// queryCost is what holding a copy of m keeps alive, roughly.
func queryCost(m *Message) int {
	return m.Size + m.TextSize + 64*(len(m.Questions)+len(m.Answers)+len(m.Authorities)+len(m.Additionals))
}

func (p *Pairer) remove(i int) {
	p.bytes -= queryCost(&p.pending[i].msg)
	copy(p.pending[i:], p.pending[i+1:])
	p.pending[len(p.pending)-1] = nil
	p.pending = p.pending[:len(p.pending)-1]
}

func (p *Pairer) recycle(q *pendingQuery) {
	if len(p.free) < 16 {
		q.msg.Reset() // drop the references to the old strings
		p.free = append(p.free, q)
	}
}

func (p *Pairer) deliver(q *pendingQuery, resp *Message, size int, ts time.Time, notes ...string) {
	p.tx = Transaction{Response: resp, ResponseSize: size, ResponseTime: ts}
	if q != nil {
		p.tx.Query, p.tx.QuerySize, p.tx.QueryTime = &q.msg, q.size, q.ts
	}
	resolveText(p.names, p.tx.Query, resp) // without names, a query and its response share one string
	p.tx.Notes = append(p.notes[:0], notes...)
	if p.tx.Query != nil && p.tx.Query.Err != nil {
		p.tx.Notes = append(p.tx.Notes, malformed(NoteMalformedQuery, p.tx.Query.Err))
	}
	if resp != nil && resp.Err != nil {
		p.tx.Notes = append(p.tx.Notes, malformed(NoteMalformedResponse, resp.Err))
	}
	if p.emit != nil {
		p.emit(&p.tx)
	} else if p.handler != nil {
		p.handler.Transaction(&p.tx)
	}
	p.tx = Transaction{}
}

// sameQuestion reports whether two messages ask the same thing; a message
// without a question (some FORMERR and NOTIMP answers) matches any, and a
// question whose name looped (left empty, see Parse) matches any name: a
// response cannot break its pairing by garbling the name it echoes.
func sameQuestion(a, b *Message) bool {
	if len(a.Questions) == 0 || len(b.Questions) == 0 {
		return true
	}
	x, y := &a.Questions[0], &b.Questions[0]
	xn, yn := a.questionName(), b.questionName()
	return x.Type == y.Type && x.Class == y.Class && (xn == "" || yn == "" || strings.EqualFold(xn, yn))
}

// malformed is the note for a message that did not parse: note, then the
// error without the package prefix.
func malformed(note string, err error) string {
	return note + ": " + trimPrefix(err.Error())
}
