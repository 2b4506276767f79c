package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/packetsleuth/packetsleuth/sensor/app"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/source"
)

// ErrNoPackets is returned when not a single frame could be read.
var ErrNoPackets = errors.New("no packet could be read")

// batchSize is how many packets a feeder hands a worker at once. With 2
// workers on bench-large, 128 costs the CPU 256 did and holds less in
// flight (peak RSS 135-143 -> 122-123 MB); 512 and 64 cost more CPU
// (docs/performance.md, session 13).
const batchSize = 128

// arenaSize is what a batch holds of copied payloads: a batch whose arena
// is full is handed over early, so arenas do not grow with the traffic.
const arenaSize = batchSize * 512

// batchesPerWorker is how many batches each worker adds to the pool; the
// pool bounds what is in flight. A worker's queue holds the whole pool: a
// burst for one worker waits there instead of stopping the feeder while
// the others idle. One worker may then run thousands of new flows ahead of
// another the scheduler has not run yet and take the whole memory budget
// first; the budget's fair share (budget.Account.Fair) makes it give the
// late one its share back.
const batchesPerWorker = 16

// batch carries packets (or, with no packets, a clock tick) to a worker.
type batch struct {
	pkts   []decode.Packet
	arena  []byte        // the payloads of pkts that were copied, back to back
	from   *Feeder       // that filled it: a memory fault reading pkts is its source's
	source string        // from's source at the hand-over (send): from's next Feed may start while a worker reads pkts
	first  int64         // the source offset of the first packet's frame
	done   *atomic.Int64 // counts the batch when done (pkts hold frames of a lasting source)
	// sweeps are the feeder's expiry sweeps, each before the packet at
	// its index (or after the last): every worker sweeps at the packet
	// times one worker would have.
	sweeps []sweep
	waits  []hostWait // for the host table's order, each before pkts[at] and the sweeps there

	// upTo: with a sequencer, every packet numbered below it has been
	// handed to its worker (in this batch or before).
	upTo uint64

	tick    time.Time     // set on a tick: the worker expires flows up to it
	query   *query        // set on a request for the active flows
	settled chan struct{} // set by Feeder.settle: the batches before this one are done
}

// sweep tells a worker to expire its flows at packet time t (Unix ns)
// before pkts[at].
type sweep struct {
	at int
	t  int64
	n  uint64 // the number of the packet it comes before
}

// Pipeline is one run of the hot path: feeders (one per source) decode and
// shard packets to workers.
//
// A replay with one worker runs inline when it has one CPU (or
// Config.Inline): the feeder calls the worker directly. Otherwise a channel
// is put in front of each worker, which runs on a goroutine of its own;
// one worker's events still come out in capture order.
type Pipeline struct {
	cfg        Config
	workers    []*worker
	concurrent bool
	in         []chan *batch
	pool       chan *batch
	wg         sync.WaitGroup

	mu      sync.Mutex // guards feeders and replay
	feeders []*Feeder
	main    *Feeder // the feeder of Replay and Feed
	replay  Stats   // Files, FilesFailed, SourceErrors, Clamped, Wall

	seq       *sequencer // several workers replaying; nil otherwise
	stopTicks func()
	closed    bool
}

// New checks cfg and prepares a pipeline; with Config.Live it also starts
// the workers' clock ticks (wall time), so idle flows end.
func New(cfg Config) (*Pipeline, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if _, err := source.NewFilter(cfg.BPF); err != nil {
		return nil, err
	}
	if cfg.App.Expect == nil {
		cfg.App.Expect = app.NewExpectations() // one table for all workers
		cfg.App.Expect.UseBudget(cfg.Budget.NewAccount())
	}
	p := &Pipeline{cfg: cfg, concurrent: cfg.Workers > 1 || cfg.Live || !cfg.Inline && runtime.GOMAXPROCS(0) > 1}
	for i := 0; i < cfg.Workers; i++ {
		w := newWorker(&p.cfg)
		w.series.shard = i
		p.workers = append(p.workers, w)
	}
	if p.concurrent {
		n := cfg.Workers * batchesPerWorker
		if cfg.Workers == 1 {
			n = onlyWorkerBatches
		}
		p.pool = make(chan *batch, n)
		for i := 0; i < n; i++ {
			p.pool <- &batch{pkts: make([]decode.Packet, 0, batchSize)} // arenas come with the first copy
		}
		for _, w := range p.workers {
			if cfg.Workers > 1 {
				w.wake = make(chan struct{}, 1)
				w.acct.Fair(func() {
					select {
					case w.wake <- struct{}{}:
					default: // already told
					}
					if p.seq != nil { // it may be waiting in the sequencer
						go p.seq.nudge()
					}
				})
			}
		}
		if cfg.Workers > 1 && !cfg.Live {
			p.seq = newSequencer(&p.cfg, cfg.Workers)
		}
		spare := cfg.Output != nil && !cfg.Live && cfg.Workers < runtime.GOMAXPROCS(0)
		for i, w := range p.workers {
			if p.seq != nil {
				p.seq.use(w, i)
				w.peers = p.workers
			}
			if spare { // a CPU the workers leave: their events are delivered on it
				w.dlv, w.out = startDelivery(cfg.Output, cfg.Log)
			}
			ch := make(chan *batch, n)
			p.in = append(p.in, ch)
			p.wg.Add(1)
			go p.runWorker(w, ch)
		}
	}
	p.stopTicks = func() {}
	if cfg.Live {
		p.stopTicks = p.startTicks(time.Second)
	}
	return p, nil
}

