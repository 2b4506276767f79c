package flow

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// randomPair makes a packet between two random hosts (IPv4 or IPv6).
func randomPair(r *rand.Rand) decode.Packet {
	addr := func() netip.Addr {
		if r.IntN(4) == 0 {
			var a [16]byte
			for i := range a {
				a[i] = byte(r.Uint32())
			}
			return netip.AddrFrom16(a)
		}
		return netip.AddrFrom4([4]byte{10, byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())})
	}
	return decode.Packet{Src: addr(), Dst: addr(), SrcPort: uint16(r.Uint32()), DstPort: 443, Proto: decode.ProtoTCP, VLAN: uint16(r.IntN(3))}
}

// TestPairHashBothWays: every flow between two hosts, whichever way its
// packets go and whatever their ports, has one pair hash; another VLAN
// or another host is another pair; and the pairs spread evenly over two
// and three workers.
func TestPairHashBothWays(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const pairs = 30000
	var on2 [2]int
	var on3 [3]int
	for range pairs {
		p := randomPair(r)
		h := PairHash(&p)
		back := p
		back.Src, back.Dst, back.SrcPort, back.DstPort = p.Dst, p.Src, p.DstPort, 8080
		if PairHash(&back) != h {
			t.Fatalf("%v → %v and back: %x, %x", p.Src, p.Dst, h, PairHash(&back))
		}
		other := p
		other.VLAN++
		if PairHash(&other) == h {
			t.Errorf("%v ↔ %v: VLAN %d and %d hash alike", p.Src, p.Dst, p.VLAN, other.VLAN)
		}
		other = p
		other.Dst = other.Dst.Next()
		if PairHash(&other) == h {
			t.Errorf("%v ↔ %v and ↔ %v hash alike", p.Src, p.Dst, other.Dst)
		}
		on2[h%2]++
		on3[h%3]++
	}
	for i, n := range on2 {
		if n < pairs/2*95/100 || n > pairs/2*105/100 {
			t.Errorf("worker %d of 2 owns %d of %d pairs", i, n, pairs)
		}
	}
	for i, n := range on3 {
		if n < pairs/3*95/100 || n > pairs/3*105/100 {
			t.Errorf("worker %d of 3 owns %d of %d pairs", i, n, pairs)
		}
	}
}

// An IPv4 address and its IPv4-mapped IPv6 form are one host to the pair
// hash, as to the flow key.
func TestPairHashMappedIPv4(t *testing.T) {
	v4 := decode.Packet{Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("198.51.100.7")}
	mapped := decode.Packet{Src: netip.MustParseAddr("::ffff:198.51.100.7"), Dst: netip.MustParseAddr("::ffff:192.0.2.1")}
	if PairHash(&v4) != PairHash(&mapped) {
		t.Errorf("%x, %x", PairHash(&v4), PairHash(&mapped))
	}
}

func BenchmarkPairHash(b *testing.B) {
	p := randomPair(rand.New(rand.NewPCG(1, 2)))
	var sum uint64
	for b.Loop() {
		sum += PairHash(&p)
	}
	_ = sum
}
