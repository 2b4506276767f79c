package reassembly

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// A retransmission cut differently from the delivery it repeats is still
// compared, byte for byte, over the part it covers: in the history, or
// where the delivered bytes stay (PayloadsLast: they are not copied).
func TestRetransmitResegmented(t *testing.T) {
	for _, c := range []struct {
		name string
		seq  uint32
		data string
		want uint64
	}{
		{"same bytes, other cut", 3, "CDEFGHIJ", 0},
		{"a byte longer", 1, "ABCDEFGHIJKLMNOPx", 0},
		{"other bytes, other cut", 3, "CDxFGHIJ", 1},
		{"other bytes across two deliveries", 7, "GHIJKLMXOP", 1},
		{"a byte longer, first byte changed", 1, "xBCDEFGHIJKLMNOPQ", 1},
	} {
		for _, inPlace := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, in place %v", c.name, inPlace), func(t *testing.T) {
				a, s, r := newTest(t, Config{})
				a.PayloadsLast(inPlace)
				seg(s, cs, 0, decode.SYN, "")
				seg(s, cs, 1, 0, "ABCDEFGH")
				seg(s, cs, 9, 0, "IJKLMNOP")
				if copied := a.hist.pos != 0; copied == inPlace || (a.held.head == s) != inPlace {
					t.Fatalf("history at %d, held list %p", a.hist.pos, a.held.head)
				}
				a.PayloadsLast(false) // the retransmission itself may be anywhere
				seg(s, cs, c.seq, 0, c.data)
				s.Close(t0)
				if got := string(r.data[cs]); !strings.HasPrefix(got, "ABCDEFGHIJKLMNOP") {
					t.Fatalf("delivered %q", got)
				}
				if a.Stats().Conflicts != c.want {
					t.Fatalf("conflicts %d, want %d", a.Stats().Conflicts, c.want)
				}
			})
		}
	}
}

// A stream quiet while others fill the history keeps its check: its last
// deliveries are hashed before their bytes are overwritten, and an exact
// repeat is compared by hash.
func TestRetransmitAfterHistoryWrapped(t *testing.T) {
	const hist = 4 << 10
	a := NewAssembler(Config{RetransmitHistory: hist})
	quiet, busy := a.NewStream(&recorder{}), a.NewStream(&recorder{})
	seg(quiet, cs, 0, decode.SYN, "")
	seg(quiet, cs, 1, 0, "GOOD")
	seg(busy, cs, 0, decode.SYN, "")
	// 400-byte deliveries: ten fit in the history, more than ringSize.
	fill := bytes.Repeat([]byte{'x'}, 400)
	for i := range 3 * hist / len(fill) {
		busy.Segment(cs, uint32(1+i*len(fill)), 0, fill, t0)
	}
	if r := &quiet.h[cs].ring[0]; !r.hashed {
		t.Fatalf("the quiet stream's delivery was not hashed when the history wrapped: %+v", r)
	}
	if _, ok := a.delivered(&quiet.h[cs].ring[0]); ok {
		t.Fatal("the history still holds bytes it overwrote")
	}
	seg(quiet, cs, 1, 0, "GOOD")
	if a.Stats().Conflicts != 0 {
		t.Fatal("an identical repeat is a conflict")
	}
	seg(quiet, cs, 1, 0, "EVIL")
	if a.Stats().Conflicts != 1 {
		t.Fatalf("conflicts %d after a different repeat of hashed bytes", a.Stats().Conflicts)
	}
	// The busy stream's deliveries mostly left its ring before the history
	// overwrote them: they were never hashed.
	n := 0
	for _, r := range busy.h[cs].ring {
		if r.hashed {
			n++
		}
	}
	if n != 0 {
		t.Errorf("%d of the busy stream's remembered deliveries hashed", n)
	}
}

