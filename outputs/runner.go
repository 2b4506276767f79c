package outputs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// ErrClosed is returned by Enqueue after Close.
var ErrClosed = errors.New("outputs: runner closed")

// Option changes how a Runner is built.
type Option func(*runnerOptions)

type runnerOptions struct {
	log    *slog.Logger
	budget *budget.Budget
}

// WithLogger sets the logger for retries, spool events and dead letters
// (default slog.Default()). Record contents are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(o *runnerOptions) { o.log = l }
}

// WithBudget makes the queues draw on the process's memory budget (pool
// outputs): each holds a batch's worth from the start, and reserves the
// rest as records come. When the budget refuses, the output does what it
// does with a full queue (on_full) and counts the records
// (Stats.BudgetRefused). Without it the queues are bounded by their own
// limits only.
func WithBudget(b *budget.Budget) Option {
	return func(o *runnerOptions) { o.budget = b }
}

// Runner delivers records to one Sink with at-least-once semantics.
//
// Enqueue may be called from any goroutine. It copies each record's JSON into
// memory the Runner owns, so callers may reuse their buffers as soon as it
// returns. One delivery goroutine takes batches in order (batch_size,
// batch_bytes or flush_interval, whichever comes first) and calls the Sink.
//
// A failed Write is retried with exponential backoff (retry_min doubling to
// retry_max, with jitter); ErrNotConnected makes the next attempt Connect
// first. A *BatchError retries only its Failed records and dead-letters the
// Permanent ones. When the sink has failed for spool_after and a spool_dir is
// set, the batch in flight and the whole memory queue move to the disk spool,
// and every later record goes to the spool until the sink has drained it, so
// order is kept. A Runner opened on a spool directory that holds records
// delivers them before any new record.
type Runner struct {
	cfg   SinkConfig
	route Route
	sink  Sink
	log   *slog.Logger
	spool *spool // nil without spool_dir
	dead  *DeadLetter
	c     counters

	mu       sync.Mutex
	notFull  *sync.Cond
	q        ring
	routed   []schemas.Record // routeLocked's records of a write, before their copy
	firstAt  time.Time        // when the oldest record in q was enqueued
	spooling bool             // new records go to the spool (it holds undelivered records)
	closed   bool
	inFlight int   // records in the batch being delivered
	flBytes  int64 // and their bytes
	flCost   int64 // and the memory they hold (block.cost; 0 for a batch from the spool)
	flSpool  bool  // the batch in flight came from the spool (and is counted there)

	budget       *budget.Budget // pool outputs; nil: not drawn on
	reserved     int64          // bytes reserved on it: at least what q and the batch in flight hold, or floor
	floor        int64          // reserved from the start to the end: one batch
	budgetWarned bool           // the budget's first refusal was logged

	interrupted bool      // Interrupt was called: never wait for room again
	waiting     int       // Enqueue calls waiting for room
	blockWarned time.Time // last "the pipeline waits" warning
	lossLogged  time.Time // last "records lost" error

	wake   chan struct{} // capacity 1: something was enqueued
	stop   chan struct{} // closed by Close: flush and exit
	ctx    context.Context
	cancel context.CancelFunc // Close's deadline passed: abort in-flight calls
	done   chan struct{}      // closed when the delivery goroutine exits

	resumed int64 // records found in the spool at start
}

