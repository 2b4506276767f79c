package flow

import (
	"fmt"
	"sync"
	"testing"
)

// FormatMAC and Texts.MAC give the ECS form of every MAC, cached or not,
// from several workers at once, with MACs that share cache slots; with a
// Texts, the entries of missed MACs are one allocation every macBlock.
func TestFormatMAC(t *testing.T) {
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var texts *Texts
			if w%2 == 1 {
				texts = new(Texts)
			}
			for i := range 5000 {
				m := [6]byte{0x00, 0x00, 0x5e, byte(w), byte(i >> 8), byte(i)}
				want := fmt.Sprintf("00-00-5E-%02X-%02X-%02X", w, byte(i>>8), byte(i))
				for range 2 { // a miss, then (usually) a hit
					if got := texts.MAC(m); got != want {
						t.Errorf("FormatMAC(%x) = %s, want %s", m, got, want)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if n := testing.AllocsPerRun(100, func() { FormatMAC([6]byte{2, 0, 0, 0, 0, 1}) }); n != 0 {
		t.Errorf("a cached MAC costs %v allocations", n)
	}
	var texts Texts
	next := uint32(0)
	missed := func() {
		next++
		texts.MAC([6]byte{0x02, 0xff, byte(next >> 24), byte(next >> 16), byte(next >> 8), byte(next)})
	}
	if n := testing.AllocsPerRun(1000, missed); n > 1.0/macBlock+0.01 {
		t.Errorf("a missed MAC with a Texts costs %v allocations, want one every %d", n, macBlock)
	}
}
