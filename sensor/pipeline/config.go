// Package pipeline runs the sensor's hot path: it reads frames from sources,
// decodes them, shards them by a symmetric flow hash to workers that own
// their flows (no locks), and hands each worker's encoded events to the
// output. With one worker the events come out in capture order, so in the
// same order on every run.
package pipeline

import (
	"log/slog"
	"net/netip"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/app"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
	"github.com/packetsleuth/packetsleuth/sensor/hosts"
	"github.com/packetsleuth/packetsleuth/sensor/identity"
	"github.com/packetsleuth/packetsleuth/sensor/source"
)

// Output receives encoded events. Write may be called by several workers at
// once; recs and their JSON are only valid during the call.
type Output interface {
	Write(recs []schemas.Record) error
}

// BudgetRefusals is an Output whose queues draw on the memory budget
// (outputs.Fanout): BudgetRefused counts the records it refused room. A
// worker that sees the count grow reports a limit.memory anomaly.
type BudgetRefusals interface {
	BudgetRefused() uint64
}

// Enricher adds context to an event before rules see it. One per worker.
type Enricher interface {
	Enrich(ev *schemas.Event)
}

// AddrReader is an optional interface of an Enricher or a Detector: before
// a flow event the worker tells it the addresses the event's source.ip and
// destination.ip were printed from, which it then need not parse.
type AddrReader interface {
	AddrsPrinted(src, dst netip.Addr, srcText, dstText string)
}

// Detector evaluates rules on an event and emits alerts. One per worker; not
// safe for concurrent use. emit's event is only valid during the call.
type Detector interface {
	Eval(ev *schemas.Event, emit func(alert *schemas.Event))
}

// StatsPublisher is an optional interface of a Detector or an Enricher:
// the worker calls Publish on its own goroutine each time it publishes its
// counters, so the implementation can copy counters only that goroutine may
// read (e.g. rules.Evaluator.Stats) for others to see.
type StatsPublisher interface {
	Publish()
}

// BudgetUser is an optional interface of a Detector or an Enricher: the
// worker calls UseBudget once, before the first event, with its own
// Account of Config.Budget, so state that grows with traffic (e.g. rule
// thresholds, pool budget.Rules) draws on the process's one budget.
type BudgetUser interface {
	UseBudget(acct *budget.Account)
}

// Config is what a pipeline run needs. Zero values take defaults.
type Config struct {
	Workers int
	// Budget is the process's memory budget: each worker draws on it
	// through its own Account (worker.acct), given to its flow table,
	// application layer, and Detector and Enricher if they are
	// BudgetUsers; each feeder's decoder has one for IP fragments.
	// nil: nothing is limited.
	Budget *budget.Budget
	Flow   flow.Config
	Defrag decode.DefragConfig
	// Live marks live capture: a channel in front of every worker (feeders
	// run concurrently), wall-clock ticks that end idle flows, and packets
	// tagged with their feeder's index (see Interfaces).
	Live bool
	// Inline runs a replay with one worker on the caller's goroutine: the
	// feeder calls the worker for each packet. Otherwise, when the process
	// may use more than one CPU (GOMAXPROCS), that worker has a goroutine
	// of its own, as several workers have: the capture is read and decoded
	// on one core while the packets before are analysed on another. The
	// events are the same, in capture order, either way.
	Inline bool
	// Interfaces names the live feeders by index, for the time series.
	Interfaces []string
	// Timeseries turns on 1-second traffic buckets (packetsleuth.timeseries).
	Timeseries bool
	// App configures the parsers; FlowsOnly turns them off (flow events only).
	App       app.Config
	FlowsOnly bool
	// AnomaliesPerSecond caps anomaly events per kind per second of packet
	// time (0: anomaly.DefaultPerSecond): once for all workers of a replay
	// (the sequencer judges), per worker in live capture.
	AnomaliesPerSecond int
	BPF                string
	Observer           schemas.Observer
	// Identity stamps every event with the sensor's agent and tags (nil: none).
	Identity *identity.Identity
	// Hosts is the lease table shared by the workers (nil: none): DHCP
	// events feed it and every event is named by it, before the enricher
	// and the rules see the event.
	Hosts  *hosts.Table
	Output Output
	// NewEnricher and NewDetector make each worker's own instance; nil means
	// no enrichment or no rules.
	NewEnricher func() Enricher
	NewDetector func() Detector
	Log         *slog.Logger
	// Progress, if set, is called about once a second with the running
	// totals (for a progress line on a terminal).
	Progress func(Stats)
	// OpenTap, if set, gives a Tap for each capture file a Replay reads
	// (replay --index builds the packet index of each with it).
	OpenTap func(path string) Tap
	// OpenLiveTap, if set, gives each live feeder a LiveTap (the packet
	// ring), by the feeder's interface index.
	OpenLiveTap func(iface int) LiveTap
}

// Tap sees every frame of a capture file that passed the BPF filter, with
// the decoder's verdict on it, on the feeder's goroutine.
type Tap interface {
	Frame(fr *source.Frame, st decode.Status, p *decode.Packet)
	// Done ends the file; src is its reader, at its end.
	Done(src *source.File)
}

// LiveTap sees every frame a live feeder decodes, on the feeder's
// goroutine, and must not block. Flush is called when the source is idle
// and when the feeder ends.
type LiveTap interface {
	Frame(fr *source.Frame, st decode.Status, p *decode.Packet)
	Flush()
}

func (c *Config) interfaceName(i int) string {
	if i < len(c.Interfaces) {
		return c.Interfaces[i]
	}
	return ""
}
