package outputs

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"

	"github.com/packetsleuth/packetsleuth/schemas"
)

func records(n, size int) []schemas.Record {
	recs := make([]schemas.Record, n)
	for i := range recs {
		recs[i] = schemas.Record{Key: "k", JSON: bytes.Repeat([]byte{'a' + byte(i%26)}, size)}
	}
	return recs
}

func TestBlockComesBackWhenEveryRunnerIsDone(t *testing.T) {
	var p blockPool
	in := records(256, 1000)
	b := p.fill(in, 2)
	for i := range in {
		if !bytes.Equal(b.recs[i].JSON, in[i].JSON) || &b.recs[i].JSON[0] == &in[i].JSON[0] {
			t.Fatalf("record %d is not a copy", i)
		}
	}
	b.release(256) // the first runner
	if len(p.free) != 0 {
		t.Fatal("the block came back while the second runner holds it")
	}
	b.release(255)
	b.release(1)
	if len(p.free) != 1 || p.free[0] != b || len(b.recs) != 0 || cap(b.recs) == 0 || b.recs[:1][0].Key != "" {
		t.Fatalf("free %d, recs %d: want the block back, emptied", len(p.free), len(b.recs))
	}
	if again := p.fill(records(250, 1010), 1); again != b {
		t.Fatal("a write of about the same size did not use the block again")
	}
}

func TestBlocksKeptAreBounded(t *testing.T) {
	var p blockPool
	var all []*block
	for range 3 * keptBlocks {
		all = append(all, p.fill(records(256, 1000), 1))
	}
	for _, b := range all {
		b.release(256)
	}
	if len(p.free) != keptBlocks {
		t.Fatalf("kept %d blocks, want %d", len(p.free), keptBlocks)
	}
	// a small write must not pin a large arena in an output's queue
	small := p.fill(records(1, 300), 1)
	if c := cap(small.arena); c > 2*300+blockSlack {
		t.Fatalf("a 300-byte write holds a %d-byte arena", c)
	}
	if c := cap(small.recs); c*recordSize > 2*recordSize+blockSlack {
		t.Fatalf("a 1-record write holds room for %d records", c)
	}
}

func TestBlockGivenBackTooOftenPanics(t *testing.T) {
	var p blockPool
	b := p.fill(records(2, 10), 1)
	b.release(2)
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	b.release(1)
}

// slowSink takes a batch for each token it is given; a closed tokens
// lets every batch through.
type slowSink struct{ tokens chan struct{} }