// NewRunner starts delivering to sink with cfg's queue, batching and retry
// settings (zero fields get their defaults). The Sink is owned by the Runner
// from now on: Close closes it.
func NewRunner(sink Sink, cfg SinkConfig, opts ...Option) (*Runner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	o := runnerOptions{log: slog.Default()}
	for _, f := range opts {
		f(&o)
	}
	r := &Runner{
		cfg:    cfg,
		sink:   sink,
		log:    o.log.With("output", cfg.Name, "type", cfg.Type),
		budget: o.budget,
		wake:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	r.route, _ = NewRoute(cfg) // checked by Validate
	r.notFull = sync.NewCond(&r.mu)
	r.q.init(cfg.QueueSize)
	if cfg.SpoolDir != "" {
		sp, err := openSpool(cfg.SpoolDir, int64(cfg.SpoolMaxBytes), r.log)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cfg.label(), err)
		}
		r.spool = sp
		r.resumed = sp.pending()
		r.spooling = r.resumed > 0
		if r.spooling {
			r.log.Info("resuming spool", "records", sp.pending(), "bytes", sp.size())
		}
	}
	if cfg.DeadLetter != "" {
		d, err := OpenDeadLetter(cfg.DeadLetter, cfg.Name)
		if err != nil {
			if r.spool != nil {
				r.spool.close()
			}
			return nil, fmt.Errorf("%s: dead_letter: %w", cfg.label(), err)
		}
		r.dead = d
	}
	r.reserveFloor()
	r.ctx, r.cancel = context.WithCancel(context.Background())
	go r.loop()
	return r, nil
}

// reserveFloor reserves a batch's worth for good, so that a queue keeps
// delivering at its pace while the rest of the budget is spent (a flood
// fills it with flows): what it holds beyond is reserved as it comes.
func (r *Runner) reserveFloor() {
	floor := min(int64(r.cfg.BatchBytes), int64(r.cfg.QueueBytes))
	if !r.budget.Reserve(budget.Outputs, floor) {
		r.log.Warn("the memory budget (limits.memory) has no room for a batch of this output's queue: it holds what the budget grants, at least one record")
		return
	}
	r.floor, r.reserved = floor, floor
}

// reserveLocked makes r.reserved cover what r holds and cost more, and
// reports whether the budget had the bytes; r.mu is held.
func (r *Runner) reserveLocked(cost int64) bool {
	need := r.q.cost + r.flCost + cost - r.reserved
	if need <= 0 {
		return true
	}
	if !r.budget.Reserve(budget.Outputs, need) {
		return false
	}
	r.reserved += need
	return true
}

// settleLocked gives back what r reserves beyond what it holds (and its
// floor), and wakes the producers waiting for it; r.mu is held.
func (r *Runner) settleLocked() {
	keep := max(r.q.cost+r.flCost, r.floor)
	if r.reserved > keep {
		r.budget.Release(budget.Outputs, r.reserved-keep)
		r.reserved = keep
		if r.waiting > 0 {
			r.notFull.Broadcast()
		}
	}
}

// budgetRefusedLocked counts n records the budget refused room to and
// says so the first time; r.mu is held.
func (r *Runner) budgetRefusedLocked(n int) {
	r.c.budgetRefused.Add(uint64(n))
	if !r.budgetWarned {
		r.budgetWarned = true
		r.log.Warn("the memory budget (limits.memory, pool outputs) refused this output's queue room: records wait, go to the spool or are dropped as on_full says, and are counted",
			"on_full", r.cfg.OnFull)
	}
}

// Name is the sink's configured name.
func (r *Runner) Name() string { return r.cfg.Name }

// Config is the runner's config with defaults applied.
func (r *Runner) Config() SinkConfig { return r.cfg }

// Enqueue hands records to the Runner. It copies their JSON (one allocation
// per call), so the caller keeps ownership of recs and may reuse them at
// once. When the memory queue is full it blocks, spools or drops according
// to on_full; with block it waits until there is room, Interrupt or Close.
// It returns ErrClosed after Close (records still waiting in a blocked call
// at Close are counted as lost), or a spool write error (the records are
// then counted as lost).
func (r *Runner) Enqueue(recs []schemas.Record) error {
	if len(recs) == 0 {
		return nil
	}
	return r.enqueueOwned(copyRecords(recs), nil, true)
}