func (p *Pipeline) runWorker(w *worker, in <-chan *batch) {
	defer p.wg.Done()
	// A CPU profile tells the workers apart (go tool pprof -tags): how
	// evenly the flow hash shares the work.
	pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("stage", "worker", "worker", strconv.Itoa(w.series.shard))))
	// The payloads of a mapped capture are read from its mapping here
	// (source.Lasting): a file cut meanwhile faults, which packets turns
	// into an error of the capture.
	debug.SetPanicOnFault(true)
	giveBackAt := 1
	if len(p.workers) == 1 {
		giveBackAt = returnEvery
	}
	var emptied []*batch // not given back to the pool yet
	for {
		if len(emptied) > 0 && len(in) == 0 { // about to wait for input
			emptied = p.returnBatches(emptied)
		}
		var b *batch
		select {
		case <-w.wake: // another worker starves: give back what is past the fair share
			w.giveBackBetween()
			continue
		case b = <-in:
		}
		if b == nil {
			break
		}
		switch {
		case b.query != nil:
			w.answer(b.query)
			continue // queries, ticks and settles are not pooled
		case !b.tick.IsZero():
			w.tick(b.tick)
			continue
		case b.settled != nil:
			b.from.faulted(w.unhold(b.from.source))
			b.settled <- struct{}{}
			continue
		}
		b.from.faulted(packets(w, b))
		if w.seq != nil {
			w.handLater(order{n: b.upTo}, true)
		}
		if b.done != nil {
			b.done.Add(1)
		}
		clear(b.pkts)
		b.pkts, b.arena, b.from, b.done, b.sweeps, b.waits, b.upTo = b.pkts[:0], b.arena[:0], nil, nil, b.sweeps[:0], b.waits[:0], 0
		if cap(b.arena) > arenaSize { // grown by a jumbo payload
			b.arena = make([]byte, 0, arenaSize)
		}
		if emptied = append(emptied, b); len(emptied) >= giveBackAt {
			emptied = p.returnBatches(emptied)
		}
	}
	w.finish()
}

// returnEvery is how many emptied batches the only worker gathers before
// it gives them back to the pool: a feeder ahead of it, waiting for one,
// is then woken once for several (bench-large, 1 worker: a futex wake-up
// per batch was 3 % of the worker's time). Each wake-up of the feeder
// costs both CPUs tens of microseconds (the futex, and the other CPU's
// scheduler stealing the feeder off the worker's P: runtime.runqgrab's
// usleep), so the worker gathers half its pool: the other half, queued,
// keeps it busy while the feeder, three times as fast, fills the half
// given back. It gives them back before it waits for input. Several
// workers give each back at once: one of them may be waiting for the
// others (sequencer, budget) while the feeder waits for a batch.
const returnEvery = onlyWorkerBatches / 2

// onlyWorkerBatches is the pool of a pipeline of one worker (several add
// batchesPerWorker each): with 32, half of it given back at a time, the
// feeder of a bench-large replay waits for batches ~600 times, against
// ~2,000 with 16 given back 4 at a time (docs/performance.md, session 16).
const onlyWorkerBatches = 32

// returnBatches returns the emptied batches bs to the pool, and bs emptied.
func (p *Pipeline) returnBatches(bs []*batch) []*batch {
	for _, b := range bs {
		p.pool <- b
	}
	return bs[:0]
}

// prefetchAhead is how many packets of a batch ahead of the one handed
// to the worker the flow table's index slot is asked for (flow.Table's
// Prefetch): a flood's new flows each wait for one otherwise.
const prefetchAhead = 4

// packets hands w the packets of b. A memory fault (the mapped capture
// was cut by another process) drops the rest of the batch and is returned
// for the feeder to report.
func packets(w *worker, b *batch) (err error) {
	defer source.FaultIsError(b.source, &err)
	s, ws := b.sweeps, b.waits
	for i := range b.pkts {
		for len(ws) > 0 && ws[0].at == i {
			w.hostWait(&ws[0])
			ws = ws[1:]
		}
		for len(s) > 0 && s[0].at == i {
			w.at = order{n: s[0].n}
			w.sweep(s[0].t)
			s = s[1:]
		}
		if j := i + prefetchAhead; j < len(b.pkts) {
			w.table.Prefetch(&b.pkts[j])
		}
		p := &b.pkts[i]
		w.at, w.number = order{n: p.Number, phase: 1}, p.Number
		w.packet(p)
	}
	for i := range ws {
		w.hostWait(&ws[i])
	}
	for _, sw := range s {
		w.at = order{n: sw.n}
		w.sweep(sw.t)
	}
	w.passed.Store(sweepMark(b.upTo)) // before a wait too (hostWait): the others look only then
	return nil
}

