// Package outputs delivers encoded events to where the SIEM reads them.
//
// A Sink only talks to its far end. The shared Runner around each sink owns
// the bounded queue, batching, retries with backoff, the disk spool and the
// counters, so every sink gets the same at-least-once delivery.
package outputs

import (
	"context"
	"errors"
	"strconv"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// Sink writes batches of records to one destination.
//
// The Runner calls Connect before the first Write and again after a Write
// returns ErrNotConnected. Write and Close are never called concurrently for
// one Sink. The records and their JSON are only valid during the call.
// A Write that fails part of a batch returns a *BatchError naming the failed
// records; any other error fails the whole batch.
type Sink interface {
	Connect(ctx context.Context) error
	Write(ctx context.Context, batch []schemas.Record) error
	Close(ctx context.Context) error
}

// ErrNotConnected tells the Runner to reconnect before retrying.
var ErrNotConnected = errors.New("outputs: not connected")

// BatchError reports which records of a batch failed; the others were
// delivered. Permanent failures (e.g. a mapping error) are not retried but
// dead-lettered and counted.
type BatchError struct {
	Failed    []int   // indices into the batch, retryable
	Permanent []int   // indices that must not be retried
	Reasons   []error // one per index in Failed then Permanent (may be shorter)
}

func (e *BatchError) Error() string {
	return "outputs: " + strconv.Itoa(len(e.Failed)) + " records failed, " + strconv.Itoa(len(e.Permanent)) + " rejected"
}

// DeliveryReporter is a Sink that knows more about delivery than its Write
// calls say: syslog has no acknowledgements, so a record it wrote may be
// sent twice after a reconnect, or lost with a receiver that crashed before
// reading it. The Runner adds these to its Stats and Summary.
type DeliveryReporter interface {
	DeliveryCounts() DeliveryCounts
}

// DeliveryCounts are counted among the records delivered (Stats.Sent).
type DeliveryCounts struct {
	Resent       uint64 // sent again after a reconnect: the far end may have them twice
	PossiblyLost uint64 // written to a connection that broke before they could be known to be read
	Duplicates   uint64 // the far end already held them (a store keyed by event.id) and kept no second copy
}
