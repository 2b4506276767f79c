package reassembly

import (
	"bytes"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"

	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// ringSize is how many recent deliveries per direction are remembered to
// check retransmissions of delivered bytes (history.go).
const ringSize = 8

// DirStats are the counters of one direction of a Stream.
type DirStats struct {
	Delivered    uint64 // bytes passed to Data
	Gaps         uint64 // holes skipped
	GapBytes     uint64 // bytes in those holes
	RetransBytes uint64 // delivered bytes that came again
	OverlapBytes uint64 // held bytes that came again
	Conflicts    uint64 // repeats whose bytes differ from the first copy
	MidStream    bool   // picked up without a SYN
	FIN          bool   // every byte up to the FIN was delivered or skipped
}

// half is the state of one direction. Offsets count bytes from the start of
// the direction (ISN+1, or the first segment of a mid-stream pickup).
type half struct {
	started bool
	finSeen bool
	done    bool   // no more data is accepted
	base    uint32 // sequence number of offset 0
	next    uint64 // offset of the next byte to deliver
	hi      uint64 // highest offset reached by accepted data or the FIN
	fin     uint64 // offset of the FIN

	head, tail *page
	npages     int

	st   DirStats
	ring [ringSize]delivery
	rpos uint8
}

// Stream reassembles one TCP connection for a consumer. The zero value is not
// usable: get one from Assembler.NewStream, or embed it and call
// Assembler.InitStream. Only the goroutine owning the Assembler may use it, and
// the consumer must not call back into the Stream.
type Stream struct {
	a     *Assembler
	c     parsers.StreamParser
	h     [2]half
	pages int
	err   error
	ended bool

	limitHits uint32 // times this stream skipped a hole for lack of room

	ln [2]links // on the Assembler's lists (pagesList, heldList)
}

// NewStream returns a Stream that delivers to c.
func (a *Assembler) NewStream(c parsers.StreamParser) *Stream {
	s := &Stream{}
	a.InitStream(s, c)
	return s
}

// InitStream readies s (zero, or closed) to deliver to c, so that a Stream can
// live inside the caller's per-flow state. A stream still open is dropped
// without a call to its consumer.
func (a *Assembler) InitStream(s *Stream, c parsers.StreamParser) {
	if s.a != nil {
		s.release()
		s.a.held.remove(s)
	}
	*s = Stream{a: a, c: c}
}

// Err returns the error the consumer returned from Data, if any. After it the
// stream delivers nothing more (End is still called by Close).
func (s *Stream) Err() error { return s.err }

// Ended reports whether Close was called.
func (s *Stream) Ended() bool { return s.ended }

// Stats returns the counters of direction d.
func (s *Stream) Stats(d parsers.Dir) DirStats { return s.h[d&1].st }

// Conflicts is the number of repeats, in either direction, whose bytes differ
// from the first copy.
func (s *Stream) Conflicts() uint64 { return s.h[0].st.Conflicts + s.h[1].st.Conflicts }

// LimitHits is the number of times the stream had to skip a hole because a
// cap or the memory budget left no room for its out-of-order bytes.
func (s *Stream) LimitHits() uint32 { return s.limitHits }

// Buffered is the number of data bytes direction d holds out of order.
func (s *Stream) Buffered(d parsers.Dir) int {
	n := 0
	for p := s.h[d&1].head; p != nil; p = p.next {
		n += len(p.buf)
	}
	return n
}

// Segment takes one TCP segment of direction d: its sequence number, TCP
// flags (decode.SYN, decode.FIN, decode.RST...) and payload, captured at ts.
// The flow table's direction converts as parsers.Dir(flow.FromOrig) ==
// parsers.ToServer.
// The payload is not kept past the call except for bytes that must wait for a
// hole, which are copied.
func (s *Stream) Segment(d parsers.Dir, seq uint32, flags uint8, payload []byte, ts time.Time) {
	if s.ended || d > parsers.ToClient {
		return
	}
	a := s.a
	a.st.Segments++
	a.st.Bytes += uint64(len(payload))
	if s.err != nil {
		a.st.DroppedBytes += uint64(len(payload))
		return
	}
	h := &s.h[d]
	if flags&decode.RST != 0 {
		// The payload of a RST is diagnostic text, never stream data.
		a.st.DroppedBytes += uint64(len(payload))
		if !s.h[0].done || !s.h[1].done {
			a.st.Resets++
			s.finish(ts)
		}
		return
	}
	if flags&decode.SYN != 0 {
		if !h.started {
			h.started, h.base = true, seq+1
		}
		seq++ // data follows the SYN's own sequence number
	}
	if !h.started {
		if len(payload) == 0 && flags&decode.FIN == 0 {
			return // a bare ACK gives no reliable position
		}
		h.started, h.base, h.st.MidStream = true, seq, true
		a.st.MidStream++
	}
	off := int64(h.next) + int64(int32(seq-(h.base+uint32(h.next))))
	end := off + int64(len(payload))
	if end-int64(h.next) > maxWindow {
		a.st.DroppedBytes += uint64(len(payload))
		return
	}
	if h.done {
		if off < int64(h.next) {
			r := min(end, int64(h.next)) - off
			s.retrans(h, uint64(off), payload[:r])
			payload = payload[r:]
		}
		a.st.DroppedBytes += uint64(len(payload))
		return
	}
	if flags&decode.FIN != 0 && !h.finSeen && end >= 0 && uint64(end) >= h.hi {
		// A FIN behind data already seen is ignored: the first copy wins.
		h.finSeen, h.fin, h.hi = true, uint64(end), uint64(end)
	}
	if h.finSeen && end > int64(h.fin) {
		cut := min(end-int64(h.fin), int64(len(payload)))
		a.st.DroppedBytes += uint64(cut)
		payload = payload[:int64(len(payload))-cut]
		end -= cut
	}
	if len(payload) > 0 {
		if end > int64(h.hi) {
			h.hi = uint64(end)
		}
		s.accept(d, h, off, payload, ts)
	}
	s.settle(h)
}

// accept places payload at offset off: drops what was delivered, delivers
// what is in order and buffers the rest, making room under the caps.
func (s *Stream) accept(d parsers.Dir, h *half, off int64, p []byte, ts time.Time) {
	first := true
	for len(p) > 0 && s.err == nil {
		if next := int64(h.next); off < next {
			r := min(off+int64(len(p)), next) - off
			if first {
				s.retrans(h, uint64(off), p[:r])
			} else {
				// Bytes delivered from the buffer while making room: they
				// were compared when that copy was buffered.
				h.st.OverlapBytes += uint64(r)
				s.a.st.OverlapBytes += uint64(r)
			}
			off, p = off+r, p[r:]
			continue
		}
		first = false
		if uint64(off) == h.next {
			s.inOrder(d, h, uint64(off), p, ts)
			return
		}
		need := s.pagesNeeded(h, uint64(off), len(p))
		if s.fits(h, need) {
			s.insert(h, uint64(off), p, ts)
			s.a.unreserve()
			return
		}
		s.makeRoom(d, h, uint64(off), need, ts)
	}
	if s.err != nil {
		s.a.st.DroppedBytes += uint64(len(p))
	}
}

func (s *Stream) conflict(h *half) {
	h.st.Conflicts++
	s.a.st.Conflicts++
}

// inOrder delivers p, which starts at h.next. Bytes also held in pages are
// delivered from the pages (first copy wins); then the pages that became
// contiguous follow.
func (s *Stream) inOrder(d parsers.Dir, h *half, off uint64, p []byte, ts time.Time) {
	cur, end := off, off+uint64(len(p))
	conflict := false
	for cur < end && s.err == nil {
		pg := h.head
		if pg == nil || pg.off >= end {
			s.deliver(d, h, p[cur-off:], ts, s.a.lasting)
			break
		}
		if pg.off > cur {
			s.deliver(d, h, p[cur-off:pg.off-off], ts, s.a.lasting)
			cur = pg.off
			if s.err != nil {
				break
			}
		}
		oe := min(end, pg.end())
		if !bytes.Equal(p[cur-off:oe-off], pg.buf[:oe-cur]) {
			conflict = true
		}
		h.st.OverlapBytes += oe - cur
		s.a.st.OverlapBytes += oe - cur
		cur = pg.end()
		s.deliverPage(d, h)
	}
	if conflict {
		s.conflict(h)
	}
	s.drain(d, h)
}

// drain delivers the pages contiguous with h.next.
func (s *Stream) drain(d parsers.Dir, h *half) {
	for s.err == nil && h.head != nil && h.head.off == h.next {
		s.deliverPage(d, h)
	}
}

// deliverPage delivers the head page and frees it.
func (s *Stream) deliverPage(d parsers.Dir, h *half) {
	pg := h.head
	s.unlinkPage(h, pg)
	s.deliver(d, h, pg.buf, pg.ts, false)
	s.freePage(pg)
}

// deliver hands b, the bytes at h.next, to the consumer; lasting: b stays
// in place (Assembler.PayloadsLast).
func (s *Stream) deliver(d parsers.Dir, h *half, b []byte, ts time.Time, lasting bool) {
	if s.err != nil || len(b) == 0 {
		return
	}
	a := s.a
	if !a.cfg.DisableRetransmitCheck {
		s.remember(d, h, b, lasting)
	}
	h.next += uint64(len(b))
	h.st.Delivered += uint64(len(b))
	a.st.Delivered += uint64(len(b))
	if err := s.c.Data(d, b, ts); err != nil {
		s.err = err
		a.st.ConsumerErrors++
		s.release()
	}
}

// gap reports n missing bytes at h.next and moves past them.
func (s *Stream) gap(d parsers.Dir, h *half, n uint64, ts time.Time) {
	if n == 0 {
		return
	}
	h.next += n
	h.st.Gaps++
	h.st.GapBytes += n
	s.a.st.Gaps++
	s.a.st.GapBytes += n
	if s.err == nil {
		s.c.Gap(d, int(min(n, uint64(maxInt))), ts)
	}
}

const maxInt = int(^uint(0) >> 1)

// skipHole skips the first hole of direction d and delivers the data after
// it up to the next hole. It reports whether there was anything to skip.
func (s *Stream) skipHole(d parsers.Dir) bool {
	h := &s.h[d]
	pg := h.head
	if pg == nil {
		return false
	}
	s.gap(d, h, pg.off-h.next, pg.ts)
	s.drain(d, h)
	s.settle(h)
	return true
}

// flushAll skips every hole of direction d; with final, the bytes known to be
// missing at the end (before a FIN) are reported too.
func (s *Stream) flushAll(d parsers.Dir, final bool, ts time.Time) {
	h := &s.h[d]
	for h.head != nil && s.err == nil {
		s.skipHole(d)
	}
	if final && !h.done && h.next < h.hi {
		s.gap(d, h, h.hi-h.next, ts)
	}
	s.settle(h)
}

// settle ends a direction once its FIN is reached.
func (s *Stream) settle(h *half) {
	if h.finSeen && !h.done && h.next >= h.fin {
		h.done, h.st.FIN = true, true
		s.releaseHalf(h)
	}
}

// finish flushes both directions and accepts no more data (RST, Close).
func (s *Stream) finish(ts time.Time) {
	for d := parsers.ToServer; d <= parsers.ToClient; d++ {
		s.flushAll(d, true, ts)
		s.h[d].done = true
	}
	s.release()
}

// Close flushes both directions (skipping holes, and reporting bytes missing
// before a FIN), then calls End once. Later calls on the stream do nothing.
func (s *Stream) Close(ts time.Time) {
	if s.ended {
		return
	}
	if s.err == nil {
		s.finish(ts)
	}
	s.release()
	s.a.held.remove(s)
	s.ended = true
	s.a.st.Closed++
	s.c.End(ts)
	s.c = nil // the history's index may hold s for a while
}

// FlushOlderThan skips the holes that have kept data waiting since before
// cutoff: in each direction, everything up to the last page buffered before
// cutoff is delivered, with Gap for the holes. It reports whether anything
// was flushed.
func (s *Stream) FlushOlderThan(cutoff time.Time) bool {
	if s.ended || s.err != nil {
		return false
	}
	flushed := false
	for d := parsers.ToServer; d <= parsers.ToClient; d++ {
		h := &s.h[d]
		var target uint64
		found := false
		for p := h.head; p != nil; p = p.next {
			if p.ts.Before(cutoff) {
				target, found = p.end(), true
			}
		}
		for found && h.head != nil && h.next < target && s.err == nil {
			s.skipHole(d)
			flushed = true
		}
	}
	return flushed
}

// firstEndAfter returns the first page of h ending after off, nil if none.
func (h *half) firstEndAfter(off uint64) *page {
	if h.head == nil || h.head.end() > off {
		return h.head
	}
	q := h.tail
	if q.end() <= off {
		return nil
	}
	for q.prev != nil && q.prev.end() > off {
		q = q.prev
	}
	return q
}

// pagesNeeded is the number of new pages that placing n bytes at off could
// take (an upper bound: appending to a page with room takes fewer).
func (s *Stream) pagesNeeded(h *half, off uint64, n int) int {
	ps := uint64(s.a.cfg.PageSize)
	cur, end := off, off+uint64(n)
	need := uint64(0)
	for at := h.firstEndAfter(cur); cur < end; at = at.next {
		if at == nil || at.off >= end {
			need += (end - cur + ps - 1) / ps
			break
		}
		if at.off > cur {
			need += (at.off - cur + ps - 1) / ps
		}
		cur = max(cur, at.end())
	}
	return int(need)
}

// fits tells whether need more pages fit direction h under the caps and
// the memory budget, and reserves them on the budget.
func (s *Stream) fits(h *half, need int) bool {
	a := s.a
	if s.pages+need > a.connPages || h.npages+need > a.cfg.MaxSegmentsPerDir || a.st.Pages+need > a.totPages {
		return false
	}
	if !a.acct.Reserve(budget.Reassembly, int64(need*a.cfg.PageSize)) {
		a.refused = true
		return false
	}
	a.reserved += need
	return true
}

// makeRoom frees memory for a segment of direction d at off that needs pages
// it may not take: it skips one hole, of this connection if it holds data,
// else (total cap) of the connection holding data the longest; when nothing
// can be freed, it skips straight to off.
func (s *Stream) makeRoom(d parsers.Dir, h *half, off uint64, need int, ts time.Time) {
	a := s.a
	connFull := s.pages+need > a.connPages || h.npages+need > a.cfg.MaxSegmentsPerDir
	switch {
	case connFull:
		a.st.ConnCapHits++
	case a.refused:
		a.st.BudgetHits++
	default:
		a.st.TotalCapHits++
	}
	a.refused = false
	s.limitHits++
	if s.skipHole(d) {
		return
	}
	if o := d.Reverse(); (s.pages+need > a.connPages || !connFull) && s.skipHole(o) {
		return
	}
	if !connFull {
		v := a.pages.head
		if v == s {
			v = v.ln[pagesList].next
		}
		if v != nil {
			a.st.StreamsFlushedByCap++
			if !v.skipHole(v.older()) {
				v.release() // cannot happen: listed streams hold pages
			}
			return
		}
	}
	// The segment alone is more than the cap allows: skip to it.
	s.gap(d, h, off-h.next, ts)
}

// older returns the direction whose first held page is the oldest.
func (s *Stream) older() parsers.Dir {
	a, b := s.h[0].head, s.h[1].head
	if a == nil || (b != nil && b.ts.Before(a.ts)) {
		return parsers.ToClient
	}
	return parsers.ToServer
}

// insert copies the bytes of p (at off, ahead of h.next) that no page holds,
// and compares the others with the held copy.
func (s *Stream) insert(h *half, off uint64, p []byte, ts time.Time) {
	a := s.a
	a.st.OutOfOrder++
	cur, end := off, off+uint64(len(p))
	conflict := false
	at := h.firstEndAfter(cur)
	for cur < end {
		if at == nil || at.off >= end {
			s.fill(h, cur, p[cur-off:], at, ts)
			break
		}
		if at.off > cur {
			s.fill(h, cur, p[cur-off:at.off-off], at, ts)
			cur = at.off
		}
		oe := min(end, at.end())
		if !bytes.Equal(p[cur-off:oe-off], at.buf[cur-at.off:oe-at.off]) {
			conflict = true
		}
		h.st.OverlapBytes += oe - cur
		a.st.OverlapBytes += oe - cur
		cur = oe
		at = at.next
	}
	if conflict {
		s.conflict(h)
	}
}

// fill copies b, the bytes at off, into pages placed before page at (at the
// end when at is nil), appending first to the previous page when it ends at
// off and has room.
func (s *Stream) fill(h *half, off uint64, b []byte, at *page, ts time.Time) {
	a := s.a
	a.st.Buffered += len(b)
	if a.st.Buffered > a.st.BufferedPeak {
		a.st.BufferedPeak = a.st.Buffered
	}
	prev := h.tail
	if at != nil {
		prev = at.prev
	}
	if prev != nil && prev.end() == off {
		n := min(cap(prev.buf)-len(prev.buf), len(b))
		prev.buf = append(prev.buf, b[:n]...)
		off += uint64(n)
		b = b[n:]
	}
	for len(b) > 0 {
		pg := s.newPage()
		n := min(cap(pg.buf), len(b))
		pg.off, pg.ts = off, ts
		pg.buf = append(pg.buf, b[:n]...)
		off += uint64(n)
		b = b[n:]
		// link pg between prev and at
		pg.prev, pg.next = prev, at
		if prev != nil {
			prev.next = pg
		} else {
			h.head = pg
		}
		if at != nil {
			at.prev = pg
		} else {
			h.tail = pg
		}
		h.npages++
		prev = pg
	}
}

func (s *Stream) newPage() *page {
	if s.pages == 0 {
		s.a.pages.push(s)
	}
	s.pages++
	return s.a.getPage()
}

func (s *Stream) freePage(pg *page) {
	s.a.putPage(pg)
	s.pages--
	if s.pages == 0 {
		s.a.pages.remove(s)
	}
}

func (s *Stream) unlinkPage(h *half, pg *page) {
	if pg.prev != nil {
		pg.prev.next = pg.next
	} else {
		h.head = pg.next
	}
	if pg.next != nil {
		pg.next.prev = pg.prev
	} else {
		h.tail = pg.prev
	}
	pg.prev, pg.next = nil, nil
	h.npages--
}

// releaseHalf drops every page of h without delivering it.
func (s *Stream) releaseHalf(h *half) {
	for h.head != nil {
		pg := h.head
		s.a.st.DroppedBytes += uint64(len(pg.buf))
		s.unlinkPage(h, pg)
		s.freePage(pg)
	}
}

// release drops every page of the stream.
func (s *Stream) release() {
	s.releaseHalf(&s.h[0])
	s.releaseHalf(&s.h[1])
}
