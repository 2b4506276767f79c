// Package outputstest holds an in-memory outputs.Sink for tests of the
// runner and of code that writes to outputs. It is a real implementation:
// it keeps a copy of every record it accepted and can be told to fail.
package outputstest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// ErrInjected is the error FailWrites returns by default.
var ErrInjected = errors.New("outputstest: injected failure")

// Sink is an in-memory outputs.Sink. All methods are safe for concurrent use.
type Sink struct {
	mu       sync.Mutex
	changed  *sync.Cond
	recs     []schemas.Record
	batches  []int // size of each accepted Write
	connects int
	writes   int
	closed   bool

	down      bool
	failN     int
	failErr   error
	judge     func(schemas.Record) Verdict
	delay     time.Duration
	hold      chan struct{}
	connected bool
}

// Verdict is what FailRecords decides for one record.
type Verdict int

// Verdicts.
const (
	Accept    Verdict = iota
	Retry             // reported in BatchError.Failed
	Permanent         // reported in BatchError.Permanent
)

// New returns an empty Sink that accepts everything.
func New() *Sink {
	s := &Sink{}
	s.changed = sync.NewCond(&s.mu)
	return s
}

// SetDown makes Connect fail and Write return ErrNotConnected (down=true),
// like a far end that is unreachable, or brings it back.
func (s *Sink) SetDown(down bool) {
	s.mu.Lock()
	s.down = down
	if down {
		s.connected = false
	}
	s.mu.Unlock()
}

// FailWrites makes the next n Write calls fail as a whole with err
// (ErrInjected when nil).
func (s *Sink) FailWrites(n int, err error) {
	if err == nil {
		err = ErrInjected
	}
	s.mu.Lock()
	s.failN, s.failErr = n, err
	s.mu.Unlock()
}

// FailRecords sets a function that decides for each record of a Write
// whether it is accepted, retryable or rejected for good; nil accepts all.
func (s *Sink) FailRecords(judge func(schemas.Record) Verdict) {
	s.mu.Lock()
	s.judge = judge
	s.mu.Unlock()
}

// SetDelay makes every Write take at least d (or until its ctx is done).
func (s *Sink) SetDelay(d time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

// Hold makes Write wait until Release (or its ctx is done).
func (s *Sink) Hold() {
	s.mu.Lock()
	if s.hold == nil {
		s.hold = make(chan struct{})
	}
	s.mu.Unlock()
}

// Release lets held and later Writes through.
func (s *Sink) Release() {
	s.mu.Lock()
	if s.hold != nil {
		close(s.hold)
		s.hold = nil
	}
	s.mu.Unlock()
}

// Connect implements outputs.Sink.
func (s *Sink) Connect(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.connects++
	if s.down {
		return errors.New("outputstest: connection refused")
	}
	s.connected = true
	return nil
}

// Write implements outputs.Sink: it copies the records it accepts.
func (s *Sink) Write(ctx context.Context, batch []schemas.Record) error {
	s.mu.Lock()
	s.writes++
	hold, delay := s.hold, s.delay
	s.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.changed.Broadcast()
	if s.down || !s.connected {
		s.connected = false
		return outputs.ErrNotConnected
	}
	if s.failN > 0 {
		s.failN--
		return s.failErr
	}
	var be outputs.BatchError
	accepted := 0
	for i, r := range batch {
		v := Accept
		if s.judge != nil {
			v = s.judge(r)
		}
		switch v {
		case Retry:
			be.Failed = append(be.Failed, i)
		case Permanent:
			be.Permanent = append(be.Permanent, i)
		default:
			r.JSON = slices.Clone(r.JSON)
			s.recs = append(s.recs, r)
			accepted++
		}
	}
	if accepted > 0 {
		s.batches = append(s.batches, accepted)
	}
	if len(be.Failed)+len(be.Permanent) > 0 {
		for range be.Failed {
			be.Reasons = append(be.Reasons, errors.New("outputstest: retryable"))
		}
		for range be.Permanent {
			be.Reasons = append(be.Reasons, errors.New("outputstest: rejected"))
		}
		return &be
	}
	return nil
}

// Close implements outputs.Sink.
func (s *Sink) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.connected = false
	s.mu.Unlock()
	return nil
}

// Records returns copies of the accepted records, in the order accepted.
func (s *Sink) Records() []schemas.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.recs)
}

// Len is the number of accepted records.
func (s *Sink) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recs)
}

// Batches returns the number of records accepted by each successful Write.
func (s *Sink) Batches() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.batches)
}

// Calls returns how many times Connect and Write were called.
func (s *Sink) Calls() (connects, writes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connects, s.writes
}

// Closed reports whether Close was called.
func (s *Sink) Closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// WaitLen waits until at least n records were accepted or timeout passes,
// and reports whether they were.
func (s *Sink) WaitLen(n int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	t := time.AfterFunc(timeout, func() {
		s.mu.Lock()
		s.changed.Broadcast()
		s.mu.Unlock()
	})
	defer t.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.recs) < n {
		if !time.Now().Before(deadline) {
			return false
		}
		s.changed.Wait()
	}
	return true
}

// Record makes a test record: dataset, time and JSON `{"id":"<id>","n":<i>}`.
func Record(dataset, id string, i int, ts time.Time) schemas.Record {
	b := []byte(`{"id":"` + id + `","n":`)
	b = appendInt(b, i)
	b = append(b, '}')
	return schemas.Record{Dataset: dataset, Kind: "event", Key: id, Time: ts, JSON: b}
}

func appendInt(b []byte, i int) []byte {
	if i < 0 {
		b = append(b, '-')
		i = -i
	}
	var d [20]byte
	k := len(d)
	for {
		k--
		d[k] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			break
		}
	}
	return append(b, d[k:]...)
}