func (s slowSink) Connect(context.Context) error { return nil }
func (s slowSink) Close(context.Context) error   { return nil }
func (s slowSink) Write(ctx context.Context, _ []schemas.Record) error {
	select {
	case <-s.tokens:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type discardSink struct{}

func (discardSink) Connect(context.Context) error                 { return nil }
func (discardSink) Close(context.Context) error                   { return nil }
func (discardSink) Write(context.Context, []schemas.Record) error { return nil }

// footprint is the memory b holds.
func (b *block) footprint() int64 { return int64(cap(b.arena) + cap(b.recs)*recordSize) }

// TestQueueHoldsAtMostQueueBytes writes blocks of many sizes to a slow
// output (a batch taken every few writes) beside a fast one (which gives its records back at once) and
// checks the memory the slow queue really holds: the blocks its
// records lie in, whole, which stay in memory as long as one record of
// theirs is queued. With the batch in flight it is at most queue_bytes,
// plus the rest of the block at the queue's head, whose other records
// were sent in the batch before.
func TestQueueHoldsAtMostQueueBytes(t *testing.T) {
	for _, policy := range []Policy{PolicyDrop, PolicySpool} {
		t.Run(string(policy), func(t *testing.T) {
			cfg := SinkConfig{Name: "stalled", Type: "test", OnFull: policy, QueueBytes: 1 << 20, BatchBytes: 64 << 10, QueueSize: 1 << 20}
			if policy == PolicySpool {
				cfg.SpoolDir = t.TempDir()
			}
			sink := slowSink{tokens: make(chan struct{})}
			quiet := WithLogger(slog.New(slog.DiscardHandler))
			slow, err := NewRunner(sink, cfg, quiet)
			if err != nil {
				t.Fatal(err)
			}
			fast, err := NewRunner(discardSink{}, SinkConfig{Name: "fast", Type: "test"}, quiet)
			if err != nil {
				t.Fatal(err)
			}
			f := NewFanout(slow, fast)
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range 3000 {
				if err := f.Write(records(1+rng.IntN(300), 50+rng.IntN(2000))); err != nil {
					t.Fatal(err)
				}
				if i%10 == 0 {
					select {
					case sink.tokens <- struct{}{}:
					default: // not writing yet
					}
				}
			}
			slow.mu.Lock()
			blocks := map[*block]bool{}
			var pinned, largest int64
			for k := range slow.q.n {
				if b := slow.q.blks[(slow.q.head+k)%len(slow.q.blks)]; b != nil && !blocks[b] {
					blocks[b] = true
					pinned += b.footprint()
					largest = max(largest, b.footprint())
				}
			}
			var own *block // records the queue copied: their JSON and the record
			for k := range slow.q.n {
				if i := (slow.q.head + k) % len(slow.q.buf); slow.q.blks[i] == nil {
					pinned += own.cost(&slow.q.buf[i])
				}
			}
			held := pinned + slow.flCost
			slow.mu.Unlock()
			if limit := int64(cfg.QueueBytes) + largest; held > limit {
				t.Errorf("the slow queue holds %d bytes in %d blocks (and %d in flight): more than queue_bytes %d and a block (qcost %d)", held, len(blocks), slow.flCost, cfg.QueueBytes, slow.q.cost)
				for b := range blocks {
					var c int64
					var n int
					for k := range slow.q.n {
						if i := (slow.q.head + k) % len(slow.q.buf); slow.q.blks[i] == b {
							c += b.cost(&slow.q.buf[i])
							n++
						}
					}
					t.Logf("block %p footprint %d recs %d/%d cost %d refs %d", b, b.footprint(), n, len(b.recs), c, b.refs.Load())
				}
			}
			close(sink.tokens)
			if _, err := f.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A record copied to be kept alone (a filtered runner's, a queue's part of
// a block) holds its key in its own copy, counted in its cost: not the
// memory the key was cut from, a worker's block of flow strings that a
// queue of such records would otherwise keep one of per record.
func TestCopiedRecordOwnsItsKey(t *testing.T) {
	texts := []byte("1:AAAAAAAAAAAAAAAAAAAAAAAAAAA=1:BBBBBBBBBBBBBBBBBBBBBBBBBBB=")
	a := unsafe.String(&texts[0], 30)
	recs := []schemas.Record{{Key: a, JSON: []byte(`{"a":1}`)}, {JSON: []byte(`{"b":2}`)}}
	out := copyRecords(recs)
	p := uintptr(unsafe.Pointer(unsafe.StringData(out[0].Key)))
	if start := uintptr(unsafe.Pointer(&texts[0])); p >= start && p < start+uintptr(len(texts)) {
		t.Fatal("the copy's key lies in the memory it was cut from")
	}
	if out[0].Key != a || out[1].Key != "" || string(out[0].JSON) != `{"a":1}` || string(out[1].JSON) != `{"b":2}` {
		t.Fatalf("copied %q %q %q %q", out[0].Key, out[1].Key, out[0].JSON, out[1].JSON)
	}
	var own *block
	if c, want := own.cost(&out[0]), int64(7+30+recordSize); c != want {
		t.Fatalf("a copied record costs %d, want %d (JSON, key and record)", c, want)
	}
}

// A queue that keeps a copy of its part of a block (the rest dropped)
// holds its records' keys in the copy: what it pushed costs no more than
// what it found room for, so it stays within queue_bytes.
func TestQueuedPartOfABlockWithinQueueBytes(t *testing.T) {
	cfg := SinkConfig{Name: "stalled", Type: "test", OnFull: PolicyDrop, QueueBytes: 16 << 10, BatchBytes: 1 << 20, BatchSize: 1 << 20, QueueSize: 1 << 20}
	sink := slowSink{tokens: make(chan struct{})}
	r, err := NewRunner(sink, cfg, WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	recs := records(400, 40)
	for i := range recs {
		recs[i].Key = strings.Repeat("k", 60) // a flow's addresses and ports
	}
	f := NewFanout(r)
	for range 3 {
		if err := f.Write(recs); err != nil {
			t.Fatal(err)
		}
		r.mu.Lock()
		held, copied := r.q.cost+r.flCost, 0
		for k := range r.q.n {
			if r.q.blks[(r.q.head+k)%len(r.q.blks)] == nil {
				copied++
			}
		}
		r.mu.Unlock()
		if copied == 0 {
			t.Fatal("the queue kept no copy: the test does not reach the case")
		}
		if held > int64(cfg.QueueBytes) {
			t.Fatalf("the queue holds %d bytes, queue_bytes %d", held, cfg.QueueBytes)
		}
	}
	close(sink.tokens)
	if _, err := f.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}
