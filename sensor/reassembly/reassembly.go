// Package reassembly turns the TCP segments of a connection, in whatever order
// they were captured, into the in-order byte stream of each direction and
// hands it to a parsers.StreamParser, with bounded memory.
//
// An Assembler belongs to one worker goroutine and takes no locks; each
// connection has a Stream created by (or embedded by the caller and
// initialised with) that Assembler. The caller passes packet time on every
// call, never the wall clock, so replays are deterministic.
//
// Policies, in short:
//
//   - Start of a direction: a SYN fixes it at ISN+1 (a SYN's own payload is the
//     first data). Without a SYN the direction is picked up mid-stream at the
//     sequence number of its first segment that carries data (or a FIN); bytes
//     before that point are never delivered, so a mid-stream pickup whose first
//     segment was itself out of order treats the earlier bytes as
//     retransmissions.
//   - In-order bytes are passed straight from the segment to Data with no copy
//     (the slice is only valid during the call). Bytes ahead of a hole are
//     copied into fixed-size pages from a free list owned by the Assembler and
//     delivered when the hole fills.
//   - Repeated bytes: the first copy wins. Bytes already delivered are dropped
//     and counted as retransmitted; bytes already held out of order are
//     compared with the held copy and counted as overlap. A repeat whose bytes
//     differ is a conflict (an evasion signal): the held bytes are compared
//     byte for byte, and a retransmission of delivered bytes is compared
//     with the last few deliveries it overlaps, byte for byte where they
//     still are (payloads that stay in place, PayloadsLast) or while a
//     shared history of recent deliveries holds them, else by a keyed
//     64-bit hash when it repeats one delivery's exact range (history.go).
//   - Holes are skipped (Gap with the exact number of missing bytes, then the
//     buffered data) when a memory cap is reached, on FlushOlderThan, on RST and
//     on Close. A FIN alone does not skip a hole: the direction ends once every
//     byte before the FIN was delivered, and waits for a missing segment until
//     then (ordinary reordering around a FIN is common; the flow table ends the
//     connection and the caller's Close flushes what is left).
//   - A RST flushes both directions (as Close does, without End) and the
//     stream accepts no more data; its sequence number is not checked against
//     a window (the flow table ends the connection on RST anyway).
//   - Each direction is delivered as its bytes become in order; the two
//     directions are not interleaved by acknowledgements, so a consumer pairs
//     requests and responses itself.
//   - Times: Data gets the capture time of the segment that carried the bytes
//     (for bytes appended to a held page, that of the page's first segment);
//     Gap gets the time of the data after the hole, or the time given to
//     Close or carried by the RST.
//   - Memory is counted in whole pages: a page held for one byte costs a page.
//   - Sequence numbers are 32-bit serial numbers; a segment's position is taken
//     relative to the next expected byte, so wrap-around at 2^32 is seamless.
//     Segments starting more than 2^30 bytes (the largest TCP window) past the
//     next expected byte are dropped.
package reassembly

import (
	"hash/maphash"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
)

// Defaults for the zero fields of Config.
const (
	DefaultMaxBufferedPerConn = 1 << 20
	DefaultMaxBufferedTotal   = 64 << 20
	DefaultMaxSegmentsPerDir  = 512
	DefaultPageSize           = 2048
)

// maxWindow is the largest TCP window (65535 << 14): a segment further ahead
// of the next expected byte cannot belong to the stream.
const maxWindow = 1 << 30

// pageBatch is how many pages are allocated at once when the free list is
// empty.
const pageBatch = 32

// Config bounds the memory of an Assembler. Zero fields take the defaults.
type Config struct {
	// MaxBufferedPerConn is the memory (in whole pages) a connection may hold
	// out of order, both directions together; beyond it holes are skipped.
	MaxBufferedPerConn int
	// MaxBufferedTotal is the memory (in whole pages) all the connections of
	// the Assembler may hold; beyond it holes are skipped, first in the
	// connection that needs room, then in the connection that has held data
	// the longest.
	MaxBufferedTotal int
	// MaxSegmentsPerDir is the number of pages one direction may hold. It
	// bounds the cost of placing a segment among those held.
	MaxSegmentsPerDir int
	// PageSize is the size of one buffer page in bytes.
	PageSize int
	// DisableRetransmitCheck turns off the check of retransmitted delivered
	// bytes for different content, and with it the history.
	DisableRetransmitCheck bool
	// RetransmitHistory is the size in bytes of the ring of recently
	// delivered bytes that retransmissions are compared with (history.go),
	// drawn on the memory budget when first used.
	RetransmitHistory int
}

