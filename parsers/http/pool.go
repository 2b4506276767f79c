package http

import (
	"unsafe"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/internal/freelist"
)

// Pool recycles what the Conns of one goroutine use for one connection
// only: the transaction slots (with their header lists) of a Conn go to
// the Pool at End, its line buffer once each header block is read, and
// they serve the next connections instead of being allocated per
// connection. Content decoders of finished bodies wait here for the next
// body, their coroutines parked: Close ends them. The zero value is ready;
// a nil *Pool allocates anew. It holds a bounded number of each thing.
type Pool struct {
	conns     freelist.List[*Conn]
	slots     freelist.List[*slot]
	acct      *budget.Account // pays for the slots kept past freeSlots
	bufs      freelist.List[[]byte]
	inflaters freelist.List[*inflater]
	redacts   recentRedactions
	// shedding: the Conns ending now are evicted to give memory back
	// (SetShedding), so no slot of theirs is kept on the budget.
	shedding bool
}

// Pool bounds: enough for connections that end one after another; a
// buffer grown past maxPooledBuf (a large header block) is left to the
// garbage collector.
const (
	maxPooledConns = 256 // ended Conns kept (Release), as many as a timeout sweep may end
	// Slots kept: as many as the Conns, for connections that each had a
	// transaction (bench-large made 4,411 slots a run with 16 kept);
	// past freeSlots each is paid for on the budget while kept.
	maxPooledSlots = maxPooledConns
	freeSlots      = 16
	maxPooledBufs  = 8
	maxPooledBuf   = 4 << 10
	// parked decoding layers: a body's MaxCodings, and one more body
	// (each a few KiB of coroutine stack; the reader state is not kept)
	maxPooledInflaters = MaxCodings + 1
)

// Release gives c, ended, back to its Config's Pool for a later NewConn
// (without a Pool, or before End, it does nothing). The caller must not
// use c again. End gave the pool c's slots and buffers already.
func (c *Conn) Release() {
	p := c.cfg.pool
	if p == nil || !c.ended {
		return
	}
	*c = Conn{}
	p.conns.Put(c, maxPooledConns)
}

// conn returns an ended Conn to make a new one of, or a new Conn.
func (p *Pool) conn() *Conn {
	if p == nil {
		return new(Conn)
	}
	return freelist.Take(&p.conns)
}

func (p *Pool) slot() *slot {
	if p == nil {
		return nil
	}
	paid := p.slots.Len() > freeSlots
	s, _ := p.slots.Get()
	if paid {
		p.acct.Release(budget.Parsers, slotBytes)
	}
	return s
}

// slotBytes is what a kept slot holds: the slot and its header room.
const slotBytes = int64(unsafe.Sizeof(slotRoom{}))

// keepSlot keeps s for a later Conn, past freeSlots only if acct has the
// bytes for it, and only if it holds no more than they count (scrub).
func (p *Pool) keepSlot(s *slot, acct *budget.Account) {
	if !s.scrub() {
		return
	}
	switch n := p.slots.Len(); {
	case n >= maxPooledSlots:
		return
	case n >= freeSlots:
		if p.shedding || !acct.Reserve(budget.Parsers, slotBytes) {
			return
		}
		p.acct = acct
	}
	p.slots.Put(s, maxPooledSlots)
}

// SetShedding says whether the Conns that end from now on are evicted to
// give memory back: their slots are then kept only within freeSlots, off
// the budget, not moved into the pool on it.
func (p *Pool) SetShedding(on bool) { p.shedding = on }

// Shed drops the slots kept past freeSlots while over() holds, giving
// their bytes back to the budget, and reports whether it dropped any;
// Close drops them all.
func (p *Pool) Shed(over func() bool) bool {
	gave := false
	for p.slots.Len() > freeSlots && over() {
		p.slots.Get()
		p.acct.Release(budget.Parsers, slotBytes)
		gave = true
	}
	return gave
}

func (p *Pool) buf() []byte {
	if p == nil {
		return nil
	}
	b, _ := p.bufs.Get()
	return b
}

// release gives the pool what the ended Conn c keeps: its free slots
// (every slot is free once End has emitted them) and its line buffers.
func (p *Pool) release(c *Conn) {
	if p == nil {
		return
	}
	for i, s := range c.free {
		p.keepSlot(s, c.cfg.budget)
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
	freelist.PutBuf(&p.bufs, h.buf, maxPooledBuf, maxPooledBufs)
	h.buf = nil
}

// redacted is the package's redacted, reusing the strings of the
// credentials this Pool's Conns redacted last.
func (p *Pool) redacted(prefix, v string) string {
	if p == nil {
		return redacted(prefix, v)
	}
	return p.redacts.redacted(prefix, v)
}

// inflater returns a parked inflater, or a new one.
func (p *Pool) inflater() *inflater {
	if p != nil {
		if f, ok := p.inflaters.Get(); ok {
			return f
		}
	}
	return newInflater()
}

// keepInflater keeps f, finished and parked, unless p has enough.
func (p *Pool) keepInflater(f *inflater) bool {
	if p == nil || p.inflaters.Len() >= maxPooledInflaters {
		return false
	}
	p.inflaters.Put(f, maxPooledInflaters)
	return true
}

// Close ends the coroutines of the parked decoders and gives back the
// bytes of the slots kept on the budget; the Pool stays usable.
func (p *Pool) Close() {
	p.Shed(func() bool { return true })
	for {
		f, ok := p.inflaters.Get()
		if !ok {
			return
		}
		f.stop()
	}
}
