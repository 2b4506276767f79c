package flow

import (
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// longestProbe is the farthest any flow of x lies from its hash's slot:
// what a lookup may walk.
func (x *index) longestProbe() int {
	longest := 0
	for i, f := range x.flows {
		if f != nil {
			longest = max(longest, int((uint32(i)-x.hashes[i])&x.mask))
		}
	}
	return longest
}

// Flows whose keys an attacker solved to collide under a public, unseeded
// hash (pcapgen.HashFloodSYNs) spread over the index as any flows do: the
// table's hash is keyed by a secret of its own. Under the unseeded hash all
// 4,096 shared one probe run (4,095 slots long), so every new flow walked
// all the earlier ones.
func TestHashFloodDoesNotShareSlots(t *testing.T) {
	frames := pcapgen.Frames(pcapgen.HashFloodSYNs(4096, pcapgen.Epoch), pcapgen.Ethernet)
	d := decode.NewDecoder(decode.DefragConfig{}, nil)
	tab := NewTable(Config{}, func(*Flow) {})
	var p decode.Packet
	for _, fr := range frames {
		if d.Decode(fr.Data, fr.Time, len(fr.Data), layers.LinkTypeEthernet, &p) != decode.OK {
			t.Fatal("decode")
		}
		tab.Update(&p)
	}
	if n := tab.Stats().Active; n != len(frames) {
		t.Fatalf("%d flows, want %d", n, len(frames))
	}
	// Random hashes at the index's load (at most 3/4) make runs of a few
	// dozen slots; 256 leaves room for bad luck, not for collisions.
	if l := tab.idx.longestProbe(); l > 256 {
		t.Fatalf("a lookup walks up to %d slots of %d", l, len(tab.idx.flows))
	}
}

// Two tables hash the same key apart: no hash is known outside its table.
func TestTablesHashKeysApart(t *testing.T) {
	a, b := NewTable(Config{}, nil), NewTable(Config{}, nil)
	same := 0
	for i := range 64 {
		k := Key{PortA: uint16(i), PortB: 80, Proto: 6}
		if a.hash(&k) == b.hash(&k) {
			same++
		}
	}
	if same > 1 {
		t.Fatalf("%d of 64 keys hash alike in two tables", same)
	}
}

// BenchmarkKeyHash is the index's hash of one key: what every packet's
// flow lookup pays for it.
func BenchmarkKeyHash(b *testing.B) {
	tab := NewTable(Config{}, nil)
	k := Key{A: [16]byte{10: 0xff, 11: 0xff, 12: 10, 15: 1}, B: [16]byte{10: 0xff, 11: 0xff, 12: 192, 15: 2}, PortA: 40000, PortB: 443, Proto: 6}
	var sum uint32
	for i := 0; b.Loop(); i++ {
		k.PortA = uint16(i)
		sum += tab.hash(&k)
	}
	_ = sum
}