// Interrupt ends waiting for room: from now on, with on_full: block, what
// does not fit in the memory queue goes to the spool, or is counted as
// lost without one. Shutdown calls it first, so that a down output cannot
// hold the pipeline; Close still delivers what is queued until its deadline.
func (r *Runner) Interrupt() {
	r.mu.Lock()
	r.interrupted = true
	r.notFull.Broadcast()
	r.mu.Unlock()
}

// enqueueOwned is Enqueue for records whose JSON the Runner may keep (and
// never modifies, so runners may share it) until it gives them back to
// blk, which holds them (nil: the JSON is the Runner's alone). wait false
// never blocks: with on_full: block, what does not fit is dropped (for
// reports that must not hold their sender, such as stats events).
func (r *Runner) enqueueOwned(owned []schemas.Record, blk *block, wait bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		blk.release(len(owned))
		return ErrClosed
	}
	if kept := r.routeLocked(owned); len(kept) < len(owned) {
		blk.release(len(owned))
		owned, blk = kept, nil
	}
	// what is not in the queue when this returns was spooled (a copy),
	// dropped or lost
	defer func() { blk.release(len(owned)) }()
	r.c.offered.Add(uint64(len(owned)))
	whole, budgetRefused := len(owned), false
	for len(owned) > 0 {
		if r.closed {
			r.loseLocked(len(owned), "output closed while records waited for room")
			return ErrClosed
		}
		if r.spooling {
			// with on_full: block, a spool that cannot take more (a full
			// disk) makes the producer wait, as a full queue does
			canWait := wait && r.cfg.OnFull == PolicyBlock && !r.interrupted
			if err := r.toSpoolLocked(owned, canWait); err != errSpoolWait {
				return err
			}
			r.waitRoomLocked()
			continue
		}
		n, cost := r.q.room(r.cfg.QueueSize, int64(r.cfg.QueueBytes), r.flCost, owned, blk)
		if n > 0 && !r.reserveLocked(cost) {
			// only what the queue holds reserved already fits
			n, _ = r.q.room(r.cfg.QueueSize, min(int64(r.cfg.QueueBytes), r.reserved), r.flCost, owned, blk)
			if !budgetRefused {
				budgetRefused = true
				r.budgetRefusedLocked(len(owned) - n)
			}
		}
		if n > 0 {
			wasEmpty := r.q.n == 0
			if wasEmpty {
				r.firstAt = time.Now()
			}
			take, from := owned[:n], blk
			waits := r.cfg.OnFull == PolicyBlock && wait && !r.interrupted // the rest follows
			if blk != nil && !waits && (n < len(owned) || len(owned) < whole) {
				// the rest goes elsewhere (dropped, spooled): the queue
				// keeps a copy of its part, not the whole block
				take, from = copyRecords(take), nil
				blk.release(n)
			}
			r.q.push(take, from)
			r.c.enqueued.Add(uint64(n))
			owned = owned[n:]
			if wasEmpty || r.q.n >= r.cfg.BatchSize || r.q.bytes >= int64(r.cfg.BatchBytes) {
				r.signal()
			}
			continue
		}
		switch {
		case r.cfg.OnFull == PolicySpool || (r.interrupted && r.spool != nil):
			r.spooling = true
			return r.toSpoolLocked(owned, false)
		case r.cfg.OnFull == PolicyDrop || !wait:
			r.c.dropped.Add(uint64(len(owned)))
			return nil
		case r.interrupted:
			r.loseLocked(len(owned), "shutting down with the queue full and no spool")
			return nil
		default:
			r.waitRoomLocked()
		}
	}
	return nil
}

// routeLocked returns the records of owned the route passes and counts
// the rest: owned itself when it passes them all (other runners share
// it), else a copy of the few it keeps, which must not hold the whole
// block. They are gathered in r.routed, used again by every write.
func (r *Runner) routeLocked(owned []schemas.Record) []schemas.Record {
	if r.route.All() {
		return owned
	}
	kept := r.routed[:0]
	for i := range owned {
		if r.route.Match(&owned[i]) {
			kept = append(kept, owned[i])
		}
	}
	out := owned
	if n := len(owned) - len(kept); n > 0 {
		r.c.filtered.Add(uint64(n))
		out = copyRecords(kept)
	}
	clear(kept) // holds no record past this write
	r.routed = kept[:0]
	return out
}

