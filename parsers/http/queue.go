package http

// Pairing: requests queue in order, responses take the oldest unanswered
// one, and finished pairs are emitted and their slots recycled.

import "time"

// newSlot returns a clean slot from the free list.
func (c *Conn) newSlot() *slot {
	var s *slot
	if n := len(c.free); n > 0 {
		s = c.free[n-1]
		c.free = c.free[:n-1]
	} else if s = c.cfg.pool.slot(); s == nil {
		s = newSlot()
	}
	return s
}

// slotHeaders is the room for header fields a new slot comes with, per
// message: most messages have fewer, and a list grown one append at a
// time costs an allocation per doubling.
const slotHeaders = 12

// slotRoom is a slot with the header lists it comes with.
type slotRoom struct {
	s         slot
	req, resp [slotHeaders]Header
}

// newSlot returns a clean new slot whose header lists have room for
// slotHeaders fields each, in the slot's own allocation.
func newSlot() *slot {
	room := new(slotRoom)
	s := &room.s
	s.tx.Request.Headers, s.tx.Response.Headers = room.req[:0], room.resp[:0]
	s.tx.reset()
	return s
}

// scrub clears what s, recycled, still holds of its ended Conn past its
// lists' lengths (header values, which may be credentials a later flow
// must not keep alive; body bytes; its notes, constant strings, are
// dropped with their list), and reports whether it is
// back to its own room (slotHeaders fields a message): a slot whose lists
// grew holds more than slotBytes and is not worth keeping.
func (s *slot) scrub() bool {
	t := &s.tx
	clear(t.Request.Headers[:cap(t.Request.Headers)])
	clear(t.Response.Headers[:cap(t.Response.Headers)])
	t.Notes, t.Request.Body, t.Response.Body = nil, nil, nil
	return cap(t.Request.Headers) <= slotHeaders && cap(t.Response.Headers) <= slotHeaders
}

func (c *Conn) recycle(s *slot) {
	s.tx.reset()
	s.reqDone, s.respDone, s.isHead, s.isConnect, s.detached = false, false, false, false, false
	c.free = append(c.free, s)
}

func (c *Conn) emitSlot(s *slot) {
	if c.to != nil {
		c.to.Transaction(&s.tx)
	}
	c.recycle(s)
}

// tryEmit emits finished transactions from the head of the queue.
func (c *Conn) tryEmit() {
	for len(c.pending) > 0 {
		s := c.pending[0]
		if !s.reqDone || !s.respDone {
			return
		}
		c.popFront()
		c.emitSlot(s)
	}
}

func (c *Conn) popFront() {
	copy(c.pending, c.pending[1:])
	c.pending[len(c.pending)-1] = nil
	c.pending = c.pending[:len(c.pending)-1]
	if c.paired > 0 {
		c.paired--
	}
}

// flushAll emits every transaction still held, in order.
func (c *Conn) flushAll() {
	for d := range c.h {
		if h := &c.h[d]; h.dec != nil {
			c.stopDecoder(h)
		}
	}
	resp := c.resp
	for len(c.pending) > 0 {
		s := c.pending[0]
		c.popFront()
		if !s.reqDone {
			s.tx.RequestTruncated = true
		}
		if !s.respDone {
			if s == resp {
				s.tx.ResponseTruncated = true
				resp = nil
			} else {
				s.tx.ResponseMissing = true
			}
		}
		c.emitSlot(s)
	}
	if resp != nil && resp.detached && !resp.respDone {
		resp.tx.ResponseTruncated = true
		c.emitSlot(resp)
	}
	c.resp = nil
	c.h[0].cur, c.h[1].cur = nil, nil
}

// beginRequest queues the slot of a request at its first byte, so that a
// response sent before the request's header block ends (a 4xx to an
// oversized request) still pairs with it.
func (c *Conn) beginRequest(h *half) {
	if len(c.pending) >= c.cfg.maxPending {
		s := c.pending[0]
		c.popFront()
		s.tx.addNote(NoteTooManyPending)
		if s == c.resp {
			s.detached = true // emitted when its response ends
		} else {
			s.tx.ResponseMissing = true
			c.emitSlot(s)
		}
	}
	s := c.newSlot()
	c.seq++
	s.tx.Seq = c.seq
	s.tx.Request.Start = h.msgStart
	c.pending = append(c.pending, s)
	h.cur = s
}

// notHTTP drops the request begun with an invalid start line (unless a
// response already paired with it) and returns ErrNotHTTP.
func (c *Conn) notHTTP(h *half) error {
	s := h.cur
	if !h.request || s == nil {
		return ErrNotHTTP
	}
	h.cur = nil
	n := len(c.pending)
	if n > c.paired && c.pending[n-1] == s {
		c.pending = c.pending[:n-1]
		c.recycle(s)
		return ErrNotHTTP
	}
	s.tx.addNote(NoteInvalidStartLine)
	s.tx.RequestTruncated = true
	s.reqDone = true
	return ErrNotHTTP
}

// messageDone ends the current message of h; complete says whether it ended
// as framed (or was cut short).
func (c *Conn) messageDone(h *half, ts time.Time, complete bool) {
	s := h.cur
	if s == nil {
		h.st = stStart
		return
	}
	_, body, decoded, _ := c.msg(h)
	if h.dec != nil {
		c.endDecoder(h, complete)
	} else if !h.encoded {
		*decoded = *body
	}
	c.closeFile(h, complete, ts)
	h.encoded = false
	h.cur = nil
	h.st = stStart
	if h.request {
		s.tx.Request.End = ts
		if !complete {
			s.tx.RequestTruncated = true
		}
		s.reqDone = true
		if s.isConnect && complete {
			h.st = stPaused
		}
		c.tryEmit()
		return
	}
	s.tx.Response.End = ts
	if !complete {
		s.tx.ResponseTruncated = true
	}
	s.respDone = true
	c.resp = nil
	if s.detached {
		c.emitSlot(s)
		return
	}
	c.tryEmit()
}
