// Package sha256pair works out the SHA-256 of two messages at once.
//
// With the SHA extensions (SHA-NI) one message is hashed at the latency of
// its rounds, each of which waits for the one before: on the machines
// measured a second, independent message interleaved with the first costs
// little more than the first alone (docs/performance.md, session 16). So
// a caller with many messages to hash (the event ids of a batch) hashes
// them in pairs. Without SHA-NI it hashes them one by one with
// crypto/sha256: the sums are the same.
package sha256pair

import (
	"crypto/sha256"
	"encoding/binary"
)

// MaxPaired is the longest message hashed as one of a pair: a longer one
// is hashed alone, so the padded copies a Pair keeps stay small.
const MaxPaired = 16 << 10

// Pair hashes messages two at a time. Its zero value is ready; it is not
// safe for concurrent use.
type Pair struct {
	a, b []byte // the messages padded to whole blocks
	// their states, and one thrown away (kept here: a pointer given to
	// twoAtOnce escapes)
	ha, hb, spare [8]uint32
}

// Sum2 returns the SHA-256 of the concatenation of a's parts and that of
// b's.
func (p *Pair) Sum2(a, b [][]byte) (sa, sb [sha256.Size]byte) {
	if twoAtOnce == nil || length(a) > MaxPaired || length(b) > MaxPaired {
		return Sum(a), Sum(b)
	}
	p.a, p.b = pad(p.a[:0], a), pad(p.b[:0], b)
	p.ha, p.hb = iv, iv
	na, nb := len(p.a)/blockSize, len(p.b)/blockSize
	n := min(na, nb)
	twoAtOnce(&p.ha, &p.hb, &p.a[0], &p.b[0], n)
	// The longer message's last blocks go alone, beside a copy of
	// themselves whose state is thrown away.
	if na > n {
		rest := &p.a[n*blockSize]
		twoAtOnce(&p.ha, &p.spare, rest, rest, na-n)
	}
	if nb > n {
		rest := &p.b[n*blockSize]
		twoAtOnce(&p.hb, &p.spare, rest, rest, nb-n)
	}
	return digest(&p.ha), digest(&p.hb)
}

// Sum returns the SHA-256 of the concatenation of parts.
func Sum(parts [][]byte) (s [sha256.Size]byte) {
	h := sha256.New()
	for _, part := range parts {
		h.Write(part)
	}
	h.Sum(s[:0])
	return s
}

const blockSize = 64

// iv is SHA-256's initial state (FIPS 180-4, 5.3.3).
var iv = [8]uint32{
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
}

func length(parts [][]byte) (n int) {
	for _, part := range parts {
		n += len(part)
	}
	return n
}

var zeros [blockSize]byte

// pad appends the message made of parts to buf, padded as SHA-256 pads
// it (FIPS 180-4, 5.1.1): a one bit, zeros, and the length in bits, to a
// whole number of blocks.
func pad(buf []byte, parts [][]byte) []byte {
	n := 0
	for _, part := range parts {
		buf = append(buf, part...)
		n += len(part)
	}
	buf = append(buf, 0x80)
	buf = append(buf, zeros[:(blockSize-(n+9)%blockSize)%blockSize]...)
	return binary.BigEndian.AppendUint64(buf, uint64(n)<<3)
}

func digest(h *[8]uint32) (s [sha256.Size]byte) {
	for i, v := range h {
		binary.BigEndian.PutUint32(s[4*i:], v)
	}
	return s
}

// twoAtOnce, when the CPU can, runs the compression function over n
// blocks of each of two padded messages, at pa and pb, from and into the
// states ha and hb.
var twoAtOnce func(ha, hb *[8]uint32, pa, pb *byte, n int)
