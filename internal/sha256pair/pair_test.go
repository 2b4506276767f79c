package sha256pair

import (
	"crypto/sha256"
	"math/rand/v2"
	"testing"
)

// needPairs skips a test of the paired path on a CPU without it: there
// Sum2 is crypto/sha256 twice, which the tests would only compare with
// itself.
func needPairs(t testing.TB) {
	if twoAtOnce == nil {
		t.Skip("this CPU has no SHA extensions: Sum2 hashes one message at a time with crypto/sha256")
	}
}

// Every pair of lengths around the block boundaries (where padding takes
// a block of its own) gives crypto/sha256's sums, in either order.
func TestSum2AsSHA256(t *testing.T) {
	needPairs(t)
	rng := rand.New(rand.NewPCG(1, 2))
	msg := make([]byte, 3*blockSize+1)
	for i := range msg {
		msg[i] = byte(rng.Uint32())
	}
	var p Pair
	for la := range len(msg) {
		for lb := range len(msg) {
			a, b := msg[:la], msg[len(msg)-lb:]
			sa, sb := p.Sum2([][]byte{a}, [][]byte{b})
			if sa != sha256.Sum256(a) || sb != sha256.Sum256(b) {
				t.Fatalf("lengths %d, %d: sums differ from crypto/sha256", la, lb)
			}
		}
	}
}

// A message's parts are hashed as their concatenation, however cut, up to
// the longest paired message and past it.
func TestSum2OfParts(t *testing.T) {
	needPairs(t)
	rng := rand.New(rand.NewPCG(3, 4))
	var p Pair
	for range 2000 {
		a := make([]byte, rng.IntN(MaxPaired+200))
		b := make([]byte, rng.IntN(3000))
		for i := range a {
			a[i] = byte(rng.Uint32())
		}
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		sa, sb := p.Sum2(cut(a, rng), cut(b, rng))
		if sa != sha256.Sum256(a) || sb != sha256.Sum256(b) {
			t.Fatalf("lengths %d, %d: sums differ from crypto/sha256", len(a), len(b))
		}
	}
}

// cut splits m into up to three parts at random places.
func cut(m []byte, rng *rand.Rand) [][]byte {
	i := rng.IntN(len(m) + 1)
	j := i + rng.IntN(len(m)-i+1)
	return [][]byte{m[:i], m[i:j], m[j:]}
}

func TestSumOfParts(t *testing.T) {
	m := []byte("the quick brown fox jumps over the lazy dog")
	if Sum([][]byte{m[:5], nil, m[5:]}) != sha256.Sum256(m) {
		t.Fatal("Sum of parts differs from crypto/sha256 of the whole")
	}
}

func FuzzSum2(f *testing.F) {
	f.Add([]byte("abc"), []byte(""), uint16(1), uint16(0))
	f.Add(make([]byte, 119), make([]byte, 56), uint16(64), uint16(55))
	f.Fuzz(func(t *testing.T, a, b []byte, ca, cb uint16) {
		var p Pair
		i, j := int(ca)%(len(a)+1), int(cb)%(len(b)+1)
		sa, sb := p.Sum2([][]byte{a[:i], a[i:]}, [][]byte{b[:j], b[j:]})
		if sa != sha256.Sum256(a) || sb != sha256.Sum256(b) {
			t.Fatalf("lengths %d, %d: sums differ from crypto/sha256", len(a), len(b))
		}
	})
}

// Two documents the size of an event (1.3 KB), paired and one by one.
func BenchmarkEventSizedDocs(b *testing.B) {
	doc := make([]byte, 1300)
	b.Run("paired", func(b *testing.B) {
		needPairs(b)
		var p Pair
		b.SetBytes(2 * int64(len(doc)))
		for b.Loop() {
			p.Sum2([][]byte{doc}, [][]byte{doc})
		}
	})
	b.Run("alone", func(b *testing.B) {
		b.SetBytes(2 * int64(len(doc)))
		for b.Loop() {
			Sum([][]byte{doc})
			Sum([][]byte{doc})
		}
	})
}
