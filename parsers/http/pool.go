package http

// Pool recycles what the Conns of one goroutine use for one connection
// only: the transaction slots (with their header lists) of a Conn go to
// the Pool at End, its line buffer once each header block is read, and
// they serve the next connections instead of being allocated per
// connection. The zero value is ready; a
// nil *Pool allocates anew. It holds a bounded number of each thing.
type Pool struct {
	slots []*slot
	bufs  [][]byte
}

// Pool bounds: enough for connections that end one after another; a
// buffer grown past maxPooledBuf (a large header block) is left to the
// garbage collector.
const (
	maxPooledSlots = 16
	maxPooledBufs  = 8
	maxPooledBuf   = 4 << 10
)

func (p *Pool) slot() *slot {
	if p == nil || len(p.slots) == 0 {
		return nil
	}
	s := p.slots[len(p.slots)-1]
	p.slots[len(p.slots)-1] = nil
	p.slots = p.slots[:len(p.slots)-1]
	return s
}

func (p *Pool) buf() []byte {
	if p == nil || len(p.bufs) == 0 {
		return nil
	}
	b := p.bufs[len(p.bufs)-1]
	p.bufs[len(p.bufs)-1] = nil
	p.bufs = p.bufs[:len(p.bufs)-1]
	return b
}

// release gives the pool what the ended Conn c keeps: its free slots
// (every slot is free once End has emitted them) and its header buffers.
func (p *Pool) release(c *Conn) {
	if p == nil {
		return
	}
	for i, s := range c.free {
		if len(p.slots) < maxPooledSlots {
			p.slots = append(p.slots, s)
		}
		c.free[i] = nil
	}
	c.free = c.free[:0]
	for d := range c.h {
		p.putBuf(&c.h[d])
	}
}

// putBuf takes h's line buffer, if it is worth keeping; h has none after.
func (p *Pool) putBuf(h *half) {
	if p == nil {
		return
	}
	if b := h.buf; cap(b) > 0 && cap(b) <= maxPooledBuf && len(p.bufs) < maxPooledBufs {
		p.bufs = append(p.bufs, b[:0])
	}
	h.buf = nil
}