// Deliveries smaller than the index expects fill the index before the
// history: the oldest are hashed early and stay checked.
func TestRetransmitIndexFull(t *testing.T) {
	const hist = 4 << 10 // index: hist/histRefBytes = 16 entries
	a := NewAssembler(Config{RetransmitHistory: hist})
	streams := make([]*Stream, 40)
	for i := range streams {
		streams[i] = a.NewStream(&recorder{})
		seg(streams[i], cs, 0, decode.SYN, "")
		seg(streams[i], cs, 1, 0, "ab")
	}
	if a.hist.n != len(a.hist.refs) {
		t.Fatalf("index holds %d of %d", a.hist.n, len(a.hist.refs))
	}
	for i, s := range streams {
		if r := &s.h[cs].ring[0]; (i < len(streams)-len(a.hist.refs)) != r.hashed {
			t.Fatalf("stream %d: hashed %v", i, r.hashed)
		}
		seg(s, cs, 1, 0, "aX")
	}
	if got := a.Stats().Conflicts; got != uint64(len(streams)) {
		t.Fatalf("conflicts %d, want %d", got, len(streams))
	}
}

// The history draws on the memory budget; refused, every delivery is
// hashed as it is delivered and the check still holds.
func TestRetransmitHistoryRefused(t *testing.T) {
	a := NewAssembler(Config{RetransmitHistory: 1 << 20})
	a.UseBudget(budget.New(256 << 10).NewAccount())
	s := a.NewStream(&recorder{})
	seg(s, cs, 0, decode.SYN, "")
	seg(s, cs, 1, 0, "GOOD")
	if a.hist.buf != nil || !s.h[cs].ring[0].hashed {
		t.Fatalf("history %d bytes, delivery %+v", len(a.hist.buf), s.h[cs].ring[0])
	}
	seg(s, cs, 1, 0, "EVIL")
	seg(s, cs, 2, 0, "OOD") // a different cut of hashed bytes is not comparable
	if a.Stats().Conflicts != 1 {
		t.Fatalf("conflicts %d", a.Stats().Conflicts)
	}
	b := budget.New(64 << 20)
	a.UseBudget(b.NewAccount())
	a.FlushOlderThan(t0) // tries the history again
	seg(s, cs, 5, 0, "MORE")
	if a.hist.buf == nil || b.Stats().Pools[budget.Reassembly].Used != 1<<20 {
		t.Fatalf("history %d bytes, budget %d", len(a.hist.buf), b.Stats().Pools[budget.Reassembly].Used)
	}
	a.Close()
	if used := b.Stats().Pools[budget.Reassembly].Used; used != 0 || !s.h[cs].ring[1].hashed {
		t.Fatalf("after Close: budget holds %d bytes; last delivery %+v", used, s.h[cs].ring[1])
	}
	seg(s, cs, 5, 0, "MXRE") // still checked, by hash
	if a.Stats().Conflicts != 2 {
		t.Fatalf("conflicts %d after Close", a.Stats().Conflicts)
	}
}

// A stream closed or reused while the index points at it is left alone:
// the index never writes into a delivery it did not record.
func TestHistoryIndexSkipsReusedStreams(t *testing.T) {
	const hist = 4 << 10
	a := NewAssembler(Config{RetransmitHistory: hist})
	s := a.NewStream(&recorder{})
	seg(s, cs, 0, decode.SYN, "")
	seg(s, cs, 1, 0, "GOOD")     // history [0, 4)
	a.InitStream(s, &recorder{}) // reused for another connection
	seg(s, cs, 0, decode.SYN, "")
	s.Segment(cs, 1, 0, bytes.Repeat([]byte{'y'}, 1000), t0) // [4, 1004)
	r := s.h[cs].ring[0]
	busy := a.NewStream(&recorder{})
	seg(busy, cs, 0, decode.SYN, "")
	seq := uint32(1)
	for a.hist.pos < hist { // up to the end of the buffer
		n := min(800, hist-int(a.hist.pos))
		busy.Segment(cs, seq, 0, bytes.Repeat([]byte{'x'}, n), t0)
		seq += uint32(n)
	}
	busy.Segment(cs, seq, 0, []byte("zzzz"), t0) // overwrites "GOOD" only
	if a.hist.refs[a.hist.head].end != 1004 {
		t.Fatalf("index head ends at %d, want the reused stream's delivery", a.hist.refs[a.hist.head].end)
	}
	if got := s.h[cs].ring[0]; got != r {
		t.Fatalf("reused stream's delivery changed: %+v → %+v", r, got)
	}
	s.Close(t0)
	if s.c != nil {
		t.Fatal("a closed stream keeps its consumer")
	}
	busy.Segment(cs, seq+4, 0, bytes.Repeat([]byte{'x'}, 1000), t0) // overwrites the 'y's
	busy.Segment(cs, seq+1004, 0, bytes.Repeat([]byte{'x'}, 1000), t0)
	if a.hist.pos <= 1004+hist {
		t.Fatalf("history at %d: the 'y's not overwritten", a.hist.pos)
	}
	if got := s.h[cs].ring[0]; got != r {
		t.Fatalf("closed stream's delivery changed: %+v → %+v", r, got)
	}
}

