package pipeline

import (
	"bytes"
	"errors"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// withSpareCPU makes the process have a CPU more than one worker uses, so
// that New gives a 1-worker pipeline its delivery goroutine.
func withSpareCPU(t *testing.T) {
	if was := runtime.GOMAXPROCS(0); was < 2 {
		runtime.GOMAXPROCS(2)
		t.Cleanup(func() { runtime.GOMAXPROCS(was) })
	}
}

// deliveryCaptures are a flood whose flow events fill many record
// batches, and a capture of HTTP, DNS and TLS events with alerts.
func deliveryCaptures(t *testing.T) []string {
	return []string{writeFlood(t, 5*recordBatch*deliveryBatches), filepath.Join(sharedPcaps, "http1-browsing.pcap")}
}

// One worker with a CPU to spare hands its records to a delivery
// goroutine, which fills in their event.ids: the events are those of the
// worker writing them itself (Inline), byte for byte and in order.
func TestDeliveredEventsAsDirect(t *testing.T) {
	withSpareCPU(t)
	paths := deliveryCaptures(t)
	direct, _ := replay(t, Config{Workers: 1, Inline: true}, paths...)

	out := &collector{}
	p, err := New(Config{Workers: 1, Output: out})
	if err != nil {
		t.Fatal(err)
	}
	if p.workers[0].dlv == nil {
		t.Fatal("one worker with a CPU to spare has no delivery")
	}
	if _, err := p.Replay(t.Context(), paths); err != nil {
		t.Fatal(err)
	}
	if len(direct.raw) < 4*recordBatch {
		t.Fatalf("only %d events", len(direct.raw))
	}
	if len(out.raw) != len(direct.raw) {
		t.Fatalf("%d events delivered, %d written directly", len(out.raw), len(direct.raw))
	}
	for i := range out.raw {
		if !bytes.Equal(out.raw[i], direct.raw[i]) {
			t.Fatalf("event %d delivered:\n%s\nwritten directly:\n%s", i, out.raw[i], direct.raw[i])
		}
	}
}

// failingOutput fails every other Write, and counts the failures and the
// records of every Write.
type failingOutput struct {
	mu             sync.Mutex
	writes, failed uint64
	recs           int
}

func (o *failingOutput) Write(recs []schemas.Record) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.writes++
	o.recs += len(recs)
	if o.writes%2 == 0 {
		o.failed++
		return errors.New("refused")
	}
	return nil
}

// The failed writes of a delivery are counted in the worker's stats, the
// last ones too, and the replay returns only when every record was
// written.
func TestDeliveryCountsFailedWrites(t *testing.T) {
	withSpareCPU(t)
	out := &failingOutput{}
	p, err := New(Config{Workers: 1, Output: out})
	if err != nil {
		t.Fatal(err)
	}
	st, err := p.Replay(t.Context(), deliveryCaptures(t))
	if err != nil {
		t.Fatal(err)
	}
	out.mu.Lock()
	defer out.mu.Unlock()
	var events uint64
	for _, n := range st.Events {
		events += n
	}
	if out.failed == 0 || st.OutputErrors != out.failed {
		t.Errorf("%d output errors counted, %d writes of %d failed", st.OutputErrors, out.failed, out.writes)
	}
	if uint64(out.recs) != events {
		t.Errorf("%d records written, %d events", out.recs, events)
	}
}

// gatedOutput holds every Write until the test lets it go.
type gatedOutput struct {
	entered chan struct{} // a Write began
	release chan struct{} // one Write may return
	mu      sync.Mutex
	json    [][]byte // the records written
}

func (o *gatedOutput) Write(recs []schemas.Record) error {
	o.entered <- struct{}{}
	<-o.release
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range recs {
		o.json = append(o.json, bytes.Clone(r.JSON))
	}
	return nil
}

func (o *gatedOutput) written() [][]byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.json
}

// close returns once every batch handed was written, however slow the
// output, and the records have their event.ids.
func TestDeliveryCloseWaitsForEveryBatch(t *testing.T) {
	out := &gatedOutput{entered: make(chan struct{}, deliveryBatches), release: make(chan struct{})}
	d, b := startDelivery(out, nil)
	var ev schemas.Event
	var enc schemas.EncodeCache
	var want [][]byte
	for range deliveryBatches - 1 { // as many as it takes without a write done
		for range 3 {
			var id schemas.PendingID
			start := len(b.arena)
			ev.Reset(time.Unix(int64(len(want)), 0), schemas.DatasetFlow, nil, nil)
			var err error
			if b.arena, id, err = enc.EncodePending(b.arena, &ev); err != nil {
				t.Fatal(err)
			}
			b.recs = append(b.recs, schemas.RecordOf(&ev, b.arena[start:]))
			b.ids = append(b.ids, id)
			full, err := schemas.EncodeWithID(nil, &ev)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, full)
		}
		b = d.hand(b)
	}
	<-out.entered // the first batch's write waits
	closing, closed := make(chan struct{}), make(chan [][]byte)
	go func() {
		closing <- struct{}{}
		d.close()
		closed <- out.written()
	}()
	<-closing // close is called while the first write waits: it must wait for them all
	for range deliveryBatches - 1 {
		out.release <- struct{}{}
	}
	got := <-closed
	if len(got) != len(want) {
		t.Fatalf("close returned with %d of %d records written", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("record %d written:\n%s\nwant\n%s", i, got[i], want[i])
		}
	}
}

// refusingOutput refuses one record room at every Write.
type refusingOutput struct{ n atomic.Uint64 }

func (o *refusingOutput) Write([]schemas.Record) error { o.n.Add(1); return nil }
func (o *refusingOutput) BudgetRefused() uint64        { return o.n.Load() }

// The batch hand gives back is always the one handed two before, with the
// output's refusals as seen after its write: the worker reports them with
// a fixed lag, whatever the delivery's timing.
func TestDeliveryRefusalsTwoBatchesBack(t *testing.T) {
	out := &refusingOutput{}
	d, b := startDelivery(out, nil)
	for k := uint64(1); k <= 50; k++ {
		b.recs = append(b.recs, schemas.Record{JSON: []byte("{}")})
		b.ids = append(b.ids, schemas.PendingID{})
		b = d.hand(b)
		if want := k - min(k, 2); b.refused != want {
			t.Fatalf("hand %d gave back a batch that saw %d refusals, want %d", k, b.refused, want)
		}
	}
	d.close()
}
