package web

import (
	"context"
	"math"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/packetsleuth/packetsleuth/metrics"
)

// Throttle slows down password and token guessing. Failures are counted
// per client address (an IPv6 client by its /64) and per configured user
// name. Past FreeFailures, each failure blocks the address or user for
// Delay, doubled at every further failure up to Lockout: while blocked,
// every login or bearer request from that address (or for that user) is
// answered 429 with Retry-After, even with the right credentials, so a
// guesser learns nothing. A success clears both counters; a key quiet for
// a Lockout period starts over.
//
// The client address is the TCP peer: X-Forwarded-For is not trusted.
type Throttle struct {
	// FreeFailures are allowed before delays start (default 5; -1: none).
	FreeFailures int `yaml:"free_failures"`
	// Delay is the first block (default 1s).
	Delay time.Duration `yaml:"delay"`
	// Lockout is the longest block, reached after about
	// FreeFailures + log2(Lockout/Delay) failures (default 15m).
	Lockout time.Duration `yaml:"lockout"`
	// MaxChecks caps the bcrypt comparisons running at once, so a flood of
	// logins cannot take every core (default half of GOMAXPROCS, at least 1).
	// A login that finds no free slot within a second is answered 429.
	MaxChecks int `yaml:"max_checks"`
}

// withDefaults fills zero fields.
func (t Throttle) withDefaults() Throttle {
	if t.FreeFailures == 0 {
		t.FreeFailures = 5
	}
	t.FreeFailures = max(t.FreeFailures, 0)
	if t.Delay <= 0 {
		t.Delay = time.Second
	}
	if t.Lockout <= 0 {
		t.Lockout = 15 * time.Minute
	}
	t.Lockout = max(t.Lockout, t.Delay)
	if t.MaxChecks <= 0 {
		t.MaxChecks = max(1, runtime.GOMAXPROCS(0)/2)
	}
	return t
}

// maxThrottleKeys bounds the failure table; past it, an arbitrary entry
// is forgotten (the per-user counter still holds for the real user).
const maxThrottleKeys = 100_000

// checkWait is how long a login waits for a free bcrypt slot.
const checkWait = time.Second

type failures struct {
	n     int       // failures since the last success or reset
	last  time.Time // time of the last failure
	until time.Time // blocked until then
}

// throttle is the failure table and the bcrypt semaphore.
type throttle struct {
	cfg    Throttle
	now    func() time.Time
	checks chan struct{}

	mu   sync.Mutex
	keys map[string]*failures

	failedPassword, failedToken, refused, busy atomic.Uint64
}

func newThrottle(cfg Throttle, now func() time.Time) *throttle {
	cfg = cfg.withDefaults()
	return &throttle{cfg: cfg, now: now, checks: make(chan struct{}, cfg.MaxChecks), keys: map[string]*failures{}}
}

// clientKey names the client address of r ("a:" + IPv4 or IPv6 /64).
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return "a:" + host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return "a:" + p.String()
	}
	return "a:" + ip.String()
}

// userKey names a user's counter.
func userKey(user string) string { return "u:" + user }

// blocked returns how long the first blocked key still waits (0: none is).
func (t *throttle) blocked(keys ...string) time.Duration {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		if f := t.keys[k]; f != nil && now.Before(f.until) {
			wait = max(wait, f.until.Sub(now))
		}
	}
	if wait > 0 {
		t.refused.Add(1)
	}
	return wait
}

// fail counts a failure against every key.
func (t *throttle) fail(keys ...string) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		f := t.keys[k]
		if f != nil && t.stale(f, now) {
			f.n = 0
		}
		if f == nil {
			t.makeRoom(now)
			f = &failures{}
			t.keys[k] = f
		}
		f.n++
		f.last = now
		if over := f.n - t.cfg.FreeFailures; over > 0 {
			f.until = now.Add(t.delay(over))
		}
	}
}

// delay is the block after the over-th failure past the free ones.
func (t *throttle) delay(over int) time.Duration {
	if over > 40 { // 2^40 s is far past any sane lockout
		return t.cfg.Lockout
	}
	d := float64(t.cfg.Delay) * math.Exp2(float64(over-1))
	return time.Duration(min(d, float64(t.cfg.Lockout)))
}

// stale says whether f has been quiet long enough to start over.
func (t *throttle) stale(f *failures, now time.Time) bool {
	return now.After(f.last.Add(t.cfg.Lockout)) && !now.Before(f.until)
}

// makeRoom drops stale entries when the table is full, then an arbitrary
// one if it is still full. Called with mu held.
func (t *throttle) makeRoom(now time.Time) {
	if len(t.keys) < maxThrottleKeys {
		return
	}
	for k, f := range t.keys {
		if t.stale(f, now) {
			delete(t.keys, k)
		}
	}
	for k := range t.keys {
		if len(t.keys) < maxThrottleKeys {
			return
		}
		delete(t.keys, k)
	}
}

// succeed clears the keys' counters.
func (t *throttle) succeed(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		delete(t.keys, k)
	}
}

// acquire takes a bcrypt slot, waiting at most checkWait; false: none came.
func (t *throttle) acquire(ctx context.Context) bool {
	select {
	case t.checks <- struct{}{}:
		return true
	default:
	}
	tm := time.NewTimer(checkWait)
	defer tm.Stop()
	select {
	case t.checks <- struct{}{}:
		return true
	case <-tm.C:
	case <-ctx.Done():
	}
	t.busy.Add(1)
	return false
}

func (t *throttle) release() { <-t.checks }

// stats is the snapshot for /metrics.
func (t *throttle) stats() metrics.WebAuthStats {
	now := t.now()
	t.mu.Lock()
	blocked := 0
	for _, f := range t.keys {
		if now.Before(f.until) {
			blocked++
		}
	}
	t.mu.Unlock()
	return metrics.WebAuthStats{
		FailedPasswords: t.failedPassword.Load(), FailedTokens: t.failedToken.Load(),
		Throttled: t.refused.Load(), Busy: t.busy.Load(), Blocked: blocked,
	}
}

// tooMany answers 429 with Retry-After in whole seconds (at least 1).
func tooMany(w http.ResponseWriter, wait time.Duration, msg string) {
	secs := int64(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
	writeError(w, http.StatusTooManyRequests, msg)
}
