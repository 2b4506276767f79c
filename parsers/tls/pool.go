package tls

import (
	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/internal/freelist"
	"github.com/packetsleuth/packetsleuth/internal/intern"
)

// Pool recycles what the Conns of one goroutine use for one connection
// only: a Conn takes a Handshake when its first record comes and gives it
// back right after emit, and its record and message buffers when it is
// done, so their slices serve the next connections instead of being
// allocated per connection. With a Pool (Config.Pool) the Handshake given
// to emit, and every slice in it, is valid only during the call (its
// strings stay valid); an empty slice in it may be non-nil. The zero value
// is ready; a nil *Pool allocates anew. It holds a bounded number of each
// thing.
type Pool struct {
	conns freelist.List[*Conn]
	hs    freelist.List[*Handshake]
	bufs  freelist.List[[]byte]
	fp    []byte // fingerprint scratch, used within one call
	// strs keeps the fingerprints and server names met before: a client
	// seen again (most are) costs no string for them.
	strs intern.Table
	// fps keeps the fingerprints of the ClientHellos met before, by
	// their JA3 string and what else JA4 reads (Conn.fingerprint).
	fps intern.Memo
}

// UseBudget makes the Pool reserve the strings it keeps on acct.
func (p *Pool) UseBudget(acct *budget.Account) {
	if p != nil {
		p.strs.UseBudget(acct)
		p.fps.UseBudget(acct)
	}
}

// Forget drops the strings the Pool keeps and gives their memory back.
func (p *Pool) Forget() {
	if p != nil {
		p.strs.Release()
		p.fps.Release()
	}
}

// Pool bounds: a few Handshakes and buffers per goroutine are enough for
// connections that end one after another; a buffer over maxPooledBuf
// (a message bigger than a record) goes to the garbage collector.
const (
	maxPooled = 8
	// maxPooledConns bounds the ended Conns kept: as many as the
	// connections a timeout sweep may end at once (a few hundred bytes
	// each).
	maxPooledConns = 256
	maxPooledBuf   = recordHeaderLen + MaxRecordLen
)

// Release gives c, ended, back to its Config's Pool for a later NewConn
// (without a Pool it does nothing). The caller must not use c again. What
// c still holds (a handshake never emitted, partial records) is dropped.
func (c *Conn) Release() {
	p := c.cfg.Pool
	if p == nil {
		return
	}
	c.putBufs()
	if c.h != nil {
		p.putHandshake(c.h)
	}
	*c = Conn{}
	p.conns.Put(c, maxPooledConns)
}

// putBufs gives both directions' record buffers to the Pool and clears them.
func (c *Conn) putBufs() {
	for i := range c.dirs {
		c.cfg.Pool.putBuf(c.dirs[i].rec)
		c.cfg.Pool.putBuf(c.dirs[i].hs)
		c.dirs[i] = dirState{}
	}
}

// conn returns an ended Conn to make a new one of, or a new Conn.
func (p *Pool) conn() *Conn {
	if p == nil {
		return new(Conn)
	}
	return freelist.Take(&p.conns)
}

func (p *Pool) handshake() *Handshake {
	if p == nil {
		return &Handshake{}
	}
	if h, ok := p.hs.Get(); ok {
		return h
	}
	h := &Handshake{}
	h.ClientHello.strs = &p.strs
	return h
}

// putHandshake takes h back, its slices kept and everything else cleared.
func (p *Pool) putHandshake(h *Handshake) {
	if p == nil {
		return
	}
	ch, sh := h.ClientHello, h.ServerHello
	ch.Reset()
	sh.Reset()
	ch.ServerName, sh.ALPN = "", "" // kept by Reset for a re-parse of the same connection only
	clear(h.Notes)
	clear(h.Certificates) // their strings and lists go; the array stays
	*h = Handshake{ClientHello: ch, ServerHello: sh, Alerts: h.Alerts[:0], Notes: h.Notes[:0], certRoom: h.certRoom[:0]}
	p.hs.Put(h, maxPooled)
}

// buf returns an empty buffer, a pooled one if there is one.
func (p *Pool) buf() []byte {
	if p == nil {
		return nil
	}
	b, _ := p.bufs.Get()
	return b
}

func (p *Pool) putBuf(b []byte) {
	if p != nil {
		freelist.PutBuf(&p.bufs, b, maxPooledBuf, maxPooled)
	}
}

// scratch returns the fingerprint buffer: the Pool's, or the Conn's own.
func (c *Conn) scratch() []byte {
	if c.cfg.Pool != nil {
		return c.cfg.Pool.fp[:0]
	}
	return c.fp[:0]
}

// strs returns the Pool's kept strings (nil without a Pool).
func (c *Conn) strs() *intern.Table {
	if c.cfg.Pool == nil {
		return nil
	}
	return &c.cfg.Pool.strs
}

// memo returns the Pool's fingerprints memo (nil without a Pool).
func (c *Conn) memo() *intern.Memo {
	if c.cfg.Pool == nil {
		return nil
	}
	return &c.cfg.Pool.fps
}

// keepScratch stores the grown fingerprint buffer b back where scratch took it.
func (c *Conn) keepScratch(b []byte) {
	if c.cfg.Pool != nil {
		c.cfg.Pool.fp = b
	} else {
		c.fp = b
	}
}
