package store

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
)

func init() {
	outputs.Register("store", func(cfg outputs.SinkConfig) (outputs.Sink, error) {
		var c Config
		if err := cfg.DecodeOptions(&c); err != nil {
			return nil, err
		}
		return NewSink(c)
	}, Config{})
}

// Sink is the history store as an output (type `store`): the shared
// outputs.Runner queues and batches, the Sink writes each batch in one
// transaction and prunes every PruneInterval of event time.
type Sink struct {
	cfg         Config
	st          *Store
	newest      time.Time // newest record time written, stats reports aside
	newestStats time.Time // newest stats report time: the clock of a store of stats only
	lastPrune   time.Time
	Stats       InsertStats // running totals (read after Close)
	dups        atomic.Uint64
	refused     atomic.Uint64 // Stats.SensorsRefused, for readers during Write
	lastRefused atomic.Pointer[string]
}

// NewSink validates cfg; Connect opens the database.
func NewSink(cfg Config) (*Sink, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Sink{cfg: cfg}, nil
}

// Connect opens the database and applies migrations.
func (k *Sink) Connect(ctx context.Context) error {
	if k.st != nil {
		return nil
	}
	st, err := Open(ctx, k.cfg)
	if err != nil {
		return err
	}
	k.st = st
	return nil
}

// Write inserts the batch in one transaction. Records whose JSON cannot be
// decoded are reported as permanent failures and the rest is written.
func (k *Sink) Write(ctx context.Context, batch []schemas.Record) error {
	if k.st == nil {
		return outputs.ErrNotConnected
	}
	st, bad, err := k.st.insertValid(ctx, batch)
	if err != nil {
		return err
	}
	k.Stats.merge(st)
	k.dups.Add(uint64(st.Duplicates))
	if st.SensorsRefused > 0 {
		k.lastRefused.Store(&st.RefusedSensor)
		k.refused.Add(uint64(st.SensorsRefused))
	}
	// The prune clock is the traffic's time: a sensor's stats reports are
	// stamped by its clock, also while it replays a capture of years ago,
	// whose history they would prune at once (a store that has had stats
	// reports only goes by theirs). It never runs ahead of the store's
	// clock: one record with a time years ahead (a sensor's wrong clock, a
	// hostile producer) would otherwise prune everything.
	wall := time.Now()
	next := 0 // the next of bad, which are in batch order
	for i := range batch {
		if next < len(bad) && bad[next].Index == i {
			next++
			continue
		}
		t, newest := batch[i].Time, &k.newest
		if batch[i].Dataset == schemas.DatasetStats {
			newest = &k.newestStats
		}
		if t.After(wall) {
			t = wall
		}
		if t.After(*newest) {
			*newest = t
		}
	}
	clock := k.newest
	if clock.IsZero() {
		clock = k.newestStats
	}
	if iv := time.Duration(k.cfg.PruneInterval); iv > 0 && !clock.IsZero() && clock.Sub(k.lastPrune) >= iv {
		if _, err := k.st.Prune(ctx, clock); err != nil {
			return err
		}
		k.lastPrune = clock
	}
	if len(bad) > 0 {
		be := &outputs.BatchError{}
		for _, re := range bad {
			be.Permanent = append(be.Permanent, re.Index)
			be.Reasons = append(be.Reasons, re)
		}
		return be
	}
	return nil
}

// DeliveryCounts says how many delivered records the store already held
// (outputs.DeliveryReporter): a re-replay's are all of them.
func (k *Sink) DeliveryCounts() outputs.DeliveryCounts {
	return outputs.DeliveryCounts{Duplicates: k.dups.Load()}
}

// SensorsRefused says how many whole-sensor reports of new sensors the
// store refused as its sensors table was full (Config.MaxSensors), and the
// agent.id of the last; safe to call during Write.
func (k *Sink) SensorsRefused() (n uint64, last string) {
	if p := k.lastRefused.Load(); p != nil {
		last = *p
	}
	return k.refused.Load(), last
}

// MaxSensors is the bound of the sensors table.
func (k *Sink) MaxSensors() int { return k.cfg.MaxSensors }

// Close closes the database.
func (k *Sink) Close(ctx context.Context) error {
	if k.st == nil {
		return nil
	}
	err := k.st.Close()
	k.st = nil
	return err
}
