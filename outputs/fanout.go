package outputs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// Fanout sends every record to several Runners. It is what the pipeline
// writes to; each Runner has its own queue, so a slow sink only slows the
// pipeline when its own on_full policy is block.
type Fanout struct {
	runners []*Runner
	blocks  blockPool // the copies of what is written, used again
}

// NewFanout groups runners that are already started.
func NewFanout(runners ...*Runner) *Fanout {
	return &Fanout{runners: runners}
}

// Open builds a sink through the registry and a Runner around it for each
// config, in order. Names (defaulting to the type) and spool directories
// must be unique. On error, the runners already started are closed.
func Open(cfgs []SinkConfig, opts ...Option) (*Fanout, error) {
	var errs []error
	names := map[string]bool{}
	spools := map[string]string{}
	for i, c := range cfgs {
		c = c.WithDefaults()
		if names[c.Name] {
			errs = append(errs, fmt.Errorf("outputs[%d]: name %q is used twice (set name:)", i, c.Name))
		}
		names[c.Name] = true
		if c.SpoolDir != "" {
			if other, dup := spools[c.SpoolDir]; dup {
				errs = append(errs, fmt.Errorf("outputs[%d]: spool_dir is also used by %q", i, other))
			}
			spools[c.SpoolDir] = c.Name
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	f := &Fanout{}
	for _, c := range cfgs {
		s, err := NewSink(c)
		if err == nil {
			var r *Runner
			r, err = NewRunner(s, c, opts...)
			if err == nil {
				f.runners = append(f.runners, r)
				continue
			}
			s.Close(context.Background())
		}
		f.Close(context.Background())
		return nil, err
	}
	return f, nil
}

// Runners returns the runners, in config order.
func (f *Fanout) Runners() []*Runner { return slices.Clone(f.runners) }

// Write enqueues recs on every runner. Like Runner.Enqueue it copies the
// JSON (once, shared read-only by the runners, into memory of an earlier
// write that every runner is done with), so the caller keeps recs.
// It returns the runners' errors joined.
func (f *Fanout) Write(recs []schemas.Record) error { return f.write(recs, true) }

// TryWrite is Write that never waits: an output with on_full: block and a
// full queue counts recs as dropped. It is for reports (stats events,
// peaks) whose sender must keep running when an output is down.
func (f *Fanout) TryWrite(recs []schemas.Record) error { return f.write(recs, false) }

// Interrupt ends every runner's waiting for room (Runner.Interrupt), so
// that a down output cannot hold a shutdown.
func (f *Fanout) Interrupt() {
	for _, r := range f.runners {
		r.Interrupt()
	}
}

func (f *Fanout) write(recs []schemas.Record, wait bool) error {
	if len(recs) == 0 || len(f.runners) == 0 {
		return nil
	}
	blk := f.blocks.fill(recs, len(f.runners))
	var errs []error
	for _, r := range f.runners {
		if err := r.enqueueOwned(blk.recs, blk, wait); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// BudgetRefused counts the records the memory budget refused room in the
// runners' queues (Stats.BudgetRefused), all runners together
// (pipeline.BudgetRefusals).
func (f *Fanout) BudgetRefused() uint64 {
	var n uint64
	for _, r := range f.runners {
		n += r.c.budgetRefused.Load()
	}
	return n
}

// Stats returns one snapshot per runner, in config order.
func (f *Fanout) Stats() []Stats {
	out := make([]Stats, len(f.runners))
	for i, r := range f.runners {
		out[i] = r.Stats()
	}
	return out
}

// Close closes every runner in parallel under the same ctx and returns
// their summaries in config order.
func (f *Fanout) Close(ctx context.Context) ([]Summary, error) {
	sums := make([]Summary, len(f.runners))
	errs := make([]error, len(f.runners))
	var wg sync.WaitGroup
	for i, r := range f.runners {
		wg.Go(func() { sums[i], errs[i] = r.Close(ctx) })
	}
	wg.Wait()
	return sums, errors.Join(errs...)
}
