package outputs_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/outputs"
	_ "github.com/packetsleuth/packetsleuth/outputs/file"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// stalledPipe makes a named pipe whose reader reads nothing until drain
// is called: a file output writing to it stalls once the pipe is full.
// drain reads it to its end (every writer closed) and returns its lines'
// "n", in order.
func stalledPipe(t *testing.T, path string) (drain func() <-chan []int) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	rd, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	return func() <-chan []int {
		ch := make(chan []int, 1)
		go func() {
			defer rd.Close()
			var got []int
			sc := bufio.NewScanner(rd)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var v struct{ N int }
				if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
					t.Errorf("%s: %v", path, err)
				}
				got = append(got, v.N)
			}
			ch <- got
		}()
		return ch
	}
}

// TestQueuesDrawOnTheBudgetWithAStalledOutput floods three file outputs,
// two of them writing to pipes nobody reads (on_full: drop and spool), one
// to a file (on_full: block), while most of a small budget is held by
// another pool, as flows hold it under a flood. The queues' memory never
// exceeds what they reserved, the budget's refusals are counted, and every
// record ends delivered, spooled or dropped: none is lost.
func TestQueuesDrawOnTheBudgetWithAStalledOutput(t *testing.T) {
	const (
		limit   = 16 << 20
		flows   = limit - 3<<20 // what the "flows" leave the outputs
		records = 30000
		batch   = 100
	)
	dir := t.TempDir()
	drainDrop := stalledPipe(t, filepath.Join(dir, "drop.pipe"))
	drainSpool := stalledPipe(t, filepath.Join(dir, "spool.pipe"))
	var cfgs []outputs.SinkConfig
	if err := yaml.Unmarshal(fmt.Appendf(nil, `
- {type: file, name: drop, path: %[1]s/drop.pipe, on_full: drop, batch_bytes: 256KiB, queue_bytes: 8MiB}
- {type: file, name: spool, path: %[1]s/spool.pipe, on_full: spool, spool_dir: %[1]s/spool, batch_bytes: 256KiB, queue_bytes: 8MiB}
- {type: file, name: fast, path: %[1]s/fast.ndjson, batch_bytes: 256KiB, queue_bytes: 8MiB}
`, dir), &cfgs); err != nil {
		t.Fatal(err)
	}
	b := budget.New(limit)
	if !b.Reserve(budget.Flows, flows) {
		t.Fatal("the flows' share was refused")
	}
	f, err := outputs.Open(cfgs, quiet(), outputs.WithBudget(b))
	if err != nil {
		t.Fatal(err)
	}

	// Written as the workers write: one buffer, filled again for each write.
	buf := make([]schemas.Record, 0, batch)
	var arena []byte
	for start := 0; start < records; start += batch {
		buf, arena = buf[:0], arena[:0]
		for n := start; n < start+batch; n++ {
			at := len(arena)
			arena = append(arena, docOf(n)...)
			buf = append(buf, schemas.Record{Dataset: schemas.DatasetFlow, Kind: "event", JSON: arena[at:len(arena):len(arena)]})
		}
		if err := f.Write(buf); err != nil {
			t.Fatal(err)
		}
		// Only the deliveries run now, and they only shrink the queues:
		// what the queues hold after the budget's snapshot is within it.
		bs := b.Stats()
		var queued int64
		for _, s := range f.Stats() {
			queued += s.QueueBytes
		}
		if reserved := bs.Pools[budget.Outputs].Used; queued > reserved {
			t.Fatalf("after record %d the queues hold %d bytes of JSON, more than the %d reserved", start+batch, queued, reserved)
		}
		if bs.Used > limit {
			t.Fatalf("the budget holds %d bytes, over its %d", bs.Used, limit)
		}
	}

	st := f.Stats()
	if st[0].BudgetRefused == 0 || st[1].BudgetRefused == 0 {
		t.Errorf("the stalled outputs were never refused by the budget: %+v, %+v", st[0], st[1])
	}
	if d := b.Stats().Pools[budget.Outputs].Denied; d == 0 {
		t.Error("the budget counted no refusal of the outputs pool")
	}

	dropped, spooled := drainDrop(), drainSpool()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sums, err := f.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sums {
		if s.Offered != records || s.Lost != 0 || s.DeadLettered != 0 ||
			s.Sent+uint64(s.SpoolRecords)+s.Dropped != records {
			t.Errorf("%s", s)
		}
	}
	if sums[0].Dropped == 0 || sums[1].Dropped != 0 || sums[2].Dropped != 0 {
		t.Errorf("only the stalled drop output should drop: %s; %s; %s", sums[0], sums[1], sums[2])
	}
	if st[1].Spooled == 0 {
		t.Errorf("the stalled spool output spooled nothing: %+v", st[1])
	}
	checkIncreasing(t, "drop", <-dropped, int(sums[0].Sent))
	checkIncreasing(t, "spool", <-spooled, int(sums[1].Sent))
	if u := b.Stats().Pools[budget.Outputs].Used; u != 0 {
		t.Errorf("the closed outputs still hold %d bytes of the budget", u)
	}
}

// checkIncreasing checks that an output delivered n records, each once,
// in the order written.
func checkIncreasing(t *testing.T, name string, got []int, n int) {
	t.Helper()
	if len(got) != n {
		t.Errorf("%s: %d records arrived, the summary says %d delivered", name, len(got), n)
	}
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("%s: record %d is n=%d after n=%d", name, i, got[i], got[i-1])
		}
	}
}