// blockWarnEvery is how often a blocked output says that it holds the
// pipeline.
const blockWarnEvery = 30 * time.Second

// waitRoomLocked waits for room in the queue (on_full: block); r.mu is held.
func (r *Runner) waitRoomLocked() {
	if time.Since(r.blockWarned) >= blockWarnEvery {
		r.blockWarned = time.Now()
		r.log.Warn("output queue full: the pipeline waits for this output (on_full: block)",
			"queue", r.q.n, "last_error", r.c.lastError())
	}
	r.signal() // a partial batch goes now: it makes room
	r.waiting++
	r.notFull.Wait()
	r.waiting--
}

// loseLocked counts n records as lost and says so (at most once a second,
// with the total); r.mu is held.
func (r *Runner) loseLocked(n int, why string) {
	total := r.c.lost.Add(uint64(n))
	if time.Since(r.lossLogged) >= time.Second {
		r.lossLogged = time.Now()
		r.log.Error("records lost", "records", n, "lost_total", total, "reason", why)
	}
}

// errSpoolWait: the spool write failed and the caller waits to try again.
var errSpoolWait = errors.New("spool write failed: wait")

// toSpoolLocked appends recs to the spool; r.mu is held. When the write
// fails it counts them as lost, or returns errSpoolWait when canWait.
func (r *Runner) toSpoolLocked(recs []schemas.Record, canWait bool) error {
	dropped, err := r.spool.append(recs)
	if dropped > 0 {
		r.c.dropped.Add(uint64(dropped))
		r.log.Warn("spool full, dropped its oldest records", "records", dropped, "max_bytes", int64(r.cfg.SpoolMaxBytes))
	}
	if err != nil {
		r.c.fail(err)
		if canWait {
			return errSpoolWait
		}
		r.loseLocked(len(recs), "spool write failed: "+err.Error())
		return fmt.Errorf("%s: spool: %w", r.cfg.label(), err)
	}
	r.c.enqueued.Add(uint64(len(recs)))
	r.c.spooled.Add(uint64(len(recs)))
	r.signal()
	return nil
}

func (r *Runner) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Stats returns a snapshot of the counters.
func (r *Runner) Stats() Stats {
	s := Stats{Name: r.cfg.Name, Type: r.cfg.Type, Resumed: uint64(r.resumed)}
	r.c.fill(&s)
	r.mu.Lock()
	s.QueueLen, s.QueueBytes = r.q.n, r.q.bytes
	if !r.flSpool { // a batch read from the spool is still counted there
		s.QueueLen += r.inFlight
		s.QueueBytes += r.flBytes
	}
	s.Blocked = r.waiting
	r.mu.Unlock()
	if dr, ok := r.sink.(DeliveryReporter); ok {
		dc := dr.DeliveryCounts()
		s.Resent, s.PossiblyLost, s.Duplicates = dc.Resent, dc.PossiblyLost, dc.Duplicates
	}
	if r.spool != nil {
		s.SpoolRecords = r.spool.pending()
		s.SpoolBytes = r.spool.size()
		s.SpoolCorrupt = r.spool.corruptBytes()
		s.Lost += uint64(r.spool.lostRecords())
	}
	return s
}

