package file

import (
	"os"
	"sync"
	"sync/atomic"
)

// writebackEvery is how many bytes a file gets between starts of their
// writeback to the disk: the fsync of a rotation or of Close then waits
// for the last few MiB, not for all that was written since the file was
// opened (a replay of 1.2 M packets writes 169 MB of NDJSON, whose fsync
// at Close took 0.09-0.13 s after the last event).
const writebackEvery = 8 << 20

// writeback starts the kernel's writeback of a file's bytes every
// writebackEvery, each on a goroutine of its own: the call can wait (for
// the disk's write throttling, or for the file's block map while the
// kernel ends the writeback before), and the output's goroutine, which the
// pipeline waits for, must not wait with it. At most one start is under
// way; one asked meanwhile is left to the next, which takes its bytes too.
type writeback struct {
	f     *os.File
	asked int64       // the offset the last start went up to
	busy  atomic.Bool // a start is under way
	runs  sync.WaitGroup
}

func newWriteback(f *os.File, from int64) *writeback {
	return &writeback{f: f, asked: from}
}

// upTo starts the writeback of the bytes before off once they make
// writebackEvery more than the last start took.
func (w *writeback) upTo(off int64) {
	if off-w.asked < writebackEvery {
		return
	}
	if !w.busy.CompareAndSwap(false, true) {
		return
	}
	from := w.asked
	w.asked = off
	w.runs.Go(func() {
		startWriteback(w.f, from, off-from)
		w.busy.Store(false)
	})
}

// wait returns when no writeback start is under way: the file may then be
// closed. It may be called any number of times.
func (w *writeback) wait() { w.runs.Wait() }
