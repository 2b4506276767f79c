package outputs

import "github.com/packetsleuth/packetsleuth/schemas"

// ring is a FIFO of records with a fixed capacity.
type ring struct {
	buf   []schemas.Record
	head  int
	n     int
	bytes int64
}

func (q *ring) init(size int) { q.buf = make([]schemas.Record, size) }

// room returns how many of recs fit under the record and byte limits; a
// record larger than maxBytes fits into an empty queue.
func (q *ring) room(maxN int, maxBytes int64, recs []schemas.Record) int {
	n, b := 0, q.bytes
	for n < len(recs) && q.n+n < maxN {
		b += int64(len(recs[n].JSON))
		if b > maxBytes && q.n+n > 0 {
			break
		}
		n++
	}
	return n
}

func (q *ring) push(recs []schemas.Record) {
	for _, rec := range recs {
		q.buf[(q.head+q.n)%len(q.buf)] = rec
		q.n++
		q.bytes += int64(len(rec.JSON))
	}
}

// pop appends up to maxN records (and at least one, within maxBytes) to dst.
func (q *ring) pop(dst []schemas.Record, maxN int, maxBytes int64) []schemas.Record {
	var b int64
	for k := 0; k < maxN && q.n > 0; k++ {
		rec := q.buf[q.head]
		if k > 0 && b+int64(len(rec.JSON)) > maxBytes {
			break
		}
		b += int64(len(rec.JSON))
		dst = append(dst, rec)
		q.buf[q.head] = schemas.Record{}
		q.head = (q.head + 1) % len(q.buf)
		q.n--
		q.bytes -= int64(len(rec.JSON))
	}
	return dst
}
