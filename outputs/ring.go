package outputs

import "github.com/packetsleuth/packetsleuth/schemas"

// ring is a FIFO of records with a fixed capacity, each with the block
// its JSON lies in.
type ring struct {
	buf   []schemas.Record
	blks  []*block
	head  int
	n     int
	bytes int64 // the records' JSON
	cost  int64 // the memory they hold (block.cost)
}

func (q *ring) init(size int) {
	q.buf = make([]schemas.Record, size)
	q.blks = make([]*block, size)
	// Written once now: the queue's memory may be fresh from the kernel,
	// and the collector's scans would map its unwritten pages to the
	// kernel's zero page, each then copied (with a TLB flush on every
	// core) at its first push.
	clear(q.buf)
	clear(q.blks)
}

// room returns how many of recs, whose JSON lies in blk, fit under the
// record limit and under maxCost of memory, beside the memory the runner
// holds elsewhere (the batch in flight), and what they cost. A record
// costing more than maxCost fits when nothing is held.
func (q *ring) room(maxN int, maxCost, elsewhere int64, recs []schemas.Record, blk *block) (n int, cost int64) {
	c := q.cost + elsewhere
	for n < len(recs) && q.n+n < maxN {
		rc := blk.cost(&recs[n])
		if c+rc > maxCost && (q.n+n > 0 || elsewhere > 0) {
			break
		}
		c += rc
		cost += rc
		n++
	}
	return n, cost
}

// push appends recs, whose JSON lies in blk (nil: the runner's own).
func (q *ring) push(recs []schemas.Record, blk *block) {
	for _, rec := range recs {
		i := (q.head + q.n) % len(q.buf)
		q.buf[i], q.blks[i] = rec, blk
		q.n++
		q.bytes += int64(len(rec.JSON))
		q.cost += blk.cost(&rec)
	}
}

// pop moves up to maxN records (and at least one, within maxBytes) to dst.
func (q *ring) pop(dst *held, maxN int, maxBytes int64) {
	var b int64
	for k := 0; k < maxN && q.n > 0; k++ {
		rec, blk := q.buf[q.head], q.blks[q.head]
		if k > 0 && b+int64(len(rec.JSON)) > maxBytes {
			break
		}
		b += int64(len(rec.JSON))
		dst.add(rec, blk)
		q.buf[q.head], q.blks[q.head] = schemas.Record{}, nil
		q.head = (q.head + 1) % len(q.buf)
		q.n--
		q.bytes -= int64(len(rec.JSON))
		q.cost -= blk.cost(&rec)
	}
}

// held are records a runner holds, each with the block its JSON lies in
// (nil: JSON the runner owns alone, such as what it read from the spool).
type held struct {
	recs []schemas.Record
	blks []*block
}

func (h *held) add(rec schemas.Record, blk *block) {
	h.recs = append(h.recs, rec)
	h.blks = append(h.blks, blk)
}

// cost is the memory the records hold (block.cost).
func (h *held) cost() int64 {
	var c int64
	for i, blk := range h.blks {
		c += blk.cost(&h.recs[i])
	}
	return c
}

// own makes recs, which the runner owns alone, what h holds.
func (h *held) own(recs []schemas.Record) {
	h.recs = recs
	h.blks = append(h.blks[:0], make([]*block, len(recs))...)
}

// keep keeps the records whose keep[i] is true, in order, and gives back
// the others' blocks; nil keeps none.
func (h *held) keep(keep []bool) {
	n := 0
	for i, blk := range h.blks {
		if i < len(keep) && keep[i] {
			h.recs[n], h.blks[n] = h.recs[i], blk
			n++
			continue
		}
		blk.release(1)
	}
	clear(h.recs[n:])
	clear(h.blks[n:])
	h.recs, h.blks = h.recs[:n], h.blks[:n]
}

// release gives back every record's block and empties h.
func (h *held) release() { h.keep(nil) }
