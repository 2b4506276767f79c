package outputs

import (
	"sync"
	"sync/atomic"
	"time"
)

// LatencyBuckets are the upper bounds of Stats.Latency.Buckets (the last
// bucket counts everything slower).
var LatencyBuckets = [...]time.Duration{
	time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 500 * time.Millisecond, time.Second, 5 * time.Second,
}

// Latency is a histogram of the time one successful or failed Write took.
type Latency struct {
	Count   uint64
	Sum     time.Duration
	Max     time.Duration
	Buckets [len(LatencyBuckets) + 1]uint64 // Buckets[i] counts writes <= LatencyBuckets[i] (not cumulative)
}

// Avg is Sum/Count (zero when nothing was written).
func (l Latency) Avg() time.Duration {
	if l.Count == 0 {
		return 0
	}
	return l.Sum / time.Duration(l.Count)
}

// Stats is a snapshot of one runner's counters. Counters count records and
// only grow; the gauges say what is held right now.
//
// Every record given to the runner is at any time in exactly one place:
// Offered + Resumed = Sent + DeadLettered + Dropped + Lost + QueueLen +
// SpoolRecords (give or take the records of an Enqueue call in progress).
type Stats struct {
	Name string
	Type string

	Offered      uint64 // records given to Enqueue (or Fanout.Write) before Close that the route passed
	Filtered     uint64 // records the route (datasets, min_severity, rules) left out; not in Offered
	Resumed      uint64 // records found in the spool at start
	Enqueued     uint64 // records accepted by Enqueue (into memory or the spool)
	Sent         uint64 // records the sink accepted
	Retried      uint64 // record deliveries that failed and were tried again
	Spooled      uint64 // records written to the disk spool (also those delivered from it since)
	Dropped      uint64 // records discarded by policy: full queue with on_full: drop, spool over spool_max_bytes, a stats event that found the queue full
	Lost         uint64 // records discarded by a failure: spool write error, corrupt spool, shutdown with no spool to keep them
	DeadLettered uint64 // records the far end rejected for good
	Resent       uint64 // of Sent: sent again after a reconnect, possibly twice at the far end (DeliveryReporter)
	PossiblyLost uint64 // of Sent: written to a connection that broke before they were known to be read (DeliveryReporter)
	Duplicates   uint64 // of Sent: already held by the far end, not kept twice (DeliveryReporter)
	Errors       uint64 // failed Connect or Write calls
	Reconnects   uint64 // Connect calls after the first one (failed or not)
	// BudgetRefused counts records the memory budget refused queue room
	// (WithBudget); each then waited, went to the spool or was dropped as
	// on_full says (and is counted there).
	BudgetRefused uint64

	QueueLen     int   // gauge: records in memory (queue plus the batch in flight)
	QueueBytes   int64 // gauge: their JSON bytes
	Blocked      int   // gauge: Enqueue calls waiting for room (on_full: block)
	SpoolRecords int64 // gauge: records in the spool not yet delivered
	SpoolBytes   int64 // gauge: bytes of spool segment files on disk
	SpoolCorrupt int64 // bytes of corrupt spool data truncated (each logged)

	LastError     string
	LastErrorTime time.Time
	Latency       Latency
}

// counters are the runner's live counters (atomics, read by Stats).
type counters struct {
	offered, filtered, enqueued, sent, retried, spooled, dropped, lost, deadLettered, errors, reconnects, budgetRefused atomic.Uint64

	lmu     sync.Mutex
	latency Latency
	lastErr string
	lastAt  time.Time
}

func (c *counters) observe(d time.Duration) {
	i := 0
	for i < len(LatencyBuckets) && d > LatencyBuckets[i] {
		i++
	}
	c.lmu.Lock()
	c.latency.Count++
	c.latency.Sum += d
	c.latency.Max = max(c.latency.Max, d)
	c.latency.Buckets[i]++
	c.lmu.Unlock()
}

func (c *counters) fail(err error) {
	c.errors.Add(1)
	c.lmu.Lock()
	c.lastErr = err.Error()
	c.lastAt = time.Now()
	c.lmu.Unlock()
}

func (c *counters) lastError() string {
	c.lmu.Lock()
	defer c.lmu.Unlock()
	return c.lastErr
}

func (c *counters) fill(s *Stats) {
	s.Offered = c.offered.Load()
	s.Filtered = c.filtered.Load()
	s.Lost = c.lost.Load()
	s.Enqueued = c.enqueued.Load()
	s.Sent = c.sent.Load()
	s.Retried = c.retried.Load()
	s.Spooled = c.spooled.Load()
	s.Dropped = c.dropped.Load()
	s.DeadLettered = c.deadLettered.Load()
	s.Errors = c.errors.Load()
	s.Reconnects = c.reconnects.Load()
	s.BudgetRefused = c.budgetRefused.Load()
	c.lmu.Lock()
	s.Latency = c.latency
	s.LastError = Redact(c.lastErr)
	s.LastErrorTime = c.lastAt
	c.lmu.Unlock()
}
