package reassembly

import (
	"bytes"
	"hash/maphash"
	"math/bits"
	"unsafe"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// The retransmission check. Bytes that come again after they were
// delivered are compared with what was delivered: a repeat with other bytes
// is a conflict (an evasion: the sensor kept the first copy, the host may
// take the second). Each direction remembers its last ringSize deliveries.
//
// Their bytes are copied into the Assembler's history, a ring of recent
// delivered bytes shared by its streams, and a repeat is compared byte for
// byte with whatever part of those deliveries it covers, however the sender
// cut it into segments (a hash of each delivery only allowed comparing a
// repeat of exactly the same range). A delivery still remembered when the
// history is about to overwrite its bytes is hashed then (64-bit maphash,
// seed random per Assembler, so the wire cannot aim at a collision), and a
// later repeat of exactly its range is compared by hash, as before: a
// stream quiet while others fill the history keeps its check. The history
// is small enough to stay in the CPU's cache: the copy then costs about
// what the hash of every delivery did (both are mostly the first read of
// the payload), measured on bench-large (docs/performance.md). A history
// the memory budget refuses leaves every delivery hashed as it is
// delivered (tried again at the next FlushOlderThan).
//
// Bytes that stay where they are until the caller says otherwise (payloads
// in a mapped capture file: Assembler.PayloadsLast) are not copied: the
// delivery points at them, and Unhold hashes those still remembered before
// they go away. The copy was the first read of those bytes, and for the
// ones no parser reads (TLS application data) the only one: about a tenth
// of a replay's CPU (docs/performance.md).

// DefaultRetransmitHistory is the default size of the history (a size is
// rounded up to a power of two).
const DefaultRetransmitHistory = 1 << 17

// histRefBytes is the history's size per entry of its index: the index has
// room for deliveries of this average size; smaller ones are hashed early.
const histRefBytes = 256

// delivery is one of the last deliveries of a direction: its range, and
// where its bytes are (in place, or in the history) or their hash.
type delivery struct {
	off uint64
	// at is the history position after its bytes (0: not in the
	// history), or once hashed their hash.
	at     uint64
	ref    *byte // its bytes in place (Assembler.PayloadsLast); nil: not
	n      uint32
	hashed bool
}

// histRef indexes one delivery copied into the history, oldest first.
type histRef struct {
	s    *Stream
	end  uint64
	n    uint32
	d    uint8
	slot uint8
}

// history is the Assembler's ring of delivered bytes. pos counts the
// bytes ever written; a delivery is stored contiguously, so the tail of the
// buffer is skipped when it does not fit there.
type history struct {
	buf     []byte // len a power of two
	pos     uint64
	refs    []histRef // ring of len a power of two: head, count
	head, n int
	refused bool // the budget refused the buffer; hash until FlushOlderThan
}

// remember records b, delivered at h.next of direction d; lasting: b
// stays in place until Unhold.
func (s *Stream) remember(d parsers.Dir, h *half, b []byte, lasting bool) {
	a := s.a
	slot := h.rpos
	h.rpos = (h.rpos + 1) % ringSize
	r := &h.ring[slot]
	*r = delivery{off: h.next, n: uint32(len(b))}
	if lasting {
		r.ref = unsafe.SliceData(b)
		a.held.push(s)
		return
	}
	if !a.historyReady() || len(b) > len(a.hist.buf)/4 {
		r.at, r.hashed = maphash.Bytes(a.seed, b), true
		return
	}
	hs := &a.hist
	size := uint64(len(hs.buf))
	start := hs.pos
	if i := start & (size - 1); i+uint64(len(b)) > size {
		start += size - i
	}
	a.evict(start + uint64(len(b)))
	i := start & (size - 1)
	copy(hs.buf[i:], b)
	hs.pos = start + uint64(len(b))
	r.at = hs.pos
	hs.refs[(hs.head+hs.n)&(len(hs.refs)-1)] = histRef{s: s, end: hs.pos, n: r.n, d: uint8(d), slot: slot}
	hs.n++
}

// historyReady allocates the history on first use, on the budget.
func (a *Assembler) historyReady() bool {
	hs := &a.hist
	if hs.buf != nil {
		return true
	}
	if hs.refused {
		return false
	}
	size := 1 << bits.Len(uint(a.cfg.RetransmitHistory-1))
	if !a.acct.Reserve(budget.Reassembly, int64(size)) {
		hs.refused = true
		return false
	}
	hs.buf = make([]byte, size)
	hs.refs = make([]histRef, max(1, size/histRefBytes))
	return true
}

// Close gives the history back to the memory budget; a later delivery
// takes a new one. The streams still open keep their hashed deliveries.
// A nil Assembler holds nothing.
func (a *Assembler) Close() {
	if a == nil || a.hist.buf == nil {
		return
	}
	hs := &a.hist
	a.evict(hs.pos + uint64(len(hs.buf)) + 1) // hash what is still remembered
	a.acct.Release(budget.Reassembly, int64(len(hs.buf)))
	// Positions move a whole history on: the deliveries that still point
	// into this one read as overwritten, never as the next history's bytes.
	*hs = history{pos: hs.pos + uint64(len(hs.buf))}
}

// evict drops the index entries whose bytes a write ending at end would
// overwrite, and one more when the index is full, hashing the deliveries
// that are still remembered.
func (a *Assembler) evict(end uint64) {
	hs := &a.hist
	size := uint64(len(hs.buf))
	for hs.n > 0 {
		e := &hs.refs[hs.head]
		if hs.n < len(hs.refs) && e.end-uint64(e.n)+size >= end {
			return
		}
		if s := e.s; s.a == a && !s.ended {
			r := &s.h[e.d].ring[e.slot]
			if r.at == e.end && !r.hashed && r.ref == nil {
				i := (e.end - uint64(e.n)) & (size - 1)
				r.at, r.hashed = maphash.Bytes(a.seed, hs.buf[i:i+uint64(e.n)]), true
			}
		}
		*e = histRef{}
		hs.head = (hs.head + 1) & (len(hs.refs) - 1)
		hs.n--
	}
}

// delivered returns the bytes of r if they are still in place or in the
// history.
func (a *Assembler) delivered(r *delivery) ([]byte, bool) {
	if r.ref != nil {
		return unsafe.Slice(r.ref, r.n), true
	}
	hs := &a.hist
	size := uint64(len(hs.buf))
	if r.hashed || r.at == 0 || size == 0 || hs.pos-(r.at-uint64(r.n)) > size {
		return nil, false
	}
	i := (r.at - uint64(r.n)) & (size - 1)
	return hs.buf[i : i+uint64(r.n)], true
}

// retrans counts bytes already delivered and checks them against the
// remembered deliveries they overlap.
func (s *Stream) retrans(h *half, off uint64, b []byte) {
	a := s.a
	h.st.RetransBytes += uint64(len(b))
	a.st.RetransBytes += uint64(len(b))
	if a.cfg.DisableRetransmitCheck || len(b) == 0 {
		return
	}
	end := off + uint64(len(b))
	for i := range h.ring {
		r := &h.ring[i]
		rend := r.off + uint64(r.n)
		if r.n == 0 || r.off >= end || rend <= off {
			continue
		}
		differ := false
		if got, ok := a.delivered(r); ok {
			lo, hi := max(off, r.off), min(end, rend)
			differ = !bytes.Equal(got[lo-r.off:hi-r.off], b[lo-off:hi-off])
		} else if r.hashed && r.off == off && rend == end {
			differ = r.at != maphash.Bytes(a.seed, b)
		}
		if differ {
			s.conflict(h)
			return
		}
	}
}

// PayloadsLast tells whether the payloads of the segments passed from now
// on stay in place, unchanged, until Unhold (slices of a mapped capture
// file): the retransmission check then remembers where their delivered
// bytes are instead of copying them into the history.
func (a *Assembler) PayloadsLast(lasting bool) { a.lasting = lasting }

// Unhold hashes the remembered deliveries that are in place, before their
// bytes go away, and ends PayloadsLast. Each is let go before its bytes
// are read: after a memory fault reading them (a mapped file cut by
// another process), calling Unhold again goes on with the others, and the
// one that faulted is no longer checked.
func (a *Assembler) Unhold() {
	a.lasting = false
	for a.held.head != nil {
		s := a.held.head
		a.held.remove(s)
		for d := range s.h {
			for i := range s.h[d].ring {
				r := &s.h[d].ring[i]
				if r.ref == nil {
					continue
				}
				b := unsafe.Slice(r.ref, r.n)
				r.ref = nil
				r.at, r.hashed = maphash.Bytes(a.seed, b), true
			}
		}
	}
}