// Stats are the counters of an Assembler.
type Stats struct {
	Segments     uint64 // segments passed to Stream.Segment
	Bytes        uint64 // payload bytes of those segments
	Delivered    uint64 // bytes passed to Data
	OutOfOrder   uint64 // segments (or parts) that arrived ahead of a hole and were buffered
	RetransBytes uint64 // bytes already delivered that came again and were dropped
	OverlapBytes uint64 // bytes that came again while held out of order (the held copy is kept)
	Conflicts    uint64 // segments whose repeated bytes differ from the first copy
	Gaps         uint64 // holes skipped (Gap calls)
	GapBytes     uint64 // bytes in those holes
	DroppedBytes uint64 // bytes dropped otherwise: beyond a FIN or the window, after RST, FIN or a consumer error
	MidStream    uint64 // directions picked up without a SYN

	Buffered     int // data bytes held out of order now
	BufferedPeak int // highest Buffered
	Pages        int // pages in use now (memory held = Pages × PageSize)
	PagesPeak    int // highest Pages
	PagesAlloc   int // pages ever allocated (in use and on the free list)

	ConnCapHits         uint64 // holes skipped because of MaxBufferedPerConn or MaxSegmentsPerDir
	TotalCapHits        uint64 // holes skipped because of MaxBufferedTotal
	BudgetHits          uint64 // holes skipped because the memory budget refused pages
	StreamsFlushedByCap uint64 // of those, holes skipped in another connection to make room
	Resets              uint64 // RST segments accepted
	Closed              uint64 // streams closed (End called)
	ConsumerErrors      uint64 // streams whose consumer returned an error from Data
}

// page holds a run of out-of-order bytes of one direction, starting at stream
// offset off. Pages of a direction form a list sorted by offset, never
// overlapping; free pages form a list through next.
type page struct {
	off        uint64
	buf        []byte // len: bytes held; cap: the page size
	ts         time.Time
	prev, next *page
}

func (p *page) end() uint64 { return p.off + uint64(len(p.buf)) }

// Assembler owns the page memory and counters shared by the streams of one
// worker. It is not safe for concurrent use.
type Assembler struct {
	cfg       Config
	connPages int
	totPages  int
	seed      maphash.Seed
	hist      history

	// Pages in use are reserved on acct (pool Reassembly) before they are
	// taken: reserved is what fits took and fill has not used yet; refused
	// says the last fits failed on the budget rather than a cap.
	acct     *budget.Account
	reserved int
	refused  bool

	free  *page
	st    Stats
	pages streamList // streams holding pages, the longest holding first

	lasting bool       // the payloads of the segments passed now stay in place (PayloadsLast)
	held    streamList // streams with deliveries in place (history.go)
}

// NewAssembler returns an Assembler bounded by cfg (zero fields take the
// defaults).
func NewAssembler(cfg Config) *Assembler {
	if cfg.PageSize <= 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.MaxBufferedPerConn <= 0 {
		cfg.MaxBufferedPerConn = DefaultMaxBufferedPerConn
	}
	if cfg.MaxBufferedTotal <= 0 {
		cfg.MaxBufferedTotal = DefaultMaxBufferedTotal
	}
	if cfg.MaxSegmentsPerDir <= 0 {
		cfg.MaxSegmentsPerDir = DefaultMaxSegmentsPerDir
	}
	if cfg.RetransmitHistory <= 0 {
		cfg.RetransmitHistory = DefaultRetransmitHistory
	}
	a := &Assembler{cfg: cfg, seed: maphash.MakeSeed(), pages: streamList{k: pagesList}, held: streamList{k: heldList}}
	a.connPages = max(1, cfg.MaxBufferedPerConn/cfg.PageSize)
	a.totPages = max(1, cfg.MaxBufferedTotal/cfg.PageSize)
	return a
}

// UseBudget makes the pages held out of order draw on acct (pool
// Reassembly): when it refuses, holes are skipped as at the caps.
func (a *Assembler) UseBudget(acct *budget.Account) { a.acct = acct }

// Config returns the configuration in use, defaults filled in.
func (a *Assembler) Config() Config { return a.cfg }

// Stats returns a copy of the counters.
func (a *Assembler) Stats() Stats { return a.st }

