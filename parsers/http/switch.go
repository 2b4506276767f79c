package http

// Leaving HTTP: a CONNECT answered 2xx makes the connection a tunnel, a 101
// switches it to the protocol of the Upgrade header. What follows is another
// protocol, which the caller may inspect from its first byte: the client's
// bytes sent after the CONNECT but before its answer (clients that send the
// ClientHello at once) are held here until the answer decides.

import (
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// MaxEarlyBytes bounds the client bytes held per connection between a
// CONNECT request and its response (room for a large ClientHello).
const MaxEarlyBytes = 16 << 10

// Switch says how a connection left HTTP (after Data returned ErrSwitched)
// and hands over what was already received of the new protocol.
type Switch struct {
	// Target is the CONNECT request-target (host:port); "" after a 101.
	Target string
	// Protocol is the protocol of a 101 (Transaction.UpgradeProtocol).
	Protocol string
	// Rest holds, per direction (parsers.Dir), the first bytes of the new
	// protocol: to the server, the client's bytes held between the CONNECT
	// and its answer; in the direction that switched, the rest of the Data
	// call after the response header. Valid until the next call to the Conn.
	Rest [2][]byte
	// Lost counts, per direction, bytes of the new protocol that followed
	// Rest but were not kept (over MaxEarlyBytes, no memory budget, or a
	// gap): the new protocol's stream starts with Rest, then a gap of Lost.
	Lost [2]int64
}

// Switched returns how the connection left HTTP; ok is false while it has
// not.
func (c *Conn) Switched() (sw Switch, ok bool) {
	return c.sw, c.switched
}

// switchProtocols ends HTTP on this connection after a 101 or a CONNECT 2xx.
func (c *Conn) switchProtocols(h *half, ts time.Time) {
	s := h.cur
	s.tx.Response.End = ts
	s.respDone, s.reqDone = true, true
	h.cur, c.resp = nil, nil
	c.switched = true
	if s.isConnect {
		c.sw.Target = s.tx.Request.URI
	} else {
		c.sw.Protocol = s.tx.UpgradeProtocol
	}
	if q := &c.h[parsers.ToServer]; q.st == stPaused {
		c.sw.Rest[parsers.ToServer], c.sw.Lost[parsers.ToServer] = q.early, q.lost
	}
	if s.detached {
		c.emitSlot(s)
	}
	c.flushAll()
}

// hold keeps client bytes sent after a CONNECT request, before its answer.
// Once a byte could not be kept, none after it is: Rest then Lost stays the
// stream's order.
func (c *Conn) hold(h *half, b []byte) {
	k := min(len(b), MaxEarlyBytes-len(h.early))
	if h.lost > 0 || k <= 0 || !c.cfg.budget.Reserve(budget.Parsers, int64(k)) {
		k = 0
	}
	h.early = append(h.early, b[:k]...)
	h.lost += int64(len(b) - k)
}

// dropEarly forgets the held bytes and gives their budget back.
func (c *Conn) dropEarly(h *half) {
	c.cfg.budget.Release(budget.Parsers, int64(len(h.early)))
	h.early, h.lost = nil, 0
}

// refused handles a CONNECT answered with something else than 2xx: the
// client goes on with HTTP. Bytes it sent before the answer were never
// parsed as HTTP, so the parser resynchronises after them.
func (c *Conn) refused(tx *Transaction) {
	q := &c.h[parsers.ToServer]
	if q.st != stPaused {
		return
	}
	if len(q.early) > 0 || q.lost > 0 {
		tx.addNote(NoteDataBeforeConnectOK)
		q.st, q.buf, q.skipLine, q.resynced = stResync, q.buf[:0], false, true
	} else {
		q.st = stStart
	}
	c.dropEarly(q)
}
