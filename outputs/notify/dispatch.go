// Delivery: the dispatcher that filters, groups, rate-limits and sends
// messages, and retries them within the Sink contract (package comment).

package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// sender delivers one rendered message to the far end.
type sender interface {
	send(ctx context.Context, r *Rendered) error
}

// RetryAfterError asks for the message to be sent again after Delay.
type RetryAfterError struct {
	Delay time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.Delay)
}
func (e *RetryAfterError) Unwrap() error { return e.Err }

// PermanentError marks an answer that sending again cannot fix.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// maxRetryAfter caps a server's requested delay.
const maxRetryAfter = 5 * time.Minute

// Stats are a notifier's counters.
type Stats struct {
	Alerts      uint64 // alert records received
	Filtered    uint64 // alerts without any of the tags
	Invalid     uint64 // alert records that could not be decoded
	Messages    uint64 // messages sent
	Notified    uint64 // alerts in sent messages
	Failures    uint64 // failed send attempts
	RateLimited uint64 // times a message was held back by rate_limit
	Dropped     uint64 // alerts given up on after max_attempts (grouping only)
	Pending     int    // alerts waiting in groups now
}

// group is the alerts of one group key waiting to be sent.
type group struct {
	key      string
	alerts   []Alert // the first max_alerts
	count    int
	severity int
	first    time.Time
	last     time.Time
	due      time.Time // when to try to send
	attempts int
	backoff  time.Duration
	recs     []int // indices into the current batch (synchronous mode only)
}

func (g *group) add(a Alert, max int) {
	if g.count == 0 || a.Time.Before(g.first) {
		g.first = a.Time
	}
	if a.Time.After(g.last) {
		g.last = a.Time
	}
	g.count++
	g.severity = max2(g.severity, a.SeverityNumber)
	if len(g.alerts) < max {
		g.alerts = append(g.alerts, a)
	}
}

// absorb adds the alerts of o (its first ones kept, the rest counted).
func (g *group) absorb(o *group, max int) {
	for _, a := range o.alerts {
		g.add(a, max)
	}
	g.count += o.count - len(o.alerts)
}

// maxHeldGroups bounds the groups a notifier holds (in their window, or
// held back by the rate limit). Past it, an alert of a new group goes to
// its rule's overflow group: an alert flood from many (spoofed) sources,
// or any flood with group_by none, makes one message per rule instead of
// a group per source or alert without bound.
const maxHeldGroups = 1024

// heldKey is key, or its rule's overflow group when d holds
// maxHeldGroups groups and none of key. An overflow key starts with a NUL,
// other keys with their rule's ID.
func (d *dispatcher) heldKey(key, ruleID string) string {
	if _, ok := d.groups[key]; ok || len(d.groups) < maxHeldGroups {
		return key
	}
	return "\x00" + ruleID
}

func max2(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// dispatcher is the part of every notifier that routes, groups, limits and
// retries; the sender only talks to the far end.
type dispatcher struct {
	kind  string // slack, telegram, ...
	c     Common
	route tagRoute
	tpl   *templates
	out   sender
	log   *slog.Logger
	now   func() time.Time
	tick  time.Duration

	mu     sync.Mutex
	groups map[string]*group
	order  []string // group keys in creation order
	seq    uint64   // group_by none: a new key per alert
	sent   []time.Time
	st     Stats

	sendMu  sync.Mutex // one send at a time
	started bool
	stop    chan struct{}
	done    chan struct{}
}

func newDispatcher(kind string, c Common, out sender, wantHTML bool) (*dispatcher, error) {
	route := newTagRoute(c.Tags)
	switch c.GroupBy {
	case "":
		c.GroupBy = "rule"
	case "rule", "rule_source", "none":
	default:
		return nil, fmt.Errorf("outputs.%s: group_by: %q is not one of rule, rule_source, none", kind, c.GroupBy)
	}
	if c.GroupWindow < 0 || c.RatePeriod < 0 || c.RateLimit < 0 || c.RetryMin < 0 || c.RetryMax < 0 {
		return nil, fmt.Errorf("outputs.%s: durations and rate_limit must not be negative", kind)
	}
	if c.RateLimit > 0 && c.RatePeriod == 0 {
		c.RatePeriod = time.Minute
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.RetryMin == 0 {
		c.RetryMin = time.Second
	}
	if c.RetryMax < c.RetryMin {
		c.RetryMax = max(c.RetryMin, time.Minute)
	}
	if c.MaxAlerts <= 0 {
		c.MaxAlerts = 10
	}
	tpl, err := newTemplates(c, wantHTML)
	if err != nil {
		return nil, fmt.Errorf("outputs.%s: %w", kind, err)
	}
	tick := time.Second
	if c.GroupWindow > 0 {
		tick = min(max(c.GroupWindow/10, 10*time.Millisecond), time.Second)
	}
	return &dispatcher{kind: kind, c: c, route: route, tpl: tpl, out: out, log: slog.Default().With("output", kind),
		now: time.Now, tick: tick, groups: map[string]*group{}}, nil
}

// SetLogger sets the logger of failed and given-up notifications (default
// slog.Default()). Call it before Connect.
func (d *dispatcher) SetLogger(l *slog.Logger) { d.log = l.With("output", d.kind) }

// Stats returns the counters.
func (d *dispatcher) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.st
	for _, g := range d.groups {
		st.Pending += g.count
	}
	return st
}

// connect starts the background flusher once.
func (d *dispatcher) connect() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.started {
		return
	}
	d.started = true
	d.stop, d.done = make(chan struct{}), make(chan struct{})
	go d.loop()
}

