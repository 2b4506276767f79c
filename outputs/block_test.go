package outputs

import (
	"bytes"
	"testing"

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
