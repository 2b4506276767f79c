package flow

import (
	"cmp"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// Flush ends the flows by their last packet's time, those of one time
// class by class, each class in its list's order: the stable sort of the
// lists by last time. Packets of TCP handshakes, established TCP, UDP and
// ICMP with many equal times; in time order (the lists are sorted, and
// Flush merges their fronts) and with times going back now and then (it
// sorts).
func TestFlushEndsOldestFirst(t *testing.T) {
	for _, back := range []bool{false, true} {
		rng := rand.New(rand.NewPCG(3, 4))
		var ended []*Flow
		tab := NewTable(Config{}, func(f *Flow) { ended = append(ended, f) })
		at := time.Unix(1_700_000_000, 0)
		for i := range 3000 {
			if rng.IntN(3) == 0 {
				at = at.Add(time.Millisecond)
			}
			p := decode.Packet{Timestamp: at, IPVersion: 4, WireLen: 60,
				Src: netip.AddrFrom4([4]byte{10, 0, byte(rng.IntN(16)), byte(rng.IntN(16))}), Dst: netip.MustParseAddr("192.0.2.1"),
				SrcPort: uint16(1000 + rng.IntN(6)), DstPort: 80}
			switch rng.IntN(4) {
			case 0:
				p.Proto, p.TCPFlags = decode.ProtoTCP, decode.SYN
			case 1:
				p.Proto, p.TCPFlags, p.Payload = decode.ProtoTCP, decode.ACK|decode.PSH, []byte("data")
			case 2:
				p.Proto = decode.ProtoUDP
			default:
				p.Proto, p.ICMPType = decode.ProtoICMP, 8
			}
			if back && i%97 == 0 {
				p.Timestamp = at.Add(-time.Duration(rng.IntN(5)) * time.Millisecond)
			}
			tab.Update(&p)
		}
		if sorted := tab.listsSorted(); sorted == back {
			t.Fatalf("times going back %v: lists sorted %v", back, sorted)
		}
		type byLast struct {
			last int64
			f    *Flow
		}
		var want []byLast
		for c := range tab.lists {
			for f := tab.lists[c].head; f != nil; f = f.next {
				want = append(want, byLast{f.last, f})
			}
		}
		slices.SortStableFunc(want, func(a, b byLast) int { return cmp.Compare(a.last, b.last) })
		classes := map[timeoutClass]bool{}
		for _, e := range want {
			classes[e.f.class] = true
		}
		if len(want) < 500 || len(classes) < 3 {
			t.Fatalf("%d flows of %d classes: the case checks too little", len(want), len(classes))
		}
		tab.Flush()
		if len(ended) != len(want) {
			t.Fatalf("times going back %v: %d flows ended, want %d", back, len(ended), len(want))
		}
		for i := range want {
			if ended[i] != want[i].f {
				t.Fatalf("times going back %v: flow %d ended out of order", back, i)
			}
		}
	}
}
