package decode

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
)

// heapInUse is the live heap after a collection.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// fragRun feeds frames to a decoder and counts what came out.
type fragRun struct {
	dec       *Decoder
	ok        int                   // packets returned OK
	anomalies [anomaly.NumKinds]int // OK packets carrying each kind
	maxBytes  int64                 // most bytes the defragmenter held
	last      []byte                // payload of the last reassembled packet
}

func (r *fragRun) feed(fr pcapgen.Frame) {
	var p Packet
	if r.dec.Decode(fr.Data, fr.Time, len(fr.Data), layers.LinkTypeRaw, &p) == OK {
		r.ok++
		for k := range anomaly.NumKinds {
			if p.Anomalies.Has(k) {
				r.anomalies[k]++
			}
		}
		if p.Defragmented {
			r.last = append(r.last[:0], p.Payload...)
		}
	}
	r.maxBytes = max(r.maxBytes, r.dec.defrag.Bytes())
}

// A completed datagram leaves the bookkeeping at once: after 200,000 of
// them nothing is held, nothing reserved, and the heap has not grown with
// them (it held an entry per datagram until the timeout).
func TestDefragCompletedDatagramsLeaveAtOnce(t *testing.T) {
	b := budget.New(0)
	acct := b.NewAccount()
	r := &fragRun{dec: NewDecoder(DefragConfig{}, acct)}
	pcapgen.CompletedFragments(10, pcapgen.Epoch, r.feed) // the reusable buffers
	before := heapInUse()
	const n = 200_000
	pcapgen.CompletedFragments(n, pcapgen.Epoch, r.feed)
	grown := heapInUse() - before
	f := r.dec.defrag
	if r.dec.Stats.Reassembled != n+10 || r.ok != n+10 {
		t.Fatalf("reassembled %d, %d packets out of %d datagrams", r.dec.Stats.Reassembled, r.ok, n)
	}
	if f.Pending() != 0 || f.head != nil || f.tail != nil || f.Bytes() != 0 || acct.Used(budget.Fragments) != 0 {
		t.Errorf("after completion: %d pending, list %v/%v, %d bytes, %d reserved", f.Pending(), f.head, f.tail, f.Bytes(), acct.Used(budget.Fragments))
	}
	if grown > 4<<20 {
		t.Errorf("the heap grew by %d bytes over %d completed datagrams", grown, n)
	}
}

// 8-byte fragments at offset 65,512, each its own datagram: the bytes held
// stay under max_bytes and the budget, the oldest datagrams are dropped,
// counted, and reported as limit.fragments on the fragments that met the
// bound.
func TestDefragTinyFragmentsStayWithinBytes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		maxBytes int64
		budget   int64
	}{
		{"max_bytes", 1 << 20, 0},
		{"budget", 64 << 20, 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := budget.New(tc.budget)
			acct := b.NewAccount()
			r := &fragRun{dec: NewDecoder(DefragConfig{MaxDatagrams: 1 << 20, MaxBytes: tc.maxBytes}, acct)}
			before := heapInUse()
			const n = 50_000 // 1.4 MB of packets
			pcapgen.TinyFragments(n, pcapgen.Epoch, r.feed)
			grown := heapInUse() - before
			f := r.dec.defrag
			if r.maxBytes > 1<<20 || acct.Used(budget.Fragments) != f.Bytes() {
				t.Errorf("held up to %d bytes (bound 1 MiB), %d reserved for %d", r.maxBytes, acct.Used(budget.Fragments), f.Bytes())
			}
			if f.Limited == 0 || uint64(f.Pending())+f.Limited != n || r.anomalies[anomaly.FragmentLimit] == 0 {
				t.Errorf("pending %d, limited %d, limit anomalies %d", f.Pending(), f.Limited, r.anomalies[anomaly.FragmentLimit])
			}
			if tc.budget > 0 && b.Stats().Pools[budget.Fragments].Denied == 0 {
				t.Error("the budget never refused")
			}
			if grown > 8<<20 {
				t.Errorf("the heap grew by %d bytes for 1 MiB of fragments", grown)
			}
		})
	}
}