// startTicks sends every worker the wall time each period.
func (p *Pipeline) startTicks(period time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				for _, ch := range p.in {
					ch <- &batch{tick: now}
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// NewFeeder returns a feeder for one source, named for the events and
// counters (an interface name for live capture). Feeders may run
// concurrently with each other only when the pipeline is concurrent.
func (p *Pipeline) NewFeeder(name string) *Feeder {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := newFeeder(p, name, len(p.feeders))
	p.feeders = append(p.feeders, f)
	return f
}

func (p *Pipeline) mainFeeder() *Feeder {
	if p.main == nil {
		p.main = p.NewFeeder("")
	}
	return p.main
}

// Feed reads src to its end (or ctx's) through the pipeline's own feeder.
func (p *Pipeline) Feed(ctx context.Context, src source.Source) error {
	return p.mainFeeder().Feed(ctx, src)
}

// Replay reads the capture files (or directories) at paths, in order, as one
// stream, then ends every flow. A damaged file stops at the bad record with a
// message in Stats.SourceErrors; the run goes on with the next file. The
// error is non-nil only when nothing at all could be read.
func (p *Pipeline) Replay(ctx context.Context, paths []string) (Stats, error) {
	start := time.Now()
	files, err := source.Expand(paths)
	if err != nil {
		return p.Snapshot(), err
	}
	var total int64
	for _, path := range files {
		if st, err := os.Stat(path); err == nil {
			total += st.Size()
		}
	}
	p.addReplay(func(s *Stats) { s.InputBytes = total })
	stopProgress := p.startProgress()
	for _, path := range files {
		if ctx.Err() != nil {
			break
		}
		p.addReplay(func(s *Stats) { s.Files++ })
		src, err := source.OpenFile(path)
		if err != nil {
			p.sourceError(err)
			continue
		}
		var tap Tap
		if p.cfg.OpenTap != nil {
			tap = p.cfg.OpenTap(path)
			p.mainFeeder().tap = tap
		}
		if err := p.Feed(ctx, src); err != nil {
			p.sourceError(err)
		}
		if tap != nil {
			p.mainFeeder().tap = nil
			tap.Done(src)
		}
		p.addReplay(func(s *Stats) { s.Clamped += src.Clamped() })
		src.Close()
	}
	stopProgress()
	p.Close()
	p.addReplay(func(s *Stats) { s.Wall = time.Since(start) })
	st := p.Snapshot()
	if st.Frames == 0 {
		if len(st.SourceErrors) > 0 {
			return st, fmt.Errorf("%w: %s", ErrNoPackets, st.SourceErrors[0])
		}
		return st, ErrNoPackets
	}
	return st, nil
}

func (p *Pipeline) addReplay(f func(*Stats)) {
	p.mu.Lock()
	f(&p.replay)
	p.mu.Unlock()
}

func (p *Pipeline) sourceError(err error) {
	p.addReplay(func(s *Stats) {
		s.FilesFailed++
		s.SourceErrors = append(s.SourceErrors, err.Error())
	})
	p.cfg.Log.Warn("capture input", "err", err)
}

// Close ends every flow, waits for the workers and publishes their final
// counters. Call it once, after every feeder has returned.
func (p *Pipeline) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	feeders := append([]*Feeder(nil), p.feeders...)
	p.mu.Unlock()
	p.stopTicks()
	if !p.concurrent {
		p.workers[0].finish()
		return
	}
	for _, f := range feeders {
		f.flush()
	}
	for _, ch := range p.in {
		close(ch)
	}
	p.wg.Wait()
	if p.seq != nil {
		p.seq.wait()
	}
}

// Snapshot returns the running totals; it is safe to call from any
// goroutine at any time (counters are published every few thousand packets
// and at every tick).
func (p *Pipeline) Snapshot() Stats {
	p.mu.Lock()
	st := p.replay
	st.SourceErrors = append([]string(nil), p.replay.SourceErrors...)
	feeders := append([]*Feeder(nil), p.feeders...)
	p.mu.Unlock()
	for _, f := range feeders {
		f.addTo(&st)
	}
	for _, w := range p.workers {
		w.addTo(&st)
	}
	if p.seq != nil {
		p.seq.out.addTo(&st)
		st.HeldPeak = p.seq.heldPeak()
	}
	st.Budget = p.cfg.Budget.Stats()
	if p.cfg.Hosts != nil {
		st.Hosts = p.cfg.Hosts.Stats()
	}
	return st
}

func (p *Pipeline) startProgress() (stop func()) {
	if p.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				p.cfg.Progress(p.Snapshot())
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
