// Package pcapring keeps the packets of live capture on disk: rotating
// pcapng files, each with the packet index of sensor replay --index (so
// sensor carve and the pcap download find flows in them), within a disk
// budget (oldest files first) and an age, optionally only the first bytes
// of each flow or only the flows that raised an alert (with a look-back
// buffer that keeps the packets before the alert).
//
// The feeders only copy frames into a bounded set of batches (a full set
// drops the frame and counts it); one goroutine assigns flows, decides
// and writes, so the packet path never waits on the disk.
package pcapring

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// Keep modes.
const (
	KeepAll    = "all"
	KeepAlerts = "alerts"
)

// Config is capture.pcap_ring.
type Config struct {
	Dir             string
	MaxBytes        int64         // disk budget of the ring's files, indexes included
	MaxAge          time.Duration // 0: files go only for the disk budget
	MaxBytesPerFlow int64         // 0: whole flows
	Keep            string        // KeepAll (default) or KeepAlerts
	// Lookback: with KeepAlerts, how long (packet time) the packets of a
	// flow with no alert yet are held; at most LookbackBytes of them.
	Lookback      time.Duration
	LookbackBytes int64
	// FileBytes and FileAge rotate the current file (defaults: MaxBytes/8
	// within 1 MiB..256 MiB, and a minute).
	FileBytes int64
	FileAge   time.Duration
	// FlowIdle forgets a flow's depth and alert state after this long
	// without a packet (default 15 minutes).
	FlowIdle time.Duration

	Links   []layers.LinkType // per capture interface index
	Snaplen int
	Seed    uint16 // Community ID seed
	Defrag  decode.DefragConfig
	Budget  *budget.Budget
	Log     *slog.Logger
	// Anomaly receives the ring's packetsleuth.anomaly events (kind
	// limit.pcap_ring, rate-limited as the workers' are; valid during the
	// call), on the writer goroutine: it must not wait. Nil drops them;
	// they are counted in Stats.Anomalies either way.
	Anomaly func(*schemas.Event)
}

// Defaults.
const (
	DefaultLookback      = 10 * time.Second
	DefaultLookbackBytes = 16 << 20
	DefaultFileAge       = time.Minute
	DefaultFlowIdle      = 15 * time.Minute
	minFileBytes         = 1 << 20
	maxFileBytes         = 256 << 20
)

// Stats counts what the ring did. Safe to read from any goroutine.
type Stats struct {
	Frames, Bytes   uint64 // frames and bytes written
	Files           uint64 // files closed with their index
	FilesRemoved    uint64 // for the disk budget or the age
	BytesRemoved    uint64
	DiskBytes       int64  // the ring's files now
	QueueDrops      uint64 // frames the writer was too far behind for
	DepthSkipped    uint64 // frames past max_bytes_per_flow
	NotKept         uint64 // frames of flows without alerts, aged out of the look-back
	LookbackEvicted uint64 // look-back frames pushed out early by its byte bound or the memory budget
	AlertsDropped   uint64 // alert notices the writer was too far behind for
	Untracked       uint64 // frames of flows whose state the memory budget refused
	WriteErrors     uint64
	// Files an earlier run left without their index (it stopped without
	// closing them), indexed at start; and those that could not be (one
	// without a readable header holds no frame: it is removed).
	Reindexed, ReindexFailed uint64
	Anomalies                anomaly.Counts // the ring's anomalies (limit.pcap_ring)
}

type counters struct {
	frames, bytes, files, filesRemoved, bytesRemoved atomic.Uint64
	disk                                             atomic.Int64
	queueDrops, depthSkipped, notKept, evicted       atomic.Uint64
	alertsDropped, untracked, writeErrors            atomic.Uint64
	reindexed, reindexFailed                         atomic.Uint64
}

// Ring writes the packet ring. Its methods are safe for concurrent use.
type Ring struct {
	cfg    Config
	log    *slog.Logger
	c      counters
	free   chan *batch
	queue  chan *batch
	alerts chan string
	syncs  chan chan error
	stop   chan struct{}
	done   chan struct{}
	// reindexed takes the indexes of files an earlier run left without
	// one, built in the background; jobDone closes when that job ends.
	reindexed chan reindexed
	jobDone   chan struct{}
	held      int64 // batch memory reserved from the budget
	acct      *budget.Account
	// anomalies is the writer's Reporter's counts, for Stats.
	anomMu    sync.Mutex
	anomalies anomaly.Counts

	w *writer // the writer goroutine's state
}

// batchFrames and batchBytes bound one batch; batches bounds the queue.
const (
	batchFrames = 256
	batchBytes  = 320 << 10
	batches     = 32
	alertQueue  = 4096
)

