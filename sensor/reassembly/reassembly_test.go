package reassembly

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// recorder is a StreamParser that keeps everything it is given.
type recorder struct {
	data     [2][]byte
	gaps     [2][]int
	events   []string // "D0:abc", "G1:5", "E"
	ends     int
	late     int // calls after End
	failAt   int // Data returns an error once this many bytes arrived (0: never)
	lastData [2][]byte
}

func (r *recorder) Data(d parsers.Dir, b []byte, ts time.Time) error {
	if r.ends > 0 {
		r.late++
	}
	r.data[d] = append(r.data[d], b...)
	r.lastData[d] = b
	r.events = append(r.events, fmt.Sprintf("D%d:%s", d, b))
	if r.failAt > 0 && len(r.data[0])+len(r.data[1]) >= r.failAt {
		return errors.New("not my protocol")
	}
	return nil
}

func (r *recorder) Gap(d parsers.Dir, n int, ts time.Time) {
	if r.ends > 0 {
		r.late++
	}
	r.gaps[d] = append(r.gaps[d], n)
	r.events = append(r.events, fmt.Sprintf("G%d:%d", d, n))
}

func (r *recorder) End(ts time.Time) {
	if r.ends > 0 {
		r.late++
	}
	r.ends++
	r.events = append(r.events, "E")
}

var t0 = time.Unix(1700000000, 0)

const (
	cs = parsers.ToServer
	sc = parsers.ToClient
)

func newTest(t *testing.T, cfg Config) (*Assembler, *Stream, *recorder) {
	t.Helper()
	a := NewAssembler(cfg)
	r := &recorder{}
	return a, a.NewStream(r), r
}

func seg(s *Stream, d parsers.Dir, seq uint32, flags uint8, data string) {
	s.Segment(d, seq, flags, []byte(data), t0)
}

func checkEvents(t *testing.T, r *recorder, want ...string) {
	t.Helper()
	if strings.Join(r.events, " ") != strings.Join(want, " ") {
		t.Fatalf("events\n got %q\nwant %q", r.events, want)
	}
}

func checkEmpty(t *testing.T, a *Assembler) {
	t.Helper()
	st := a.Stats()
	if st.Pages != 0 || st.Buffered != 0 || a.pages.head != nil {
		t.Fatalf("memory still held: pages %d buffered %d listed %v", st.Pages, st.Buffered, a.pages.head != nil)
	}
}

