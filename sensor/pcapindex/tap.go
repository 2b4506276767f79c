package pcapindex

import (
	"fmt"
	"sync"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/source"
)

// Writer indexes the capture files of a replay into one folder (a
// pipeline.Tap per file), and says what it wrote.
type Writer struct {
	Dir string
	// Filtered: the replay had a BPF filter, so its indexes list only
	// what passed it; they are marked partial (a carve scans instead).
	Filtered bool
	seed     uint16
	defrag   decode.DefragConfig
	budget   *budget.Budget

	mu      sync.Mutex
	written []string
	errs    []error
}

// NewWriter returns a Writer into dir (which must exist) for Community ID
// seed seed, holding fragments as the decoder's cfg does.
func NewWriter(dir string, seed uint16, cfg decode.DefragConfig, b *budget.Budget) *Writer {
	return &Writer{Dir: dir, seed: seed, defrag: cfg, budget: b}
}

// Open returns the tap that indexes one capture file.
func (w *Writer) Open(path string) *FileTap {
	acct := w.budget.NewAccount()
	b := NewBuilder(w.seed, w.defrag, acct)
	b.Partial = w.Filtered
	return &FileTap{w: w, path: path, acct: acct, b: b}
}

// Written lists the index files written; Errors what failed.
func (w *Writer) Written() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.written...)
}

// Errors lists the indexes that could not be written, and why.
func (w *Writer) Errors() []error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]error(nil), w.errs...)
}

// FileTap builds the index of one capture file as a replay reads it.
type FileTap struct {
	w    *Writer
	path string
	acct *budget.Account
	b    *Builder
}

// Frame indexes one frame.
func (t *FileTap) Frame(fr *source.Frame, st decode.Status, p *decode.Packet) {
	t.b.Add(st, p, Ref{Offset: fr.Offset, TS: fr.Timestamp.UnixNano(), Len: fr.WireLen})
}

// Done writes the index of the file src finished reading.
func (t *FileTap) Done(src *source.File) {
	defer t.acct.Close()
	x, err := t.b.Index(t.path, src.SyncPoints())
	out := PathFor(t.w.Dir, t.path)
	if err == nil {
		err = x.Write(out)
	}
	t.w.mu.Lock()
	defer t.w.mu.Unlock()
	if err != nil {
		t.w.errs = append(t.w.errs, fmt.Errorf("index of %s: %w", t.path, err))
		return
	}
	t.w.written = append(t.w.written, out)
}