// Close stops accepting records and delivers what is queued until ctx is
// done. An output with a spool whose first attempt after Close fails does
// not wait for the deadline: what it holds goes to the spool at once. At ctx's deadline it
// aborts the call in flight and moves what is still in memory to the spool
// (or counts it as Lost without one). Then it closes the Sink. The error is
// non-nil when something was not delivered; the Summary says exactly what.
// Call Close once.
func (r *Runner) Close(ctx context.Context) (Summary, error) {
	r.mu.Lock()
	r.closed = true
	r.notFull.Broadcast()
	r.mu.Unlock()
	close(r.stop)
	select {
	case <-r.done:
	case <-ctx.Done():
		r.cancel()
		<-r.done
	}
	r.cancel()
	var errs []error
	cctx, cancel := context.WithCancel(ctx)
	if ctx.Err() != nil {
		// the deadline passed: still give the sink a moment to close
		cctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), closeGrace)
	}
	if err := r.sink.Close(cctx); err != nil {
		errs = append(errs, fmt.Errorf("%s: close: %w", r.cfg.label(), err))
	}
	cancel()
	r.mu.Lock()
	r.budget.Release(budget.Outputs, r.reserved)
	r.reserved, r.floor = 0, 0
	r.mu.Unlock()
	st := r.Stats()
	sum := Summary{
		Name: r.cfg.Name, Offered: st.Offered, Filtered: st.Filtered, Resumed: st.Resumed, Sent: st.Sent, DeadLettered: st.DeadLettered,
		Dropped: st.Dropped, Lost: st.Lost, SpoolRecords: st.SpoolRecords, SpoolBytes: st.SpoolBytes, SpoolDir: r.cfg.SpoolDir,
		Resent: st.Resent, PossiblyLost: st.PossiblyLost, Duplicates: st.Duplicates,
	}
	if r.spool != nil {
		if err := r.spool.close(); err != nil {
			errs = append(errs, fmt.Errorf("%s: spool: %w", r.cfg.label(), err))
		}
	}
	if r.dead != nil {
		if err := r.dead.Close(); err != nil {
			errs = append(errs, fmt.Errorf("%s: dead_letter: %w", r.cfg.label(), err))
		}
	}
	if !sum.Clean() {
		errs = append(errs, errors.New(sum.String()))
	}
	return sum, errors.Join(errs...)
}

// closeGrace is what a sink gets to close after Close's deadline passed.
const closeGrace = time.Second

// batch is what the delivery goroutine is sending.
type batch struct {
	held
	fromSpool bool
	cur       spoolCursor // commit point when fromSpool
}

func (r *Runner) loop() {
	defer close(r.done)
	var (
		b            batch
		connected    bool
		tried        bool
		failingSince time.Time
		backoff      = r.cfg.RetryMin
	)
	// stopping wakes a backoff wait at Close, when a spool can take over
	var stopping <-chan struct{}
	if r.spool != nil {
		stopping = r.stop
	}
	for {
		if len(b.recs) == 0 {
			if !r.next(&b) {
				if r.ctx.Err() != nil {
					r.abort(&b)
				}
				return
			}
		}
		if r.ctx.Err() != nil {
			r.abort(&b)
			return
		}
		closing := r.spool != nil && r.isClosed()
		err := r.deliver(&b, &connected, &tried)
		if err == nil {
			failingSince, backoff = time.Time{}, r.cfg.RetryMin
			continue
		}
		r.c.fail(err)
		if errors.Is(err, ErrNotConnected) {
			connected = false
		}
		now := time.Now()
		if failingSince.IsZero() {
			failingSince = now
		}
		if closing {
			// an attempt begun after Close failed: the spool keeps it all
			r.log.Warn("output failing at shutdown, keeping its records in the spool", "err", err)
			r.abort(&b)
			return
		}
		if len(b.recs) > 0 {
			r.c.retried.Add(uint64(len(b.recs)))
		}
		wait := backoff + rand.N(backoff/4+1)
		r.log.Warn("output failed, retrying", "err", err, "records", len(b.recs), "in", wait.Round(time.Millisecond))
		backoff = min(backoff*2, r.cfg.RetryMax)
		spillAt := failingSince.Add(r.cfg.SpoolAfter)
		canSpill := r.spool != nil && !b.fromSpool
		if canSpill {
			// spool_after counts from the first failure, not from a retry
			wait = max(min(wait, time.Until(spillAt)), 0)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-stopping:
		case <-r.ctx.Done():
		}
		t.Stop()
		r.mu.Lock()
		r.notFull.Broadcast() // a producer waiting on a full spool disk tries again
		r.mu.Unlock()
		if canSpill && !time.Now().Before(spillAt) {
			r.spill(&b)
		}
	}
}