func TestInOrderZeroCopy(t *testing.T) {
	a, s, r := newTest(t, Config{})
	seg(s, cs, 1000, decode.SYN, "")
	seg(s, sc, 5000, decode.SYN|decode.ACK, "")
	req := []byte("GET / HTTP/1.1\r\n\r\n")
	s.Segment(cs, 1001, decode.ACK|decode.PSH, req, t0)
	if &r.lastData[cs][0] != &req[0] {
		t.Fatal("in-order payload was copied")
	}
	seg(s, sc, 5001, decode.ACK, "HTTP/1.1 200 OK\r\n")
	seg(s, sc, 5018, decode.ACK, "\r\n")
	seg(s, cs, 1001+uint32(len(req)), decode.FIN|decode.ACK, "")
	seg(s, sc, 5020, decode.FIN|decode.ACK, "")
	s.Close(t0)
	checkEvents(t, r, "D0:GET / HTTP/1.1\r\n\r\n", "D1:HTTP/1.1 200 OK\r\n", "D1:\r\n", "E")
	if !s.Stats(cs).FIN || !s.Stats(sc).FIN {
		t.Fatal("FIN not reached in both directions")
	}
	st := a.Stats()
	if st.Delivered != 37 || st.OutOfOrder != 0 || st.Gaps != 0 || st.PagesPeak != 0 || st.Closed != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestReverseOrder(t *testing.T) {
	a, s, r := newTest(t, Config{PageSize: 64})
	const n = 40
	var want []byte
	segs := make([][]byte, n)
	for i := range segs {
		segs[i] = bytes.Repeat([]byte{byte('a' + i%26)}, 10+i%7)
		want = append(want, segs[i]...)
	}
	seg(s, cs, 99, decode.SYN, "")
	offs := make([]uint32, n)
	o := uint32(100)
	for i := range segs {
		offs[i] = o
		o += uint32(len(segs[i]))
	}
	for i := n - 1; i >= 0; i-- {
		s.Segment(cs, offs[i], decode.ACK, segs[i], t0)
		if i > 0 && len(r.data[cs]) != 0 {
			t.Fatalf("delivered before the first segment arrived")
		}
	}
	if !bytes.Equal(r.data[cs], want) {
		t.Fatalf("got %q want %q", r.data[cs], want)
	}
	st := a.Stats()
	if st.OutOfOrder != n-1 || st.BufferedPeak != len(want)-len(segs[0]) || st.Gaps != 0 {
		t.Fatalf("stats %+v", st)
	}
	checkEmpty(t, a)
}

func TestRetransmission(t *testing.T) {
	a, s, r := newTest(t, Config{})
	seg(s, cs, 0, decode.SYN, "")
	seg(s, cs, 1, 0, "hello ")
	seg(s, cs, 1, 0, "hello ")   // exact
	seg(s, cs, 4, 0, "lo world") // partial: "lo " repeated, "world" new
	seg(s, cs, 7, 0, "world")
	s.Close(t0)
	if got := string(r.data[cs]); got != "hello world" {
		t.Fatalf("got %q", got)
	}
	if st := a.Stats(); st.RetransBytes != 6+3+5 || st.Conflicts != 0 || st.Delivered != 11 {
		t.Fatalf("stats %+v", st)
	}
}

func TestOverlapFirstWins(t *testing.T) {
	t.Run("held copy", func(t *testing.T) {
		a, s, r := newTest(t, Config{})
		seg(s, cs, 0, decode.SYN, "")
		seg(s, cs, 5, 0, "GOOD")
		seg(s, cs, 5, 0, "EVIL") // conflicts with the held copy
		seg(s, cs, 7, 0, "ODxx") // same bytes where it overlaps, plus new ones
		seg(s, cs, 1, 0, "abcdEVIL")
		s.Close(t0)
		if got := string(r.data[cs]); got != "abcdGOODxx" {
			t.Fatalf("got %q", got)
		}
		st := a.Stats()
		if st.Conflicts != 2 || st.OverlapBytes != 4+2+4 || s.Conflicts() != 2 {
			t.Fatalf("conflicts %d overlap %d stream %d", st.Conflicts, st.OverlapBytes, s.Conflicts())
		}
	})
	t.Run("delivered copy", func(t *testing.T) {
		a, s, r := newTest(t, Config{})
		seg(s, cs, 0, decode.SYN, "")
		seg(s, cs, 1, 0, "GOOD")
		seg(s, cs, 1, 0, "GOOD")
		seg(s, cs, 1, 0, "EVIL")
		s.Close(t0)
		if string(r.data[cs]) != "GOOD" || a.Stats().Conflicts != 1 || s.Stats(cs).RetransBytes != 8 {
			t.Fatalf("got %q, stats %+v", r.data[cs], a.Stats())
		}
	})
	t.Run("check disabled", func(t *testing.T) {
		a, s, _ := newTest(t, Config{DisableRetransmitCheck: true})
		seg(s, cs, 0, decode.SYN, "")
		seg(s, cs, 1, 0, "GOOD")
		seg(s, cs, 1, 0, "EVIL")
		if a.Stats().Conflicts != 0 {
			t.Fatal("conflict counted with the check disabled")
		}
	})
}

func TestGapInTheMiddle(t *testing.T) {
	a, s, r := newTest(t, Config{})
	seg(s, cs, 0, decode.SYN, "")
	seg(s, cs, 1, 0, "0123456789")
	seg(s, cs, 21, 0, "ABCDEFGHIJ")
	seg(s, cs, 31, 0, "KL")
	checkEvents(t, r, "D0:0123456789")
	s.Close(t0)
	checkEvents(t, r, "D0:0123456789", "G0:10", "D0:ABCDEFGHIJKL", "E")
	if st := a.Stats(); st.Gaps != 1 || st.GapBytes != 10 || st.Delivered != 22 {
		t.Fatalf("stats %+v", st)
	}
	checkEmpty(t, a)
}

func TestConnCapForcesGap(t *testing.T) {
	a, s, r := newTest(t, Config{PageSize: 16, MaxBufferedPerConn: 64})
	seg(s, cs, 0, decode.SYN, "")
	seg(s, cs, 1, 0, "start")
	// A 7-byte hole, then 16-byte segments: the fifth does not fit in 4 pages.
	var after []byte
	for i := range 5 {
		b := bytes.Repeat([]byte{byte('A' + i)}, 16)
		after = append(after, b...)
		s.Segment(cs, 13+uint32(16*i), 0, b, t0)
		if i < 4 && len(r.gaps[cs]) != 0 {
			t.Fatalf("gap before the cap: %v", r.events)
		}
	}
	checkEvents(t, r, "D0:start", "G0:7", "D0:"+string(after[:16]), "D0:"+string(after[16:32]),
		"D0:"+string(after[32:48]), "D0:"+string(after[48:64]), "D0:"+string(after[64:]))
	st := a.Stats()
	if st.ConnCapHits != 1 || st.PagesPeak != 4 || st.Gaps != 1 || st.GapBytes != 7 {
		t.Fatalf("stats %+v", st)
	}
	// A segment larger than the cap alone, after a hole: skipped straight to.
	big := bytes.Repeat([]byte{'z'}, 100)
	s.Segment(cs, 13+80+3, 0, big, t0)
	if g := r.gaps[cs]; len(g) != 2 || g[1] != 3 || !bytes.HasSuffix(r.data[cs], big) {
		t.Fatalf("events %v", r.events)
	}
	checkEmpty(t, a)
}

func TestSegmentsPerDirCap(t *testing.T) {
	a, s, r := newTest(t, Config{PageSize: 16, MaxSegmentsPerDir: 3})
	seg(s, cs, 0, decode.SYN, "")
	for i := range 4 { // 1-byte segments with holes between: one page each
		seg(s, cs, 3+2*uint32(i), 0, "x")
	}
	if st := a.Stats(); st.ConnCapHits != 1 || st.PagesPeak != 3 || len(r.gaps[cs]) != 1 || r.gaps[cs][0] != 2 {
		t.Fatalf("stats %+v events %v", st, r.events)
	}
}

func TestTotalCap(t *testing.T) {
	a := NewAssembler(Config{PageSize: 16, MaxBufferedTotal: 64})
	ra, rb := &recorder{}, &recorder{}
	sa, sb := a.NewStream(ra), a.NewStream(rb)
	seg(sa, cs, 0, decode.SYN, "")
	seg(sb, sc, 0, decode.SYN, "")
	seg(sa, cs, 5, 0, strings.Repeat("a", 64)) // 4 pages behind a 4-byte hole
	seg(sb, sc, 3, 0, "bb")                    // needs a fifth page
	if st := a.Stats(); st.TotalCapHits != 1 || st.StreamsFlushedByCap != 1 || st.PagesPeak != 4 {
		t.Fatalf("stats %+v", st)
	}
	if len(ra.gaps[cs]) != 1 || ra.gaps[cs][0] != 4 || len(ra.data[cs]) != 64 {
		t.Fatalf("stream a: %v", ra.events)
	}
	if len(rb.events) != 0 || sb.Buffered(sc) != 2 {
		t.Fatalf("stream b: %v, buffered %d", rb.events, sb.Buffered(sc))
	}
	seg(sb, sc, 1, 0, "BB")
	if string(rb.data[sc]) != "BBbb" {
		t.Fatalf("stream b: %q", rb.data[sc])
	}
	sa.Close(t0)
	sb.Close(t0)
	checkEmpty(t, a)
	if a.Stats().PagesAlloc > 4 {
		t.Fatalf("allocated %d pages for a 4-page cap", a.Stats().PagesAlloc)
	}
}

func TestSequenceWrap(t *testing.T) {
	a, s, r := newTest(t, Config{PageSize: 8})
	isn := uint32(1<<32 - 10)
	seg(s, sc, isn, decode.SYN|decode.ACK, "")
	msg := "0123456789abcdefghijklmnopqrstuvwxyz"
	// 6-byte segments fed last first; the 2nd crosses 2^32.
	for i := len(msg)/6 - 1; i >= 0; i-- {
		seg(s, sc, isn+1+uint32(6*i), 0, msg[6*i:6*i+6])
	}
	if string(r.data[sc]) != msg {
		t.Fatalf("got %q", r.data[sc])
	}
	seg(s, sc, isn+1+uint32(len(msg)), decode.FIN, "")
	if !s.Stats(sc).FIN || a.Stats().Gaps != 0 {
		t.Fatal("FIN after the wrap not reached")
	}
	checkEmpty(t, a)
}

func TestSYNWithData(t *testing.T) {
	_, s, r := newTest(t, Config{})
	seg(s, cs, 41, decode.SYN, "fast open ")
	seg(s, cs, 41, decode.SYN, "fast open ") // retransmitted SYN
	seg(s, cs, 52, decode.ACK, "data")
	if string(r.data[cs]) != "fast open data" {
		t.Fatalf("got %q", r.data[cs])
	}
}

func TestMidStream(t *testing.T) {
	a, s, r := newTest(t, Config{})
	seg(s, sc, 7000, decode.ACK, "") // a bare ACK fixes nothing
	seg(s, sc, 9000, decode.ACK, "middle ")
	seg(s, sc, 9007, decode.ACK, "of it")
	seg(s, sc, 8990, decode.ACK, "0123456789") // before the pickup point
	if string(r.data[sc]) != "middle of it" || !s.Stats(sc).MidStream || a.Stats().MidStream != 1 {
		t.Fatalf("got %q, stats %+v", r.data[sc], s.Stats(sc))
	}
	if s.Stats(sc).RetransBytes != 10 {
		t.Fatalf("retrans %d", s.Stats(sc).RetransBytes)
	}
}

func TestFIN(t *testing.T) {
	t.Run("late retransmit", func(t *testing.T) {
		a, s, r := newTest(t, Config{})
		seg(s, cs, 0, decode.SYN, "")
		seg(s, cs, 1, 0, "abc")
		seg(s, cs, 4, decode.FIN, "def")
		seg(s, cs, 4, 0, "def")    // late retransmission
		seg(s, cs, 7, 0, "beyond") // after the FIN
		s.Close(t0)
		checkEvents(t, r, "D0:abc", "D0:def", "E")
		st := a.Stats()
		if st.RetransBytes != 3 || st.DroppedBytes != 6 || !s.Stats(cs).FIN {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("FIN before the last data", func(t *testing.T) {
		a, s, r := newTest(t, Config{})
		seg(s, cs, 0, decode.SYN, "")
		seg(s, cs, 1, 0, "abc")
		seg(s, cs, 7, decode.FIN, "")
		if s.Stats(cs).FIN {
			t.Fatal("direction ended with a hole before its FIN")
		}
		seg(s, cs, 4, 0, "defXX") // "XX" lies beyond the FIN
		checkEvents(t, r, "D0:abc", "D0:def")
		if !s.Stats(cs).FIN || a.Stats().DroppedBytes != 2 {
			t.Fatalf("FIN %v stats %+v", s.Stats(cs).FIN, a.Stats())
		}
	})
	t.Run("hole before FIN at Close", func(t *testing.T) {
		a, s, r := newTest(t, Config{})
		seg(s, cs, 0, decode.SYN, "")
		seg(s, cs, 1, 0, "abc")
		seg(s, cs, 6, 0, "fg")
		seg(s, cs, 10, decode.FIN, "")
		s.Close(t0)
		checkEvents(t, r, "D0:abc", "G0:2", "D0:fg", "G0:2", "E")
		if st := a.Stats(); st.GapBytes != 4 {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("FIN behind data seen is ignored", func(t *testing.T) {
		_, s, r := newTest(t, Config{})
		seg(s, cs, 0, decode.SYN, "")
		seg(s, cs, 5, 0, "efgh")
		seg(s, cs, 3, decode.FIN, "")
		seg(s, cs, 1, 0, "abcd")
		if string(r.data[cs]) != "abcdefgh" {
			t.Fatalf("got %q", r.data[cs])
		}
	})
}

func TestRST(t *testing.T) {
	a, s, r := newTest(t, Config{})
	seg(s, cs, 0, decode.SYN, "")
	seg(s, sc, 100, decode.SYN|decode.ACK, "")
	seg(s, cs, 1, 0, "ab")
	seg(s, cs, 5, 0, "ef")
	seg(s, sc, 101, 0, "reply")
	seg(s, sc, 106, decode.RST, "diagnostic")
	checkEvents(t, r, "D0:ab", "D1:reply", "G0:2", "D0:ef")
	seg(s, cs, 3, 0, "cd")
	seg(s, cs, 1, 0, "ab")
	s.Close(t0)
	checkEvents(t, r, "D0:ab", "D1:reply", "G0:2", "D0:ef", "E")
	if st := a.Stats(); st.Resets != 1 || st.RetransBytes != 2+2 || st.DroppedBytes != 10 {
		t.Fatalf("stats %+v", st)
	}
	checkEmpty(t, a)
}

func TestEndExactlyOnce(t *testing.T) {
	a, s, r := newTest(t, Config{})
	seg(s, cs, 0, decode.SYN, "")
	seg(s, cs, 5, 0, "later")
	s.Close(t0)
	s.Close(t0)
	seg(s, cs, 1, 0, "abcd")
	s.FlushOlderThan(t0.Add(time.Hour))
	a.FlushOlderThan(t0.Add(time.Hour))
	if r.ends != 1 || r.late != 0 {
		t.Fatalf("End called %d times, %d calls after it", r.ends, r.late)
	}
	if !s.Ended() || a.Stats().Closed != 1 {
		t.Fatal("not ended")
	}
	// A closed stream can be reused for another connection.
	a.InitStream(s, r)
	seg(s, cs, 10, decode.SYN, "")
	seg(s, cs, 11, 0, "again")
	if !bytes.HasSuffix(r.data[cs], []byte("again")) {
		t.Fatalf("reused stream: %v", r.events)
	}
}

func TestConsumerError(t *testing.T) {
	a, s, r := newTest(t, Config{})
	r.failAt = 3
	seg(s, cs, 0, decode.SYN, "")
	seg(s, cs, 10, 0, "held")
	seg(s, cs, 1, 0, "abc")
	if s.Err() == nil || a.Stats().ConsumerErrors != 1 {
		t.Fatal("consumer error not recorded")
	}
	checkEmpty(t, a) // the held bytes were dropped
	seg(s, cs, 4, 0, "more")
	seg(s, sc, 4, decode.SYN, "")
	s.Close(t0)
	checkEvents(t, r, "D0:abc", "E")
}

func TestFlushOlderThan(t *testing.T) {
	a, s, r := newTest(t, Config{})
	seg(s, cs, 0, decode.SYN, "")
	s.Segment(cs, 5, 0, []byte("old"), t0)
	s.Segment(cs, 12, 0, []byte("new"), t0.Add(10*time.Second))
	if a.FlushOlderThan(t0) != 0 || len(r.events) != 0 {
		t.Fatal("flushed data not older than the cutoff")
	}
	if a.FlushOlderThan(t0.Add(time.Second)) != 1 {
		t.Fatal("old data not flushed")
	}
	checkEvents(t, r, "G0:4", "D0:old")
	s.FlushOlderThan(t0.Add(time.Minute))
	checkEvents(t, r, "G0:4", "D0:old", "G0:4", "D0:new")
	checkEmpty(t, a)
}

// TestRandomized cuts a random stream into random segments, shuffles them,
// repeats some, and checks that the exact stream comes out with no gap.
func TestRandomized(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 7))
		cfg := Config{PageSize: []int{7, 64, 2048}[rng.IntN(3)], MaxSegmentsPerDir: 1 << 20} // room for everything
		a := NewAssembler(cfg)
		var streams [3]*Stream
		var recs [3]*recorder
		var want [3][2][]byte
		type sg struct {
			s       int
			d       parsers.Dir
			seq     uint32
			payload []byte
		}
		var segs []sg
		for k := range streams {
			recs[k] = &recorder{}
			streams[k] = a.NewStream(recs[k])
			for d := cs; d <= sc; d++ {
				isn := rng.Uint32()
				streams[k].Segment(d, isn, decode.SYN, nil, t0)
				data := make([]byte, rng.IntN(20000))
				for i := range data {
					data[i] = byte(rng.Uint32())
				}
				want[k][d] = data
				for off := 0; off < len(data); {
					n := min(1+rng.IntN(1500), len(data)-off)
					segs = append(segs, sg{k, d, isn + 1 + uint32(off), data[off : off+n]})
					if rng.IntN(5) == 0 { // a repeat, maybe straddling segments
						o2 := max(0, off-rng.IntN(100))
						n2 := min(1+rng.IntN(2000), len(data)-o2)
						segs = append(segs, sg{k, d, isn + 1 + uint32(o2), data[o2 : o2+n2]})
					}
					off += n
				}
			}
		}
		rng.Shuffle(len(segs), func(i, j int) { segs[i], segs[j] = segs[j], segs[i] })
		for _, g := range segs {
			p := append([]byte(nil), g.payload...) // the caller's buffer is reused
			streams[g.s].Segment(g.d, g.seq, decode.ACK, p, t0)
			clear(p)
		}
		for k := range streams {
			for d := cs; d <= sc; d++ {
				if !bytes.Equal(recs[k].data[d], want[k][d]) {
					t.Fatalf("seed %d stream %d dir %d: got %d bytes, want %d; %+v", seed, k, d, len(recs[k].data[d]), len(want[k][d]), a.Stats())
				}
			}
			streams[k].Close(t0)
		}
		st := a.Stats()
		if st.Gaps != 0 || st.Conflicts != 0 {
			t.Fatalf("seed %d: stats %+v", seed, st)
		}
		checkEmpty(t, a)
	}
}

// discard counts bytes without keeping them.
type discard struct{ n, gaps int }

func (c *discard) Data(d parsers.Dir, b []byte, ts time.Time) error { c.n += len(b); return nil }
func (c *discard) Gap(d parsers.Dir, n int, ts time.Time)           { c.gaps += n }
func (c *discard) End(ts time.Time)                                 {}

func TestInOrderDoesNotAllocate(t *testing.T) {
	a := NewAssembler(Config{})
	c := &discard{}
	s := a.NewStream(c)
	s.Segment(cs, 0, decode.SYN, nil, t0)
	payload := make([]byte, 1460)
	seq := uint32(1)
	allocs := testing.AllocsPerRun(1000, func() {
		s.Segment(cs, seq, decode.ACK, payload, t0)
		seq += 1460
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per in-order segment", allocs)
	}
	// Out of order with warm pages: no allocation either.
	allocs = testing.AllocsPerRun(1000, func() {
		s.Segment(cs, seq+1460, decode.ACK, payload, t0)
		s.Segment(cs, seq, decode.ACK, payload, t0)
		seq += 2 * 1460
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per out-of-order pair", allocs)
	}
	if c.n != int(seq-1) || c.gaps != 0 {
		t.Fatalf("delivered %d of %d", c.n, seq-1)
	}
}

// Held pages draw on the memory budget: when it refuses, the hole is
// skipped as at a cap, counted, and every page is given back at the end.
func TestBudgetRefusalSkipsHoles(t *testing.T) {
	b := budget.New(256 << 10) // one account chunk: 128 pages of 2 KiB
	a := NewAssembler(Config{})
	a.UseBudget(b.NewAccount())
	r := &recorder{}
	s := a.NewStream(r)
	s.Segment(parsers.ToServer, 99, decode.SYN, nil, t0)
	seg := bytes.Repeat([]byte{'x'}, 2048)
	for i := 1; i <= 200; i++ { // bytes 0..2047 never come
		s.Segment(parsers.ToServer, 100+uint32(i*2048), 0, seg, t0)
	}
	st := a.Stats()
	if st.BudgetHits == 0 || s.LimitHits() == 0 || len(r.gaps[0]) == 0 || r.gaps[0][0] != 2048 {
		t.Fatalf("budget hits %d, stream limit hits %d, gaps %v", st.BudgetHits, s.LimitHits(), r.gaps[0])
	}
	if used := b.Stats().Pools[budget.Reassembly].Used; used != int64(st.Pages*2048) {
		t.Errorf("budget holds %d bytes for %d pages", used, st.Pages)
	}
	s.Close(t0)
	if used := b.Stats().Pools[budget.Reassembly].Used; used != 0 || len(r.data[0]) != 200*2048 {
		t.Errorf("after Close: budget holds %d bytes; %d bytes delivered", used, len(r.data[0]))
	}
}
