package pipeline

import (
	"math"
	"slices"
	"sync"
	"time"
	"unsafe"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
)

// Deferrer is an optional interface of a Detector whose rules keep state
// shared by the workers (rules.SharedState). With several workers, each
// worker's Detector hands every use of that state to later (Defer), and
// the sequencer's own Detector makes them (Apply) in packet order.
type Deferrer interface {
	Defer(later func(use any))
	Apply(use any, emit func(*schemas.Event))
}

// order is where a use of state spanning host pairs falls in one worker's
// run, comparable across workers: the packet, or the expiry sweep before
// it, and in a sweep or at the end of input the flow the table ended, as
// one worker's table orders them.
type order struct {
	n     uint64 // decode.Packet.Number; endOfInput after the last
	phase uint8  // at n: sweep 0, packet 1; at endOfInput: flush 0, the analyzer's close 1
	a, b  int64  // sweep: the flow's timeout class; flush: its last packet time, class
	c     uint64 // sweep and flush: the flow's last packet number
}

const endOfInput = math.MaxUint64

// allHanded is the mark of a worker that will hand nothing more: after
// every use, the analyzer's close at the end of input too.
var allHanded = order{n: endOfInput, phase: math.MaxUint8}

func (o *order) before(p *order) bool {
	switch {
	case o.n != p.n:
		return o.n < p.n
	case o.phase != p.phase:
		return o.phase < p.phase
	case o.a != p.a:
		return o.a < p.a
	case o.b != p.b:
		return o.b < p.b
	}
	return o.c < p.c
}

// deferred is a use of shared state a worker handed over: a rule's
// (Deferrer), an anomaly's rate limit, or the keep decision of a stored
// file whose event's alerts wait for rule uses.
type deferred struct {
	at    order
	rule  any
	fresh bool // the first rule use of its event
	anom  anomaly.Judgement
	keep  func(fired []string) error
	fired []string // with keep: the alerts its event raised at once
	ts    time.Time
}

// heldBytes is what uses hold while they wait, as paid to the memory
// budget: their entries, and what each holds besides (holds).
func heldBytes(uses []deferred) int64 {
	n := int64(len(uses)) * int64(unsafe.Sizeof(deferred{}))
	for i := range uses {
		n += uses[i].holds()
	}
	return n
}

// holds is what d holds besides its entry: a rule's use tells (the rules'
// keys and closure are far smaller than an event), an anomaly's holds its
// event if it has one, the rest (the keep of a file) are taken as holding
// an event.
func (d *deferred) holds() int64 {
	switch {
	case d.rule != nil:
		if u, ok := d.rule.(interface{ Bytes() int64 }); ok {
			return u.Bytes()
		}
	case d.keep == nil && d.anom.Event() == nil:
		return 0
	}
	return schemas.HeldBytes
}

// maxHeld bounds what the sequencer holds: beyond, a worker ahead of the
// others waits for the slowest after its batch (or a chunk of ended
// flows), and the slowest for the sequencer to make what it can.
const maxHeld = 4 << 20

// sequencer makes the uses of state spanning host pairs in packet order.
//
// Why: flows are sharded by host pair, so the state of one pair is one
// worker's, in packet order; but a rule suppressing by one host, a
// threshold grouping by one, or the anomaly rate limit see events of many
// pairs, and took them in the order the workers happened to run. The
// workers hand those uses over with their order (the packet's number),
// and after each batch the number below which they will hand nothing
// more; the sequencer merges them and makes each use once every worker
// has passed it, through a worker of its own (out) that emits what they
// decide. With one worker there is no sequencer: it is already in order.
type sequencer struct {
	out  *worker
	acct *budget.Account

	mu      sync.Mutex
	moved   *sync.Cond   // a worker handed something over, or uses were made
	queues  [][]deferred // per worker, in order, from heads on (queue)
	heads   []int        // per worker: where its queue starts
	marks   []order      // per worker: nothing more will come before this
	queued  int          // uses in queues
	waiting int          // workers waiting for the others (hand)
	making  bool         // uses taken from the queues are being made
	held    int64        // bytes of the uses queued and being made (paid, as far as acct let)
	peak    int64        // the most held at once
	unpaid  int64
	done    chan struct{}
}