func (r *Runner) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// deliver sends b once, connecting first if needed. On success or partial
// success it shrinks b to what must be retried.
func (r *Runner) deliver(b *batch, connected, tried *bool) error {
	if !*connected {
		ctx, cancel := context.WithTimeout(r.ctx, r.cfg.WriteTimeout)
		err := r.sink.Connect(ctx)
		cancel()
		if *tried {
			r.c.reconnects.Add(1)
		}
		*tried = true
		if err != nil {
			return fmt.Errorf("connect: %w", err)
		}
		*connected = true
	}
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.WriteTimeout)
	start := time.Now()
	err := r.sink.Write(ctx, b.recs)
	r.c.observe(time.Since(start))
	cancel()
	var be *BatchError
	switch {
	case err == nil:
		r.c.sent.Add(uint64(len(b.recs)))
		r.done1(b, nil)
		return nil
	case errors.As(err, &be):
		r.done1(b, r.partial(b.recs, be))
		if len(b.recs) == 0 {
			return nil
		}
		return err
	default:
		return err
	}
}

// partial counts a BatchError's outcome and returns which records to retry.
func (r *Runner) partial(recs []schemas.Record, be *BatchError) (failed []bool) {
	failed = make([]bool, len(recs))
	perm := make([]bool, len(recs))
	for _, i := range be.Failed {
		if i >= 0 && i < len(recs) {
			failed[i] = true
		}
	}
	for k, i := range be.Permanent {
		if i >= 0 && i < len(recs) && !failed[i] {
			perm[i] = true
			var reason error
			if j := len(be.Failed) + k; j < len(be.Reasons) {
				reason = be.Reasons[j]
			}
			r.deadLetter(recs[i], reason)
		}
	}
	sent := 0
	for i := range recs {
		if !failed[i] && !perm[i] {
			sent++
		}
	}
	r.c.sent.Add(uint64(sent))
	return failed
}

func (r *Runner) deadLetter(rec schemas.Record, reason error) {
	r.c.deadLettered.Add(1)
	msg := "rejected"
	if reason != nil {
		msg = reason.Error()
	}
	if r.dead != nil {
		if err := r.dead.Write(rec, msg); err == nil {
			return
		} else {
			r.log.Error("dead_letter write failed", "err", err)
		}
	}
	r.log.Warn("record rejected for good", "dataset", rec.Dataset, "time", rec.Time, "reason", msg)
}

// done1 records that b was (partly) delivered: what remains are the
// records whose keep[i] is true (nil: none).
func (r *Runner) done1(b *batch, keep []bool) {
	b.keep(keep)
	if len(b.recs) == 0 && b.fromSpool {
		if err := r.spool.commit(b.cur); err != nil {
			r.c.fail(err)
			r.log.Error("spool commit failed; records may be sent again", "err", err)
		}
	}
	if b.fromSpool {
		r.notFull.Broadcast() // the spool has room again, or will be empty
	}
	r.mu.Lock()
	r.setInFlightLocked(b)
	r.mu.Unlock()
}

