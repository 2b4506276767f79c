package pcapgen

import (
	"encoding/binary"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/splitmix"
)

// The generator is honest: every client's key hashes to the same low 32
// bits under the unseeded hash, and the clients are distinct.
func TestHashFloodSourcesCollideUnderTheUnseededHash(t *testing.T) {
	srcs := HashFloodSources(1000)
	seen := map[[16]byte]bool{}
	dst := HashFloodServer.Addr().As16()
	for _, s := range srcs {
		b := s.Addr().As16()
		if seen[b] || s.Addr().Less(HashFloodServer.Addr()) {
			t.Fatalf("%v: repeated or below the server", s)
		}
		seen[b] = true
		if h := unseededKeyHash(dst, b, HashFloodServer.Port(), s.Port(), 0, 6); uint32(h) != hashFloodLow {
			t.Fatalf("%v hashes to %#x", s, h)
		}
	}
}

// unseededKeyHash is the flow key hash an attacker can solve for: the
// splitmix64 finalizer over the key's words, with no secret. Keys are A,
// B (16 bytes each), ports, VLAN and protocol, as sensor/flow orders them.
func unseededKeyHash(a, b [16]byte, portA, portB, vlan uint16, proto uint8) uint64 {
	h := uint64(proto)<<48 ^ uint64(vlan)<<32 ^ uint64(portA)<<16 ^ uint64(portB)
	for i := 0; i < 16; i += 8 {
		h = splitmix.Mix(h ^ binary.LittleEndian.Uint64(a[i:]))
		h = splitmix.Mix(h ^ binary.LittleEndian.Uint64(b[i:]))
	}
	return splitmix.Mix(h)
}