func newSequencer(cfg *Config, workers int) *sequencer {
	solo := *cfg
	solo.FlowsOnly = true
	solo.Hosts = nil // the workers name the events they hand over, in order
	s := &sequencer{out: newWorker(&solo), queues: make([][]deferred, workers), heads: make([]int, workers), marks: make([]order, workers), done: make(chan struct{})}
	s.out.series.shard = workers
	s.acct = cfg.Budget.NewAccount() // its own: out's is used by out's goroutine
	s.moved = sync.NewCond(&s.mu)
	go s.run()
	return s
}

// use tells worker w to hand its uses of shared state to the sequencer.
func (s *sequencer) use(w *worker, i int) {
	w.seq, w.seqID = s, i
	w.anom.Defer(func(j anomaly.Judgement) {
		if ev := j.Event(); ev != nil && w.cfg.Hosts != nil {
			w.cfg.Hosts.Enrich(ev)
		}
		w.later = append(w.later, deferred{at: w.at, anom: j})
	})
	if d, ok := w.detector.(Deferrer); ok {
		d.Defer(func(u any) { w.later = append(w.later, deferred{at: w.at, rule: u}) })
		if w.app != nil {
			w.app.DeferKeep(func(ts time.Time, keep func([]string) error) bool {
				if !w.deferred {
					return false
				}
				w.later = append(w.later, deferred{at: w.at, keep: keep, fired: slices.Clone(w.fired), ts: ts})
				return true
			})
		}
	}
}

// hand queues worker i's uses; mark: it will hand nothing more before
// it. With wait, a worker ahead of the slowest waits while the sequencer
// holds too much, unless its account (acct) is asked to give memory back
// to a slower worker: that one may be what it waits for, so it goes on,
// and gives back at its next packet (the sequencer then holds more than
// its cap for a while).
func (s *sequencer) hand(i int, acct *budget.Account, uses []deferred, mark order, wait bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[i]
	if h := s.heads[i]; h > 0 && len(q)+len(uses) > cap(q) {
		// What waits moves to the front: the array is used again rather
		// than grown (made uses leave room only at its front).
		n := copy(q, q[h:])
		clear(q[n:])
		q, s.heads[i] = q[:n], 0
	}
	s.queues[i] = append(q, uses...)
	if n := heldBytes(uses); n > 0 {
		s.held += n
		s.peak = max(s.peak, s.held)
		if !s.acct.Reserve(budget.Rules, n) {
			s.unpaid += n
		}
	}
	low := s.lowMark()
	if s.marks[i].before(&mark) { // a mark never goes back: its uses were handed after those below it
		s.marks[i] = mark
	}
	s.queued += len(uses)
	// A use is made once every worker is past it: a higher low mark lets
	// uses go, and so does a use handed below the low mark (a give-back's,
	// between batches), which can be made at once. Either way the
	// sequencer must look again, and the slowest worker may be waiting
	// for it (busy).
	now := s.lowMark()
	if low.before(&now) && (s.queued > 0 || s.waiting > 0 || now == allHanded) || anyBefore(uses, &now) {
		s.moved.Broadcast()
	}
	for wait && (s.held > maxHeld || s.unpaid > 0) {
		// The slowest worker waits only for uses the sequencer makes
		// without it: else what is held waits for it.
		if low := s.lowMark(); !low.before(&mark) && !s.busy(&low) || acct.Owes() {
			break
		}
		s.waiting++
		s.moved.Wait()
		s.waiting--
	}
}