// next fills b with the next batch, waiting for it to fill up or age. It
// returns false when the Runner is closed and everything was delivered.
func (r *Runner) next(b *batch) bool {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if r.ctx.Err() != nil {
			return false
		}
		r.mu.Lock()
		stopping := r.closed
		if r.q.n > 0 {
			age := time.Since(r.firstAt)
			if stopping || r.waiting > 0 || r.q.n >= r.cfg.BatchSize || r.q.bytes >= int64(r.cfg.BatchBytes) || age >= r.cfg.FlushInterval {
				r.q.pop(&b.held, r.cfg.BatchSize, int64(r.cfg.BatchBytes))
				b.fromSpool = false
				r.firstAt = time.Now() // the rest waits at most one more interval
				r.setInFlightLocked(b)
				r.notFull.Broadcast()
				r.mu.Unlock()
				return true
			}
			wait := r.cfg.FlushInterval - age
			r.mu.Unlock()
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			select {
			case <-r.wake:
			case <-timer.C:
			case <-r.stop:
			case <-r.ctx.Done():
			}
			continue
		}
		if r.spool != nil && r.spooling {
			if r.spool.unread() == 0 && r.spool.pending() == 0 {
				r.spooling = false
				r.notFull.Broadcast()
				r.mu.Unlock()
				continue
			}
			r.mu.Unlock()
			if r.spool.unread() > 0 {
				recs, cur, err := r.spool.read(b.recs[:0], r.cfg.BatchSize, int64(r.cfg.BatchBytes))
				if err != nil {
					r.c.fail(err)
					r.log.Error("spool read failed", "err", err)
				}
				if len(recs) > 0 {
					b.own(recs)
					b.fromSpool, b.cur = true, cur
					r.mu.Lock()
					r.setInFlightLocked(b)
					r.mu.Unlock()
					return true
				}
				if err == nil {
					continue
				}
			}
		} else {
			r.mu.Unlock()
			if stopping {
				return false
			}
		}
		select {
		case <-r.wake:
		case <-r.stop:
			if stopping {
				// the spool is stuck (read error): nothing more to do
				return false
			}
		case <-r.ctx.Done():
		}
	}
}

// spill moves the batch in flight and the memory queue to the spool,
// in order, and sends every later record there too.
func (r *Runner) spill(b *batch) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.q.pop(&b.held, r.q.n, 1<<62)
	recs := b.recs
	r.notFull.Broadcast()
	if len(recs) == 0 {
		return
	}
	var dropped int
	var err error
	if r.spool.pending() > 0 {
		// the spool holds newer records (on_full: spool): put ours first
		err = r.spool.prepend(recs)
	} else {
		dropped, err = r.spool.append(recs)
	}
	r.c.dropped.Add(uint64(dropped))
	if err != nil {
		r.c.fail(err)
		r.log.Error("spool write failed, keeping records in memory", "err", err)
		// b holds it all now: it stays in memory and is retried
		r.setInFlightLocked(b)
		return
	}
	r.c.spooled.Add(uint64(len(recs)))
	r.log.Warn("output down, records moved to the spool", "records", len(recs))
	r.spooling = true
	b.release() // the spool has its copy
	r.setInFlightLocked(b)
}

// abort runs when Close's deadline passed (or at Close with a failing
// output and a spool): keep what is in memory in the spool, or count it as
// lost.
func (r *Runner) abort(b *batch) {
	if b.fromSpool {
		b.release() // still in the spool, uncommitted
	}
	if r.spool != nil {
		r.spill(b)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if lost := len(b.recs) + r.q.n; lost > 0 {
		r.loseLocked(lost, "output closed before delivery")
	}
	r.q.pop(&b.held, r.q.n, 1<<62)
	b.release()
	r.setInFlightLocked(b)
}

// setInFlightLocked notes what the batch in flight holds now, and gives
// back the budget it no longer needs; r.mu is held.
func (r *Runner) setInFlightLocked(b *batch) {
	r.inFlight, r.flBytes, r.flSpool, r.flCost = len(b.recs), bytesOf(b.recs), b.fromSpool, 0
	if !b.fromSpool {
		r.flCost = b.cost()
	}
	r.settleLocked()
}

func bytesOf(recs []schemas.Record) int64 {
	var n int64
	for i := range recs {
		n += int64(len(recs[i].JSON))
	}
	return n
}