// FlushOlderThan skips, in every stream, the holes that have kept data waiting
// since before cutoff (packet time), delivering that data. It returns the
// number of streams that had something flushed.
func (a *Assembler) FlushOlderThan(cutoff time.Time) int {
	a.hist.refused = false
	n := 0
	for s := a.pages.head; s != nil; {
		next := s.ln[pagesList].next
		if s.FlushOlderThan(cutoff) {
			n++
		}
		s = next
	}
	return n
}

// unreserve gives back what fits reserved and fill did not use (fits
// counts pages as if no held page had room to append to).
func (a *Assembler) unreserve() {
	if a.reserved > 0 {
		a.acct.Release(budget.Reassembly, int64(a.reserved*a.cfg.PageSize))
		a.reserved = 0
	}
}

// getPage takes a page from the free list, allocating a batch when it is
// empty.
func (a *Assembler) getPage() *page {
	if a.free == nil {
		n := pageBatch
		if room := a.totPages - a.st.PagesAlloc; room > 0 && room < n {
			n = room
		}
		ps := a.cfg.PageSize
		mem := make([]byte, n*ps)
		pages := make([]page, n)
		for i := range pages {
			pages[i].buf = mem[i*ps : i*ps : (i+1)*ps]
			pages[i].next = a.free
			a.free = &pages[i]
		}
		a.st.PagesAlloc += n
	}
	p := a.free
	a.free = p.next
	p.next = nil
	a.reserved-- // reserved by fits
	a.st.Pages++
	if a.st.Pages > a.st.PagesPeak {
		a.st.PagesPeak = a.st.Pages
	}
	return p
}

// putPage returns a page to the free list.
func (a *Assembler) putPage(p *page) {
	a.st.Buffered -= len(p.buf)
	a.st.Pages--
	a.acct.Release(budget.Reassembly, int64(a.cfg.PageSize))
	*p = page{buf: p.buf[:0], next: a.free}
	a.free = p
}

// The Assembler's lists of streams, each through its links in Stream.ln.
const (
	pagesList = iota // streams holding pages
	heldList         // streams with deliveries in place
)

// links put a Stream on one list.
type links struct {
	prev, next *Stream
	listed     bool
}

// streamList is a list of streams, oldest first, through their links k.
type streamList struct {
	head, tail *Stream
	k          int
}

// push appends s unless it is listed already.
func (l *streamList) push(s *Stream) {
	ln := &s.ln[l.k]
	if ln.listed {
		return
	}
	ln.listed, ln.prev, ln.next = true, l.tail, nil
	if l.tail != nil {
		l.tail.ln[l.k].next = s
	} else {
		l.head = s
	}
	l.tail = s
}

// remove takes s off the list if it is on it.
func (l *streamList) remove(s *Stream) {
	ln := &s.ln[l.k]
	if !ln.listed {
		return
	}
	if ln.prev != nil {
		ln.prev.ln[l.k].next = ln.next
	} else {
		l.head = ln.next
	}
	if ln.next != nil {
		ln.next.ln[l.k].prev = ln.prev
	} else {
		l.tail = ln.prev
	}
	*ln = links{}
}

// Add sums o into s, for totals over workers (the peaks become a sum of
// per-worker peaks: an upper bound of the total's peak).
func (s *Stats) Add(o Stats) {
	s.Segments += o.Segments
	s.Bytes += o.Bytes
	s.Delivered += o.Delivered
	s.OutOfOrder += o.OutOfOrder
	s.RetransBytes += o.RetransBytes
	s.OverlapBytes += o.OverlapBytes
	s.Conflicts += o.Conflicts
	s.Gaps += o.Gaps
	s.GapBytes += o.GapBytes
	s.DroppedBytes += o.DroppedBytes
	s.MidStream += o.MidStream
	s.Buffered += o.Buffered
	s.BufferedPeak += o.BufferedPeak
	s.Pages += o.Pages
	s.PagesPeak += o.PagesPeak
	s.PagesAlloc += o.PagesAlloc
	s.ConnCapHits += o.ConnCapHits
	s.TotalCapHits += o.TotalCapHits
	s.BudgetHits += o.BudgetHits
	s.StreamsFlushedByCap += o.StreamsFlushedByCap
	s.Resets += o.Resets
	s.Closed += o.Closed
	s.ConsumerErrors += o.ConsumerErrors
}