func (d *dispatcher) loop() {
	defer close(d.done)
	t := time.NewTicker(d.tick)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
			d.flushDue(context.Background(), false)
		}
	}
}

func (d *dispatcher) groupKey(a *Alert) string {
	switch d.c.GroupBy {
	case "rule_source":
		return a.RuleID + "\x00" + a.SourceIP
	case "none":
		d.seq++
		return a.RuleID + "\x00" + strconv.FormatUint(d.seq, 10)
	}
	return a.RuleID
}

// write handles one batch (see the package comment).
func (d *dispatcher) write(ctx context.Context, batch []schemas.Record) error {
	sync := d.c.GroupWindow == 0
	now := d.now()
	var local map[string]*group
	var localOrder []string
	var perm []int
	var reasons []error
	d.mu.Lock()
	for i, rec := range batch {
		if rec.Kind != "alert" {
			continue
		}
		d.st.Alerts++
		a, err := ParseAlert(rec)
		if err != nil {
			d.st.Invalid++
			perm = append(perm, i)
			reasons = append(reasons, err)
			continue
		}
		if !d.route.Match(&a) {
			d.st.Filtered++
			continue
		}
		key := d.groupKey(&a)
		if sync {
			if local == nil {
				local = map[string]*group{}
			}
			g := local[key]
			if g == nil {
				g = &group{key: key}
				local[key] = g
				localOrder = append(localOrder, key)
			}
			g.add(a, d.c.MaxAlerts)
			g.recs = append(g.recs, i)
			continue
		}
		key = d.heldKey(key, a.RuleID)
		g := d.groups[key]
		if g == nil {
			g = &group{key: key, due: now.Add(d.c.GroupWindow), backoff: d.c.RetryMin}
			d.groups[key] = g
			d.order = append(d.order, key)
		}
		g.add(a, d.c.MaxAlerts)
	}
	d.mu.Unlock()
	if !sync {
		if len(perm) > 0 {
			return &outputs.BatchError{Permanent: perm, Reasons: reasons}
		}
		return nil
	}

	var failed []int
	var failReasons []error
	for _, key := range localOrder {
		g := local[key]
		d.mu.Lock()
		// a group held back by the rate limit is sent together with these
		if held := d.groups[key]; held != nil {
			held.absorb(g, d.c.MaxAlerts)
			d.mu.Unlock()
			continue
		}
		limited := !d.allowLocked(d.now())
		if limited {
			d.st.RateLimited++
			if key = d.heldKey(key, g.alerts[0].RuleID); d.groups[key] != nil { // an overflow group
				d.groups[key].absorb(g, d.c.MaxAlerts)
				d.mu.Unlock()
				continue
			}
			g.key = key
			g.due = d.nextSlotLocked()
			g.backoff = d.c.RetryMin
			g.recs = nil
			d.groups[key] = g
			d.order = append(d.order, key)
			d.mu.Unlock()
			d.startLater()
			continue
		}
		d.mu.Unlock()
		err := d.sendGroup(ctx, g, true)
		if err == nil {
			continue
		}
		var pe *PermanentError
		if errors.As(err, &pe) {
			perm = append(perm, g.recs...)
			for range g.recs {
				reasons = append(reasons, err)
			}
			continue
		}
		failed = append(failed, g.recs...)
		for range g.recs {
			failReasons = append(failReasons, err)
		}
	}
	if len(failed) == 0 && len(perm) == 0 {
		return nil
	}
	return &outputs.BatchError{Failed: failed, Permanent: perm, Reasons: append(failReasons, reasons...)}
}

// startLater makes sure the flusher runs in synchronous mode once a group
// is held back (Connect normally started it already).
func (d *dispatcher) startLater() { d.connect() }

// allowLocked reports whether the rate limit lets a message go now, and
// records it if so. d.mu is held.
func (d *dispatcher) allowLocked(now time.Time) bool {
	if d.c.RateLimit <= 0 {
		return true
	}
	cut := now.Add(-d.c.RatePeriod)
	i := 0
	for i < len(d.sent) && !d.sent[i].After(cut) {
		i++
	}
	d.sent = d.sent[i:]
	if len(d.sent) >= d.c.RateLimit {
		return false
	}
	d.sent = append(d.sent, now)
	return true
}