// A delivery remembered in a history that Close gave back is compared by
// its hash, not with the bytes of the next history at the same positions:
// an identical retransmission is no conflict, a different one is.
func TestRetransmitAfterHistoryRenewed(t *testing.T) {
	a := NewAssembler(Config{RetransmitHistory: 4 << 10})
	old, other := a.NewStream(&recorder{}), a.NewStream(&recorder{})
	seg(old, cs, 0, decode.SYN, "")
	seg(old, cs, 1, 0, "GOOD")
	a.Close()
	seg(other, cs, 0, decode.SYN, "")
	seg(other, cs, 1, 0, "XXXX") // takes a new history
	if a.hist.buf == nil {
		t.Fatal("no new history after Close")
	}
	checkRepeats(t, a, old, "Close")
}

// checkRepeats sends s's first delivery, "GOOD" at 1, again, then other
// bytes in its place: only the second is a conflict.
func checkRepeats(t *testing.T, a *Assembler, s *Stream, after string) {
	t.Helper()
	seg(s, cs, 1, 0, "GOOD")
	if n := a.Stats().Conflicts; n != 0 {
		t.Fatalf("an identical retransmission after %s: %d conflicts", after, n)
	}
	seg(s, cs, 1, 0, "EVIL")
	if n := a.Stats().Conflicts; n != 1 {
		t.Fatalf("a different retransmission after %s: %d conflicts, want 1", after, n)
	}
}

// Unhold hashes the deliveries in place before their bytes go: after it
// their place may hold anything, and an exact repeat is still compared,
// by hash.
func TestRetransmitAfterUnhold(t *testing.T) {
	a, s, _ := newTest(t, Config{})
	a.PayloadsLast(true)
	seg(s, cs, 0, decode.SYN, "")
	place := []byte("GOOD")
	s.Segment(cs, 1, 0, place, t0)
	a.Unhold()
	if r := s.h[cs].ring[0]; r.ref != nil || !r.hashed || a.held.head != nil || s.ln[heldList].listed {
		t.Fatalf("after Unhold: %+v, held list %p", r, a.held.head)
	}
	copy(place, "XXXX") // the place is given back and reused
	checkRepeats(t, a, s, "Unhold")
}

// A stream with deliveries in place leaves the Assembler's list when it
// closes or is reused, and Unhold then leaves its deliveries alone.
func TestInPlaceStreamsLeaveTheList(t *testing.T) {
	a := NewAssembler(Config{})
	a.PayloadsLast(true)
	streams := make([]*Stream, 3)
	for i := range streams {
		streams[i] = a.NewStream(&recorder{})
		seg(streams[i], cs, 0, decode.SYN, "")
		seg(streams[i], cs, 1, 0, "DATA")
	}
	closed, reused, open := streams[0], streams[1], streams[2]
	closed.Close(t0)
	a.InitStream(reused, &recorder{})
	var listed []*Stream
	for s := a.held.head; s != nil; s = s.ln[heldList].next {
		listed = append(listed, s)
	}
	if len(listed) != 1 || listed[0] != open || open.ln[heldList].prev != nil {
		t.Fatalf("listed %v, want only the open stream %p", listed, open)
	}
	a.Unhold()
	if r := closed.h[cs].ring[0]; r.hashed || r.ref == nil {
		t.Fatalf("Unhold hashed a closed stream's delivery: %+v", r)
	}
	if r := open.h[cs].ring[0]; !r.hashed || r.ref != nil {
		t.Fatalf("Unhold left the open stream's delivery in place: %+v", r)
	}
}
