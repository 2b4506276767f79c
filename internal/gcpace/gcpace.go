// Package gcpace sets the garbage collector's target (GOGC) after every
// collection from the heap that collection left live. A small heap (a
// replay's, a quiet sensor's) is given a fixed headroom of new allocation
// before the next collection, up to Max percent of itself: it is collected
// a few times instead of many. A large one (a flood's flows) gets Min
// percent, so that its peak grows with what it holds no faster than with a
// fixed GOGC of Min. The runtime's memory limit still bounds both.
package gcpace

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Pace is what the target follows.
type Pace struct {
	Min, Max int    // GOGC bounds, in percent of the live heap
	Headroom uint64 // bytes a heap may grow by before its next collection, within Min and Max
}

// Percent is the GOGC that lets a live heap of live bytes grow by
// p.Headroom, within p.Min and p.Max.
func (p Pace) Percent(live uint64) int {
	if live == 0 {
		return p.Max
	}
	return int(max(uint64(p.Min), min(uint64(p.Max), p.Headroom*100/live)))
}

// pacer re-arms a sentinel that each collection finds unreachable: its
// finalizer, run after the collection, sets the target.
type pacer struct {
	pace    Pace
	mu      sync.Mutex // held while the target is set: none is set after stop returns
	stopped bool
	set     int              // the GOGC set last
	before  int              // the GOGC before start: stop restores it
	live    []metrics.Sample // read again each time: no allocation
	changed func(int)        // tests: told each new target
}

type sentinel struct{ p *pacer } // holds a pointer: never batched with other tiny objects

// Start sets GOGC to pace.Max, then after every collection to what
// pace.Percent gives for the heap it left live, until stop, which puts
// back the GOGC from before Start. None is set once stop has returned.
func Start(pace Pace) (stop func()) {
	return start(pace, nil)
}

func start(pace Pace, changed func(int)) (stop func()) {
	p := &pacer{pace: pace, live: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}, changed: changed}
	p.before = p.setPercent(pace.Max)
	p.arm()
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if !p.stopped {
			p.stopped = true
			debug.SetGCPercent(p.before)
		}
	}
}

func (p *pacer) arm() {
	runtime.SetFinalizer(&sentinel{p: p}, func(s *sentinel) {
		if s.p.collected() {
			s.p.arm()
		}
	})
}

// collected sets the target for the heap the last collection left live,
// and reports whether the pacer goes on.
func (p *pacer) collected() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return false
	}
	metrics.Read(p.live)
	if p.live[0].Value.Kind() != metrics.KindUint64 {
		return false
	}
	if pct := p.pace.Percent(p.live[0].Value.Uint64()); pct != p.set {
		p.setPercent(pct)
	}
	return true
}

// setPercent sets GOGC to pct and returns the one it replaced.
func (p *pacer) setPercent(pct int) int {
	old := debug.SetGCPercent(pct)
	p.set = pct
	if p.changed != nil {
		p.changed(pct)
	}
	return old
}