// nextSlotLocked is when the rate limit lets the next message go.
func (d *dispatcher) nextSlotLocked() time.Time {
	if len(d.sent) == 0 {
		return d.now()
	}
	return d.sent[0].Add(d.c.RatePeriod)
}

// flushDue sends the groups whose time has come (all of them with force).
func (d *dispatcher) flushDue(ctx context.Context, force bool) {
	for {
		d.mu.Lock()
		now := d.now()
		var g *group
		for _, key := range d.order {
			if c := d.groups[key]; c != nil && (force || !now.Before(c.due)) {
				g = c
				break
			}
		}
		if g == nil {
			d.mu.Unlock()
			return
		}
		if !force && !d.allowLocked(now) {
			d.st.RateLimited++
			g.due = d.nextSlotLocked()
			d.mu.Unlock()
			continue
		}
		d.removeLocked(g.key)
		d.mu.Unlock()

		err := d.sendGroup(ctx, g, false)
		if err == nil {
			continue
		}
		g.attempts++
		var pe *PermanentError
		var ra *RetryAfterError
		if errors.As(err, &pe) || g.attempts >= d.c.MaxAttempts || ctx.Err() != nil || force {
			d.mu.Lock()
			d.st.Dropped += uint64(g.count)
			d.mu.Unlock()
			d.log.Error("notification given up", "rule", g.alerts[0].RuleID, "alerts", g.count, "attempts", g.attempts, "err", err)
			continue
		}
		wait := g.backoff
		if errors.As(err, &ra) {
			wait = min(ra.Delay, maxRetryAfter)
		} else {
			g.backoff = min(g.backoff*2, d.c.RetryMax)
		}
		d.log.Warn("notification failed, retrying", "rule", g.alerts[0].RuleID, "in", wait, "err", err)
		d.mu.Lock()
		g.due = d.now().Add(wait)
		if cur := d.groups[g.key]; cur != nil {
			// alerts arrived meanwhile: merge them into the retried group
			for _, a := range cur.alerts {
				g.add(a, d.c.MaxAlerts)
			}
			g.count += cur.count - len(cur.alerts)
			d.removeLocked(g.key)
		}
		d.groups[g.key] = g
		d.order = append(d.order, g.key)
		d.mu.Unlock()
		return // try the rest on the next tick
	}
}

func (d *dispatcher) removeLocked(key string) {
	delete(d.groups, key)
	if i := slices.Index(d.order, key); i >= 0 {
		d.order = slices.Delete(d.order, i, i+1)
	}
}

// sendGroup renders and sends one group. In synchronous mode a
// RetryAfterError is waited out once within ctx.
func (d *dispatcher) sendGroup(ctx context.Context, g *group, waitRetry bool) error {
	m := &Message{
		RuleID: g.alerts[0].RuleID, RuleName: g.alerts[0].RuleName, Severity: SeverityName(g.severity),
		Count: g.count, Omitted: g.count - len(g.alerts), First: g.first, Last: g.last,
		Alerts: g.alerts, Sensor: g.alerts[0].Observer, GroupedBy: d.c.GroupBy,
	}
	if d.c.GroupWindow > 0 {
		m.Window = shortDuration(d.c.GroupWindow)
	}
	r, err := d.tpl.render(m)
	if err != nil {
		return &PermanentError{err}
	}
	d.sendMu.Lock()
	defer d.sendMu.Unlock()
	err = d.out.send(ctx, &r)
	var ra *RetryAfterError
	if waitRetry && errors.As(err, &ra) && fitsDeadline(ctx, ra.Delay) {
		d.count(err, g.count)
		t := time.NewTimer(ra.Delay)
		select {
		case <-t.C:
			err = d.out.send(ctx, &r)
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
	d.count(err, g.count)
	return err
}

// fitsDeadline reports whether waiting d still leaves ctx time for a
// request; otherwise the Runner's own retry takes over.
func fitsDeadline(ctx context.Context, d time.Duration) bool {
	if d > maxRetryAfter {
		return false
	}
	dl, ok := ctx.Deadline()
	return !ok || time.Until(dl) > d+time.Second
}

func (d *dispatcher) count(err error, alerts int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		d.st.Failures++
		return
	}
	d.st.Messages++
	d.st.Notified += uint64(alerts)
}

// close stops the flusher and sends every pending group within ctx.
func (d *dispatcher) close(ctx context.Context) error {
	d.mu.Lock()
	started := d.started
	d.started = false // a later Connect starts a new flusher
	d.mu.Unlock()
	if started {
		close(d.stop)
		<-d.done
	}
	before := d.Stats().Dropped
	d.flushDue(ctx, true)
	if lost := d.Stats().Dropped - before; lost > 0 {
		return fmt.Errorf("outputs.%s: %d alerts not sent at close", d.kind, lost)
	}
	return nil
}

// shortDuration prints 1m instead of 1m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
