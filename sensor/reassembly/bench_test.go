package reassembly

import (
	"math/rand/v2"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

const benchMSS = 1460

// BenchmarkInOrder feeds 1460-byte segments in order: the zero-copy path.
func BenchmarkInOrder(b *testing.B) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{{"check", Config{}}, {"nocheck", Config{DisableRetransmitCheck: true}}} {
		b.Run(tc.name, func(b *testing.B) {
			a := NewAssembler(tc.cfg)
			c := &discard{}
			s := a.NewStream(c)
			s.Segment(parsers.ToServer, 0, decode.SYN, nil, t0)
			payload := make([]byte, benchMSS)
			seq := uint32(1)
			b.SetBytes(benchMSS)
			b.ReportAllocs()
			for b.Loop() {
				s.Segment(parsers.ToServer, seq, decode.ACK, payload, t0)
				seq += benchMSS
			}
			if uint32(c.n) != seq-1 { // modulo 2^32: long runs wrap
				b.Fatalf("delivered %d of %d", c.n, seq-1)
			}
		})
	}
}

// BenchmarkOutOfOrder10 swaps one segment pair in ten (10% of the segments
// arrive ahead of a hole and are buffered once), with and without pages
// drawn on a memory budget.
func BenchmarkOutOfOrder10(b *testing.B) {
	b.Run("nobudget", func(b *testing.B) { benchOutOfOrder(b, nil) })
	b.Run("budget", func(b *testing.B) { benchOutOfOrder(b, budget.New(1<<30).NewAccount()) })
}

func benchOutOfOrder(b *testing.B, acct *budget.Account) {
	a := NewAssembler(Config{})
	a.UseBudget(acct)
	c := &discard{}
	s := a.NewStream(c)
	s.Segment(parsers.ToServer, 0, decode.SYN, nil, t0)
	payload := make([]byte, benchMSS)
	// A fixed order of 1000 segments, replayed with advancing sequence numbers.
	const n = 1000
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i+1 < n; i += 20 {
		j := i + rng.IntN(19)
		order[j], order[j+1] = order[j+1], order[j]
	}
	b.SetBytes(benchMSS)
	b.ReportAllocs()
	base, i := uint32(1), 0
	for b.Loop() {
		s.Segment(parsers.ToServer, base+uint32(order[i]*benchMSS), decode.ACK, payload, t0)
		if i++; i == n {
			i, base = 0, base+n*benchMSS
		}
	}
	if st := a.Stats(); st.Gaps != 0 {
		b.Fatalf("gaps: %+v", st)
	}
}
