package flow

import (
	"math/rand/v2"
	"testing"
)

// Random inserts and removals, with hashes crowded into few home slots
// (long probe runs that wrap around the end): every flow present is found,
// every flow removed is not.
func TestIndexAgreesWithAMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var x index
	x.resize(minIndexSlots)
	in := map[*Flow]bool{}
	var all []*Flow
	for i := range 600 {
		f := &Flow{hash: uint32(rng.IntN(8)) | uint32(minIndexSlots-4)}
		f.Key.PortA = uint16(i)
		all = append(all, f)
	}
	for range 5000 {
		f := all[rng.IntN(len(all))]
		if in[f] {
			x.remove(f)
			delete(in, f)
		} else if !x.full() {
			x.insert(f)
			in[f] = true
		}
		for _, g := range all[:50] {
			if got := x.find(&g.Key, g.hash); (got == g) != in[g] || (got != nil && got != g) {
				t.Fatalf("find %d: got %p, present %v", g.Key.PortA, got, in[g])
			}
		}
	}
	if x.n != len(in) {
		t.Fatalf("index counts %d flows, holds %d", x.n, len(in))
	}
}
