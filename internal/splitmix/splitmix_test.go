package splitmix

import (
	"math/rand/v2"
	"testing"
)

func TestUnmixInvertsMix(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, x := range append([]uint64{0, 1, 1 << 63, ^uint64(0)}, rng.Uint64(), rng.Uint64(), rng.Uint64()) {
		if got := Unmix(Mix(x)); got != x {
			t.Fatalf("Unmix(Mix(%#x)) = %#x", x, got)
		}
		if got := Mix(Unmix(x)); got != x {
			t.Fatalf("Mix(Unmix(%#x)) = %#x", x, got)
		}
	}
}
