package anomaly

import "time"

// pairHold is how long the report of a kind on an address pair (a frame
// without a flow) holds back the next ones.
const pairHold = time.Minute

// maxPairs bounds the (kind, address pair) reports a Reporter remembers
// per minute of packet time: at most two minutes' worth are kept, a few
// hundred KiB whatever the traffic. Past it a pair is not remembered: its
// reports are limited by their kind's rate only.
const maxPairs = 4096

// pairs remembers the kinds reported on address pairs in the current and
// the previous minute of packet time. Whether a report is held back
// depends only on the pair's own reports (while fewer than maxPairs come
// in a minute): the pairs are sharded over workers as flows are, so
// several workers hold back what one would.
type pairs struct {
	minute    int64            // of cur, in Unix minutes
	cur, prev map[uint64]int64 // (kind, pair) key → Unix ns until which it holds back
}

// first tells whether kind k on the pair hashed to pair may be reported
// at ts (none was within pairHold) and if so remembers it.
func (p *pairs) first(k Kind, pair uint64, ts time.Time) bool {
	now, m := ts.UnixNano(), ts.Unix()/60
	switch {
	case p.cur == nil:
		p.cur, p.prev, p.minute = map[uint64]int64{}, map[uint64]int64{}, m
	case m == p.minute+1: // what prev held expired by now
		p.cur, p.prev, p.minute = p.prev, p.cur, m
		clear(p.cur)
	case m > p.minute+1:
		clear(p.cur)
		clear(p.prev)
		p.minute = m
	}
	key := pair ^ (uint64(k)+1)*0x9e3779b97f4a7c15
	if until, ok := p.cur[key]; ok && now < until {
		return false
	}
	if until, ok := p.prev[key]; ok && now < until {
		return false
	}
	if len(p.cur) < maxPairs {
		p.cur[key] = now + int64(pairHold)
	}
	return true
}
