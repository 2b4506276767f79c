package outputs

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// A block holds the records of one Fanout write, their JSON in one arena,
// shared read-only by the runners. refs counts the records each runner
// still holds (len(recs) per runner at the start); the runner that gives
// back the last one returns the block to its pool for a later write. So
// the records' memory is used again instead of left to the GC (on a replay
// it was half of all bytes the sensor allocated), and it can never change
// under a runner that still holds a record: a sink gets its batch only
// while its runner holds it (Sink: valid during the call).
type block struct {
	pool  *blockPool
	recs  []schemas.Record
	arena []byte
	refs  atomic.Int64

	// A record's share of the block's memory (cost): its JSON's part of
	// the arena's capacity, scaled by arenaCap/arenaUsed, and recCost,
	// the record slice's capacity over its records.
	arenaCap, arenaUsed int64
	recCost             int64
}

// cost is the memory rec holds in b (nil: a record the runner owns
// alone, copied to the byte with its key: copyRecords). The costs of a
// block's records add up to at least the block's memory, so a queue that
// counts them holds no more than it counts (Runner, queue_bytes). Its key
// counts in a block too, where it holds what it was cut from: so a record
// never costs less than its copy, and a queue that copies its part of a
// block (Runner.enqueueOwned) stays within what it reserved.
func (b *block) cost(rec *schemas.Record) int64 {
	if b == nil {
		return int64(len(rec.JSON) + len(rec.Key) + recordSize)
	}
	c := b.recCost + int64(len(rec.Key))
	if b.arenaUsed > 0 {
		c += (int64(len(rec.JSON))*b.arenaCap + b.arenaUsed - 1) / b.arenaUsed
	}
	return c
}

// release gives back n records of b; nil or n == 0 does nothing.
func (b *block) release(n int) {
	if b == nil || n == 0 {
		return
	}
	switch left := b.refs.Add(-int64(n)); {
	case left == 0:
		b.pool.put(b)
	case left < 0:
		panic("outputs: a block's records given back more often than held")
	}
}

// blockPool keeps a few blocks whose runners are done with them.
type blockPool struct {
	mu   sync.Mutex
	free []*block
}

const (
	// keptBlocks bounds the blocks a pool keeps unused: enough for the
	// writes of several workers while the runners deliver the last ones.
	keptBlocks = 8
	// blockSlack is what a block may hold beyond twice what a write needs:
	// every block in a queue holds at most about twice its records' bytes,
	// so a small write (a stats report) never pins a large block.
	blockSlack = 1 << 10
)

// recordSize is what one record takes in a block's record slice.
const recordSize = int(unsafe.Sizeof(schemas.Record{}))

// fill returns a block holding copies of recs, whose JSON lies in the
// block's arena, held refs times each.
func (p *blockPool) fill(recs []schemas.Record, refs int) *block {
	size := int(bytesOf(recs))
	b := p.get()
	if c := cap(b.arena); c < size || c > 2*size+blockSlack {
		b.arena = make([]byte, 0, size+size/4)
	}
	if c := cap(b.recs); c < len(recs) || c*recordSize > 2*len(recs)*recordSize+blockSlack {
		b.recs = make([]schemas.Record, 0, len(recs)+len(recs)/4)
	}
	b.recs = copyInto(b.recs, b.arena[:0], recs)
	b.refs.Store(int64(len(recs) * refs))
	b.arenaCap, b.arenaUsed = int64(cap(b.arena)), int64(size)
	if n := len(recs); n > 0 {
		b.recCost = (int64(cap(b.recs)*recordSize) + int64(n) - 1) / int64(n)
	}
	return b
}

// get takes the block given back last, or a new one.
func (p *blockPool) get() *block {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		return b
	}
	return &block{pool: p}
}

// put keeps b for a later write, unless keptBlocks are kept already.
func (p *blockPool) put(b *block) {
	clear(b.recs) // their strings (keys, rule ids) are not ours to keep alive
	b.recs = b.recs[:0]
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) < keptBlocks {
		p.free = append(p.free, b)
	}
}

// copyRecords copies recs, their JSON and their keys into one new
// allocation each. Such a copy is kept alone (the few records a filtered
// runner keeps, a queue's part of a block), so it must not keep what a key
// was cut from: a worker's block of flow strings (flow.Texts), one for
// each record kept.
func copyRecords(recs []schemas.Record) []schemas.Record {
	keys := 0
	for i := range recs {
		keys += len(recs[i].Key)
	}
	json := bytesOf(recs)
	arena := make([]byte, 0, json+int64(keys))
	out := copyInto(make([]schemas.Record, 0, len(recs)), arena, recs)
	arena = arena[:json] // past the JSON copyInto wrote
	for i := range out {
		if k := out[i].Key; k != "" {
			start := len(arena)
			arena = append(arena, k...)
			// The arena is never written again: the string stays as copied.
			out[i].Key = unsafe.String(&arena[start], len(k))
		}
	}
	return out
}

// copyInto appends recs to dst with their JSON copied into arena, which
// has room for it all (so no record's JSON moves), and returns dst.
func copyInto(dst []schemas.Record, arena []byte, recs []schemas.Record) []schemas.Record {
	for _, rec := range recs {
		start := len(arena)
		arena = append(arena, rec.JSON...)
		rec.JSON = arena[start:len(arena):len(arena)]
		dst = append(dst, rec)
	}
	return dst
}
