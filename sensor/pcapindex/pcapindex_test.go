package pcapindex

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

func sampleIndex(t *testing.T) (*Index, string) {
	t.Helper()
	capture := filepath.Join(t.TempDir(), "c.pcap")
	if err := os.WriteFile(capture, []byte("not really a capture, but fingerprinted all the same"), 0o600); err != nil {
		t.Fatal(err)
	}
	b := NewBuilder(0, decode.DefragConfig{}, nil)
	b.add("1:bbb", Ref{Offset: 24, TS: 100, Len: 60})
	b.add("1:aaa", Ref{Offset: 100, TS: 90, Len: 70})
	b.add("1:bbb", Ref{Offset: 5000, TS: 300, Len: 1500})
	b.add("1:bbb", Ref{Offset: 200, TS: 200, Len: 40}) // a fragment added with its datagram
	x, err := b.Index(capture, []int64{24, 4000})
	if err != nil {
		t.Fatal(err)
	}
	return x, capture
}

func TestIndexRoundTrip(t *testing.T) {
	x, _ := sampleIndex(t)
	path := filepath.Join(t.TempDir(), "c.psidx")
	if err := x.Write(path); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("index mode %v, want 0600", st.Mode().Perm())
	}
	y, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := y.Check(); err != nil {
		t.Fatal(err)
	}
	f := y.Lookup("1:bbb")
	if f == nil || f.Packets != 3 || f.Bytes != 1600 || f.First != 100 || f.Last != 300 {
		t.Fatalf("flow bbb: %+v", f)
	}
	offs, err := f.Offsets()
	if err != nil || !slices.Equal(offs, []int64{24, 5000, 200}) {
		t.Fatalf("offsets %v, %v", offs, err)
	}
	if y.Lookup("1:ccc") != nil || !slices.Equal(y.Syncs, []int64{24, 4000}) || y.Frames != 0 {
		t.Fatalf("index: %+v", y)
	}
}

// TestDamagedIndexIsRefused: every cut and every flipped bit gives an
// ErrCorrupt error, never a wrong answer.
func TestDamagedIndexIsRefused(t *testing.T) {
	x, _ := sampleIndex(t)
	b := x.Marshal()
	for n := 0; n < len(b); n++ {
		if _, err := Unmarshal(b[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("cut at %d of %d: %v", n, len(b), err)
		}
	}
	for i := range len(b) * 8 {
		c := slices.Clone(b)
		c[i/8] ^= 1 << (i % 8)
		if _, err := Unmarshal(c); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("bit %d flipped: %v", i, err)
		}
	}
	// A later version is refused as such.
	c := slices.Clone(b)
	binary.LittleEndian.PutUint16(c[len(magic):], version+1)
	if _, err := Unmarshal(c); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("version %d: %v", version+1, err)
	}
}

func TestStaleIndex(t *testing.T) {
	x, capture := sampleIndex(t)
	if err := os.WriteFile(capture, []byte("another file now"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := x.Check(); !errors.Is(err, ErrStale) {
		t.Fatalf("changed capture: %v", err)
	}
}

// TestFragmentsJoinTheirDatagramsFlow: fragments sent last first, with a
// packet of the same flow between them and a datagram that never
// completes, get the flow of the datagram they complete; the incomplete
// one is counted, not given a flow.
func TestFragmentsJoinTheirDatagramsFlow(t *testing.T) {
	src, dst := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	udp := make([]byte, 48)
	binary.BigEndian.PutUint16(udp[0:], 5353)
	binary.BigEndian.PutUint16(udp[2:], 53)
	binary.BigEndian.PutUint16(udp[4:], 48)
	whole := make([]byte, 8+20)
	binary.BigEndian.PutUint16(whole[0:], 53) // the answer
	binary.BigEndian.PutUint16(whole[2:], 5353)
	binary.BigEndian.PutUint16(whole[4:], 28)
	frames := [][]byte{
		pcapgen.RawFragment(src, dst, 7, layers.IPProtocolUDP, 32, false, udp[32:]), // 0: last piece first
		pcapgen.RawFragment(src, dst, 9, layers.IPProtocolUDP, 0, true, udp[:16]),   // 1: never completes
		pcapgen.RawFragment(dst, src, 0, layers.IPProtocolUDP, 0, false, whole),     // 2: an answer, not fragmented
		pcapgen.RawFragment(src, dst, 7, layers.IPProtocolUDP, 16, true, udp[16:32]),
		pcapgen.RawFragment(src, dst, 7, layers.IPProtocolUDP, 0, true, udp[:16]), // 4: completes datagram 7
	}
	dec := decode.NewDecoder(decode.DefragConfig{}, nil)
	bud := budget.New(0)
	acct := bud.NewAccount()
	a := NewAssigner(0, decode.DefragConfig{}, acct)
	got := map[string][]int64{}
	var p decode.Packet
	t0 := time.Unix(1e9, 0)
	for i, f := range frames {
		st := dec.Decode(f, t0.Add(time.Duration(i)*time.Millisecond), len(f), layers.LinkTypeRaw, &p)
		a.Assign(st, &p, Ref{Offset: int64(i)}, func(cid string, r Ref) { got[cid] = append(got[cid], r.Offset) })
	}
	a.Close()
	if len(got) != 1 {
		t.Fatalf("flows %v", got)
	}
	for cid, offs := range got {
		slices.Sort(offs)
		if !slices.Equal(offs, []int64{0, 2, 3, 4}) || cid == "" {
			t.Fatalf("flow %s: frames %v, want 0 2 3 4", cid, offs)
		}
	}
	if a.Unassigned != 1 {
		t.Errorf("unassigned %d, want 1 (the datagram that never completed)", a.Unassigned)
	}
	if used := acct.Used(budget.Fragments) + acct.Used(budget.Flows); used != 0 {
		t.Errorf("%d bytes still reserved after Close", used)
	}
}

// TestBudgetRefusalMarksPartial: an index that could not hold every
// packet says so, and a carve then scans.
func TestBudgetRefusalMarksPartial(t *testing.T) {
	bud := budget.New(1) // nothing fits
	b := NewBuilder(0, decode.DefragConfig{}, bud.NewAccount())
	b.add("1:x", Ref{Offset: 24})
	if !b.Partial {
		t.Fatal("a refused packet left the index complete")
	}
	if bud.Stats().Pools[budget.Flows].Denied == 0 {
		t.Error("the refusal was not counted")
	}
}

func FuzzUnmarshal(f *testing.F) {
	x := &Index{Capture: "/c.pcap", Size: 10, Frames: 3, Syncs: []int64{5},
		Flows: []Flow{{CommunityID: "1:a", First: 1, Last: 2, Packets: 2, Bytes: 100, offsets: appendDeltas(nil, []int64{24, 80})}}}
	f.Add(x.Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := Unmarshal(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error without ErrCorrupt: %v", err)
			}
			return
		}
		for i := range x.Flows {
			x.Flows[i].Offsets() // must not panic
		}
		if y, err := Unmarshal(x.Marshal()); err != nil || len(y.Flows) != len(x.Flows) {
			t.Fatalf("re-marshalled index: %v", err)
		}
	})
}
