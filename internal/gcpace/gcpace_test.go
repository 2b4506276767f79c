package gcpace

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercentGivesHeadroomWithinBounds(t *testing.T) {
	p := Pace{Min: 150, Max: 300, Headroom: 128 << 20}
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 300},         // nothing live yet
		{4 << 20, 300},   // a small heap: Max
		{64 << 20, 200},  // 128 MiB of room
		{100 << 20, 150}, // Min reached (128 %)
		{600 << 20, 150}, // a flood's heap
		{(128 << 20) / 3, 300},
	} {
		if got := p.Percent(c.live); got != c.want {
			t.Errorf("Percent(%d MiB) = %d, want %d", c.live>>20, got, c.want)
		}
	}
}

// The target follows the heap each collection leaves live: Min while a
// large slice is held, above it once it is let go.
func TestPacerFollowsLiveHeap(t *testing.T) {
	pace := Pace{Min: 100, Max: 400, Headroom: 8 << 20}
	stop, targets := startFrom(t, 100, pace)
	t.Cleanup(stop)
	held := make([]byte, 64<<20)
	if got := collectUntil(t, targets, func(pct int) bool { return pct == pace.Min }); got != pace.Min {
		t.Fatalf("with 64 MiB live the target is %d, want Min %d", got, pace.Min)
	}
	runtime.KeepAlive(held)
	held = nil
	if got := collectUntil(t, targets, func(pct int) bool { return pct > pace.Min }); got <= pace.Min {
		t.Fatalf("with the 64 MiB let go the target stays %d", got)
	}
}

// Stopping the pacer puts back the GOGC from before it started, whatever
// it set meanwhile; a second stop changes nothing.
func TestStopRestoresGOGC(t *testing.T) {
	const before = 137
	pace := Pace{Min: 50, Max: 400, Headroom: 8 << 20}
	stop, targets := startFrom(t, before, pace)
	held := make([]byte, 64<<20)
	collectUntil(t, targets, func(pct int) bool { return pct == pace.Min })
	runtime.KeepAlive(held)
	stop()
	if got := debug.SetGCPercent(before); got != before {
		t.Errorf("GOGC after stop %d, want %d as before start", got, before)
	}
	debug.SetGCPercent(200)
	stop()
	if got := debug.SetGCPercent(before); got != 200 {
		t.Errorf("a second stop set GOGC %d", got)
	}
}

// startFrom sets GOGC to gogc (until the test ends) and starts a pacer,
// whose targets it returns; the first, Max, is already read.
func startFrom(t *testing.T, gogc int, pace Pace) (stop func(), targets <-chan int) {
	t.Helper()
	old := debug.SetGCPercent(gogc)
	t.Cleanup(func() { debug.SetGCPercent(old) })
	ch := make(chan int, 64)
	stop = start(pace, func(pct int) {
		select {
		case ch <- pct:
		default:
		}
	})
	if got := <-ch; got != pace.Max {
		t.Fatalf("first target %d, want Max %d", got, pace.Max)
	}
	return stop, ch
}

// collectUntil collects until the pacer sets a target ok accepts, and
// returns the last target it set.
func collectUntil(t *testing.T, targets <-chan int, ok func(int) bool) int {
	t.Helper()
	last := -1
	for range 100 {
		runtime.GC()
		select {
		case last = <-targets:
			if ok(last) {
				return last
			}
		case <-time.After(50 * time.Millisecond): // the finalizer runs after the collection, on its own goroutine
		}
	}
	return last
}
