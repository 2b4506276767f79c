package pcapgen

import "testing"

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
