package pipeline

import (
	"context"
	"log/slog"
	"runtime/pprof"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// outBatch is a worker's encoded events on their way to the output, their
// event.ids not worked out yet (schemas.EncodePending): deliver does it,
// two at a time, on the delivery's goroutine or, without one, the
// worker's.
type outBatch struct {
	recs  []schemas.Record
	ids   []schemas.PendingID // recs[i]'s id
	arena []byte              // the JSON of recs, back to back
	errs  uint64              // Output.Write calls that failed
	// refused is the output's count of records the budget refused room
	// (BudgetRefusals), read after its last Write: 0 if it does not count
	refused uint64
}

// deliver writes the records' ids into their JSON (through ids) and the
// records to out (nil: nowhere), then empties b.
func (b *outBatch) deliver(out Output, log *slog.Logger, ids *schemas.IDFiller) {
	ids.Fill(b.ids, b.recs)
	if out != nil {
		if err := out.Write(b.recs); err != nil {
			b.errs++
			log.Error("output", "err", err)
		}
		if r, ok := out.(BudgetRefusals); ok {
			b.refused = r.BudgetRefused()
		}
	}
	clear(b.recs) // their strings are not ours to keep alive
	b.recs, b.ids, b.arena = b.recs[:0], b.ids[:0], b.arena[:0]
}

// delivery delivers a worker's outBatches on a goroutine of its own, in
// the order handed. A worker that has a CPU to spare (fewer workers than
// GOMAXPROCS) goes on with its next packets meanwhile: on bench-large
// with one worker, the ids' SHA-256 and the output's copy of the records
// were about 7 % of the worker's goroutine, the bottleneck of the run.
type delivery struct {
	out  Output
	log  *slog.Logger
	todo chan *outBatch
	free chan *outBatch
	done chan struct{}
	ids  schemas.IDFiller
}

// deliveryBatches is how many outBatches a delivery and its worker share:
// one the worker fills, one delivered, one handed and waiting. The worker
// waits for an empty one only when the output is slower than it.
const deliveryBatches = 3

// startDelivery starts the delivery of a worker's events to out, and
// returns it with the batch the worker fills first.
func startDelivery(out Output, log *slog.Logger) (*delivery, *outBatch) {
	d := &delivery{out: out, log: log, todo: make(chan *outBatch, deliveryBatches),
		free: make(chan *outBatch, deliveryBatches), done: make(chan struct{})}
	for range deliveryBatches - 1 {
		d.free <- &outBatch{}
	}
	go d.run()
	return d, &outBatch{}
}

func (d *delivery) run() {
	defer close(d.done)
	pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("stage", "delivery")))
	for b := range d.todo {
		b.deliver(d.out, d.log, &d.ids)
		d.free <- b // room for every batch
	}
}

// hand queues b for delivery and returns an empty batch: always the one
// handed two before b (the free batches come back in the order they were
// delivered, and that one is delivered before the one after it starts),
// with its failed writes and the refusals seen after it.
func (d *delivery) hand(b *outBatch) *outBatch {
	d.todo <- b
	return <-d.free
}

// close waits until every batch handed is delivered, ends the delivery's
// goroutine, and returns the failed writes not yet counted.
func (d *delivery) close() uint64 {
	close(d.todo)
	<-d.done
	var errs uint64
	for range deliveryBatches - 1 {
		b := <-d.free
		errs += b.errs
		b.errs = 0
	}
	return errs
}