// New opens the ring in cfg.Dir (made 0700) and starts its writer.
func New(cfg Config) (*Ring, error) {
	if cfg.Dir == "" {
		return nil, errors.New("pcap_ring: dir is required")
	}
	if cfg.MaxBytes <= 0 {
		return nil, errors.New("pcap_ring: max_bytes is required")
	}
	switch cfg.Keep {
	case "":
		cfg.Keep = KeepAll
	case KeepAll, KeepAlerts:
	default:
		return nil, fmt.Errorf("pcap_ring: keep: %q is not one of all, alerts", cfg.Keep)
	}
	if cfg.FileBytes <= 0 {
		cfg.FileBytes = min(max(cfg.MaxBytes/8, minFileBytes), maxFileBytes)
	}
	if cfg.MaxBytes < 2*cfg.FileBytes {
		return nil, fmt.Errorf("pcap_ring: max_bytes (%d) must hold two files of %d bytes", cfg.MaxBytes, cfg.FileBytes)
	}
	cfg.FileAge = cmp(cfg.FileAge, DefaultFileAge)
	cfg.Lookback = cmp(cfg.Lookback, DefaultLookback)
	cfg.FlowIdle = cmp(cfg.FlowIdle, DefaultFlowIdle)
	if cfg.LookbackBytes <= 0 {
		cfg.LookbackBytes = DefaultLookbackBytes
	}
	if len(cfg.Links) == 0 {
		cfg.Links = []layers.LinkType{layers.LinkTypeEthernet}
	}
	if cfg.Snaplen <= 0 {
		cfg.Snaplen = 262144
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("pcap_ring: %w", err)
	}
	if err := os.Chmod(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("pcap_ring: %w", err)
	}
	r := &Ring{
		cfg: cfg, log: cfg.Log, acct: cfg.Budget.NewAccount(),
		free: make(chan *batch, batches), queue: make(chan *batch, batches),
		alerts: make(chan string, alertQueue), syncs: make(chan chan error),
		stop: make(chan struct{}), done: make(chan struct{}),
		reindexed: make(chan reindexed), jobDone: make(chan struct{}),
	}
	for range batches {
		if !r.acct.Reserve(budget.Packets, batchCost) {
			break
		}
		r.held += batchCost
		r.free <- newBatch()
	}
	if len(r.free) == 0 {
		r.acct.Close()
		return nil, errors.New("pcap_ring: the memory budget has no room for the packet queue")
	}
	w, err := newWriter(r)
	if err != nil {
		r.acct.Release(budget.Packets, r.held)
		r.acct.Close()
		return nil, err
	}
	r.w = w
	go r.run()
	go r.reindex(w.unindexed)
	return r, nil
}

func cmp(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Alert says that the flow with Community ID cid raised an alert: with
// keep: alerts its packets (those in the look-back too) are kept from now.
// It never blocks; a notice the writer is too far behind for is counted.
func (r *Ring) Alert(cid string) {
	if r.cfg.Keep != KeepAlerts || cid == "" {
		return
	}
	select {
	case r.alerts <- cid:
	default:
		r.c.alertsDropped.Add(1)
	}
}

// Sync closes the current file (if it holds packets) with its index, so
// that a carve finds the packets written until now.
func (r *Ring) Sync(ctx context.Context) error {
	ch := make(chan error, 1)
	select {
	case r.syncs <- ch:
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what is queued, closes the current file with its index and
// stops the writer. Call it once the feeders have stopped.
func (r *Ring) Close() error {
	close(r.stop)
	<-r.done
	<-r.jobDone
	r.acct.Release(budget.Packets, r.held)
	r.acct.Close()
	return r.w.closeErr
}

// Stats returns the counters.
func (r *Ring) Stats() Stats {
	c := &r.c
	r.anomMu.Lock()
	an := r.anomalies
	r.anomMu.Unlock()
	return Stats{Anomalies: an,
		Frames: c.frames.Load(), Bytes: c.bytes.Load(), Files: c.files.Load(),
		FilesRemoved: c.filesRemoved.Load(), BytesRemoved: c.bytesRemoved.Load(), DiskBytes: c.disk.Load(),
		QueueDrops: c.queueDrops.Load(), DepthSkipped: c.depthSkipped.Load(), NotKept: c.notKept.Load(),
		LookbackEvicted: c.evicted.Load(), AlertsDropped: c.alertsDropped.Load(), Untracked: c.untracked.Load(),
		WriteErrors: c.writeErrors.Load(), Reindexed: c.reindexed.Load(), ReindexFailed: c.reindexFailed.Load(),
	}
}

// Dir is the ring's folder (its indexes are beside its files).
func (r *Ring) Dir() string { return r.cfg.Dir }

// run is the writer goroutine.
func (r *Ring) run() {
	defer close(r.done)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case b := <-r.queue:
			r.w.batch(b)
			r.recycle(b)
		case cid := <-r.alerts:
			r.w.alert(cid)
		case res := <-r.reindexed:
			r.w.adopt(res)
		case ch := <-r.syncs:
			r.drain()
			ch <- r.w.rotate(time.Now())
		case now := <-tick.C:
			r.w.tick(now)
		case <-r.stop:
			r.drain()
			r.w.close()
			return
		}
	}
}

// drain handles what is queued now: the batches, then the alerts.
func (r *Ring) drain() {
	for {
		select {
		case b := <-r.queue:
			r.w.batch(b)
			r.recycle(b)
			continue
		case cid := <-r.alerts:
			r.w.alert(cid)
			continue
		default:
		}
		return
	}
}

func (r *Ring) recycle(b *batch) {
	b.reset()
	r.free <- b
}