// A datagram sent in more fragments than max_fragments is dropped at the
// bound, counted and reported; it never completes.
func TestDefragFragmentsPerDatagramBound(t *testing.T) {
	r := &fragRun{dec: NewDecoder(DefragConfig{MaxFragments: 100}, nil)}
	for _, fr := range pcapgen.ManyFragments(7, pcapgen.Epoch, false) {
		r.feed(fr)
		if f := r.dec.defrag; f.Pending() > 0 && f.head.frags > 100 {
			t.Fatalf("a datagram holds %d fragments", f.head.frags)
		}
	}
	f := r.dec.defrag
	if r.dec.Stats.Reassembled != 0 || f.Limited != pcapgen.MaxFragments/101 || r.anomalies[anomaly.FragmentLimit] != int(f.Limited) {
		t.Errorf("reassembled %d, limited %d, limit anomalies %d", r.dec.Stats.Reassembled, f.Limited, r.anomalies[anomaly.FragmentLimit])
	}
}

// Insertion costs what the fragment covers, whatever the order: 8,191
// fragments, every other one first, take at most twice the steps of the
// same fragments in order (the list of ranges made it quadratic).
func TestDefragWorstOrderCostsAsInOrder(t *testing.T) {
	steps := map[bool]uint64{}
	var payloads [][]byte
	for _, worst := range []bool{false, true} {
		r := &fragRun{dec: NewDecoder(DefragConfig{MaxFragments: pcapgen.MaxFragments}, nil)}
		for _, fr := range pcapgen.ManyFragments(9, pcapgen.Epoch, worst) {
			r.feed(fr)
		}
		if r.dec.Stats.Reassembled != 1 {
			t.Fatalf("worst=%v: %d datagrams reassembled", worst, r.dec.Stats.Reassembled)
		}
		steps[worst] = r.dec.defrag.steps
		payloads = append(payloads, r.last)
	}
	if steps[true] > 2*steps[false] {
		t.Errorf("worst order took %d steps, in order %d", steps[true], steps[false])
	}
	for w, p := range payloads {
		if len(p) != pcapgen.MaxFragments*8-8 {
			t.Fatalf("worst=%v: payload of %d bytes", w == 1, len(p))
		}
		for i, c := range p {
			if c != byte((i+8)*7) { // as ManyFragments fills it, after the UDP header
				t.Fatalf("worst=%v: byte %d is %d", w == 1, i, c)
			}
		}
	}
}

// A fragment sent twice with different bytes: the first copy wins, and the
// datagram carries ip.fragment_overlap to the worker.
func TestDefragOverlapConflictIsReported(t *testing.T) {
	r := &fragRun{dec: NewDecoder(DefragConfig{}, nil)}
	for _, fr := range pcapgen.Frames(pcapgen.OverlappingFragments(pcapgen.DNSQuery, pcapgen.Epoch), pcapgen.Raw) {
		r.feed(fr)
	}
	f := r.dec.defrag
	if r.dec.Stats.Reassembled != 1 || f.Conflicts != 1 || r.anomalies[anomaly.FragmentOverlap] != 1 {
		t.Errorf("reassembled %d, conflicts %d, overlap anomalies %d", r.dec.Stats.Reassembled, f.Conflicts, r.anomalies[anomaly.FragmentOverlap])
	}
	if !bytes.Equal(r.last, pcapgen.DNSQuery) {
		t.Errorf("payload %x, want the first copy's %x", r.last, pcapgen.DNSQuery)
	}
}

func BenchmarkDefrag(b *testing.B) {
	for _, worst := range []bool{false, true} {
		name := map[bool]string{false: "8191-in-order", true: "8191-worst-order"}[worst]
		frames := pcapgen.ManyFragments(9, pcapgen.Epoch, worst)
		b.Run(name, func(b *testing.B) {
			d := NewDecoder(DefragConfig{MaxFragments: pcapgen.MaxFragments}, nil)
			var p Packet
			b.ReportAllocs()
			for range b.N {
				for _, fr := range frames {
					d.Decode(fr.Data, fr.Time, len(fr.Data), layers.LinkTypeRaw, &p)
				}
			}
		})
	}
	var completed []pcapgen.Frame
	pcapgen.CompletedFragments(4096, pcapgen.Epoch, func(fr pcapgen.Frame) { completed = append(completed, fr) })
	b.Run("completed-datagrams", func(b *testing.B) {
		d := NewDecoder(DefragConfig{}, nil)
		var p Packet
		b.ReportAllocs()
		for i := range b.N {
			fr := completed[i%len(completed)]
			d.Decode(fr.Data, fr.Time, len(fr.Data), layers.LinkTypeRaw, &p)
		}
	})
}
