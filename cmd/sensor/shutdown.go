package main

import (
	"context"
	"sync"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
)

// shutdownClock gives the outputs shutdown_timeout from the moment the
// shutdown starts (a signal, or the end of the input). Outputs with a spool
// stop holding the pipeline at once (what does not fit in their queue goes
// to the spool, nothing is lost). Until the deadline a full output without
// a spool and with on_full: block still holds the pipeline, so a slow but
// healthy one loses nothing; at the deadline the outputs are interrupted
// (what does not fit is counted as lost) and Close gives up delivering, so
// the process ends in time even with every output down.
type shutdownClock struct {
	fan     *outputs.Fanout
	timeout time.Duration

	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
}

func newShutdownClock(fan *outputs.Fanout, timeout time.Duration) *shutdownClock {
	return &shutdownClock{fan: fan, timeout: timeout}
}

// start starts the clock (once) and returns the context that ends at the
// deadline, for the outputs' Close.
func (c *shutdownClock) start() context.Context {
	c.once.Do(func() {
		for _, r := range c.fan.Runners() {
			if r.Config().SpoolDir != "" {
				r.Interrupt()
			}
		}
		c.ctx, c.cancel = context.WithTimeout(context.Background(), c.timeout)
		context.AfterFunc(c.ctx, c.fan.Interrupt)
	})
	return c.ctx
}

// startOn starts the clock when ctx is done (a signal); the returned func
// stops watching.
func (c *shutdownClock) startOn(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, func() { c.start() })
}

// stop releases the clock's timer (after Close).
func (c *shutdownClock) stop() {
	c.start()
	c.cancel()
}