// anyBefore says whether one of uses is ordered before o.
func anyBefore(uses []deferred, o *order) bool {
	for i := range uses {
		if uses[i].at.before(o) {
			return true
		}
	}
	return false
}

// nudge wakes the workers waiting in hand to look again: one of them was
// asked to give memory back. It takes s.mu, so a worker between its look
// at its account and its wait cannot miss it; it is called on a goroutine
// of its own, since the budget asks with its own lock held.
func (s *sequencer) nudge() {
	s.mu.Lock()
	s.moved.Broadcast()
	s.mu.Unlock()
}

// busy says whether the sequencer is making uses, or has some it can make.
func (s *sequencer) busy(low *order) bool {
	for i := range s.queues {
		if q := s.queue(i); len(q) > 0 && q[0].at.before(low) {
			return true
		}
	}
	return s.making
}

func (s *sequencer) lowMark() order {
	low := allHanded
	for _, m := range s.marks {
		if m.before(&low) {
			low = m
		}
	}
	return low
}

// next takes the first use every worker has passed; false when there is
// none yet, or with end, none any more.
func (s *sequencer) next(d *deferred) (ok, end bool) {
	low := s.lowMark()
	first := -1
	for i := range s.queues {
		if q := s.queue(i); len(q) > 0 && (first < 0 || q[0].at.before(&s.queue(first)[0].at)) {
			first = i
		}
	}
	if first < 0 {
		return false, low == allHanded
	}
	q := s.queue(first)
	if !q[0].at.before(&low) {
		return false, false
	}
	*d = q[0]
	q[0] = deferred{}
	s.queued--
	if s.heads[first]++; len(q) == 1 {
		s.queues[first], s.heads[first] = s.queues[first][:0], 0
	}
	return true, false
}

// queue is the uses worker i handed over that wait.
func (s *sequencer) queue(i int) []deferred { return s.queues[i][s.heads[i]:] }

func (s *sequencer) run() {
	defer close(s.done)
	var batch []deferred
	for {
		s.mu.Lock()
		var d deferred
		ok, end := s.next(&d)
		for !ok && !end {
			s.moved.Wait()
			ok, end = s.next(&d)
		}
		for ok {
			batch = append(batch, d)
			ok, _ = s.next(&d)
		}
		s.making = len(batch) > 0
		s.mu.Unlock()
		made := heldBytes(batch)
		for i := range batch {
			s.make(&batch[i])
			batch[i] = deferred{}
		}
		if len(batch) > 0 {
			s.mu.Lock()
			s.pay(made)
			s.making = false
			s.moved.Broadcast()
			s.mu.Unlock()
			batch = batch[:0]
		}
		if end {
			s.out.finish()
			s.acct.Close()
			return
		}
	}
}

// pay gives back what n bytes of uses made held.
func (s *sequencer) pay(n int64) {
	s.held -= n
	if cut := min(n, s.unpaid); cut > 0 {
		s.unpaid -= cut
		n -= cut
	}
	s.acct.Release(budget.Rules, n)
	if s.held == 0 {
		s.acct.Idle() // the workers need its credit more
	}
}

// make makes one use with the sequencer's worker.
func (s *sequencer) make(d *deferred) {
	w := s.out
	switch {
	case d.rule != nil:
		if d.fresh {
			w.fired = w.fired[:0] // the alerts of one event, for its files' keep
		}
		if dd, ok := w.detector.(Deferrer); ok {
			dd.Apply(d.rule, w.alert)
		}
	case d.keep != nil:
		if err := d.keep(append(d.fired, w.fired...)); err != nil {
			w.anom.Report(anomaly.FileLimit, nil, d.ts, err.Error())
		}
	default:
		w.anom.Judge(d.anom)
	}
}

// heldPeak is the most bytes of uses held at once so far.
func (s *sequencer) heldPeak() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// wait waits for the sequencer's last uses and events.
func (s *sequencer) wait() { <-s.done }
