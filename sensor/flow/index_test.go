package flow

import (
	"math/rand/v2"
	"reflect"
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

// Key.equal is ==: a key differing from another in any one byte of any
// field, whatever the bit, is not equal to it, and a copy is.
func TestKeyEqualIsEquality(t *testing.T) {
	if n := reflect.TypeFor[Key]().NumField(); n != 7 {
		t.Fatalf("Key has %d fields: Key.equal and this test compare 7", n)
	}
	base := Key{PortA: 0x1234, PortB: 0x5678, VLAN: 0x9ab, Proto: 6}
	for i := range base.A {
		base.A[i], base.B[i] = byte(i), byte(0x80+i)
	}
	changes := []func(k *Key, bit byte){
		func(k *Key, bit byte) { k.PortA ^= uint16(bit) }, func(k *Key, bit byte) { k.PortA ^= uint16(bit) << 8 },
		func(k *Key, bit byte) { k.PortB ^= uint16(bit) }, func(k *Key, bit byte) { k.PortB ^= uint16(bit) << 8 },
		func(k *Key, bit byte) { k.VLAN ^= uint16(bit) }, func(k *Key, bit byte) { k.VLAN ^= uint16(bit) << 8 },
		func(k *Key, bit byte) { k.Proto ^= bit }, func(k *Key, bit byte) { k.V6 = !k.V6 },
	}
	for i := range base.A {
		changes = append(changes, func(k *Key, bit byte) { k.A[i] ^= bit }, func(k *Key, bit byte) { k.B[i] ^= bit })
	}
	same := base
	if !base.equal(&same) {
		t.Fatal("a copy is not equal")
	}
	for c, change := range changes {
		for b := range 8 {
			o := base
			change(&o, 1<<b)
			if got, want := base.equal(&o), base == o; got != want || got {
				t.Errorf("change %d, bit %d: equal %v, == %v", c, b, got, want)
			}
		}
	}
}
