package pipeline

import (
	"testing"
	"time"
)

// A use handed below every worker's mark (a give-back's, between
// batches) can be made at once: the sequencer is woken for it, though no
// mark rose. Before, it slept until a mark did, and a slowest worker
// waiting for the sequencer's work could wait with it.
func TestUseBelowTheMarksIsMadeAtOnce(t *testing.T) {
	s := newSequencer(&Config{}, 2)
	s.hand(0, nil, nil, order{n: 10}, false)
	s.hand(1, nil, nil, order{n: 10}, false)
	time.Sleep(100 * time.Millisecond) // the sequencer has nothing to make: let it sleep
	made := make(chan struct{})
	use := deferred{at: order{n: 5, phase: 1}, keep: func([]string) error { close(made); return nil }}
	s.hand(1, nil, []deferred{use}, order{n: 20}, false)
	select {
	case <-made:
	case <-time.After(10 * time.Second): // liveness: it is made at once, or never
		t.Fatal("a use below every mark was not made")
	}
	s.hand(0, nil, nil, allHanded, false)
	s.hand(1, nil, nil, allHanded, false)
	s.wait()
}

// A worker's mark never goes back: a hand marked below its last mark (as
// a give-back between batches made before) leaves the mark where it was.
func TestMarkNeverGoesBack(t *testing.T) {
	s := newSequencer(&Config{}, 2)
	s.hand(0, nil, nil, order{n: 20}, false)
	s.hand(0, nil, nil, order{n: 10, phase: 1}, false)
	s.mu.Lock()
	got := s.marks[0]
	s.mu.Unlock()
	if got != (order{n: 20}) {
		t.Errorf("mark %+v after a hand below it, want it kept at packet 20", got)
	}
	s.hand(0, nil, nil, allHanded, false)
	s.hand(1, nil, nil, allHanded, false)
	s.wait()
}
