// Package file is the NDJSON output: one ECS document per line, to a file
// (optionally one per dataset) with rotation by size and time, or to stdout.
// It is the hot output of `sensor replay`: a batch costs one write per
// file and no allocation per record.
//
//	outputs:
//	  - type: file
//	    path: /var/log/packetsleuth/events.ndjson   # "-" is stdout
//	    per_dataset: true      # events-flow.ndjson, events-dns.ndjson, ...
//	    rotate_size: 256MiB
//	    rotate_interval: 1h
//	    gzip: true
//
// A rotated file is renamed to the active name plus the UTC time its first
// record was written, e.g. events-2026-11-24T10-00-00.ndjson (a counter is
// added if that name exists), then gzipped when asked. Files are fsynced on
// rotation and on Close; on Linux their writeback to the disk is started
// every 8 MiB (see writeback), so that fsync has little left to wait for.
// On a full disk a write is cut back to its last whole line and the
// records not written are retried (see Write). A rotation that fails once
// the file is closed (the file deleted or moved under the sensor) fails
// its record, and the retry opens the path again.
package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/packetsleuth/packetsleuth/internal/textsafe"
	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
)

func init() {
	outputs.Register("file", func(cfg outputs.SinkConfig) (outputs.Sink, error) {
		var o Options
		if err := cfg.DecodeOptions(&o); err != nil {
			return nil, err
		}
		return New(o)
	}, Options{})
}

// Options are the file output's own keys.
type Options struct {
	// Path of the active file; "-" writes to stdout. With per_dataset, a
	// "{dataset}" placeholder is replaced by the short dataset name (flow,
	// dns, http, tls, alert, ...), or "-<dataset>" is added before the
	// extension when there is none.
	Path           string           `yaml:"path"`
	PerDataset     bool             `yaml:"per_dataset"`
	RotateSize     outputs.ByteSize `yaml:"rotate_size"`     // 0: no size rotation
	RotateInterval time.Duration    `yaml:"rotate_interval"` // 0: no time rotation; aligned to UTC multiples
	Gzip           bool             `yaml:"gzip"`            // gzip rotated files (name.ndjson.gz)
	BufferSize     outputs.ByteSize `yaml:"buffer_size"`     // bytes of a batch written per write call, default 256KiB
	Mode           uint32           `yaml:"mode"`            // file permissions, default 0640
}

// TimeLayout is the time in rotated file names (UTC, no colons).
const TimeLayout = "2006-01-02T15-04-05"

// Validate checks the options.
func (o *Options) Validate() error {
	var errs []error
	if o.Path == "" {
		errs = append(errs, errors.New("outputs.file: path: must not be empty (\"-\" is stdout)"))
	}
	if o.Path == "-" && (o.PerDataset || o.RotateSize > 0 || o.RotateInterval > 0 || o.Gzip) {
		errs = append(errs, errors.New("outputs.file: path \"-\" (stdout) cannot use per_dataset, rotation or gzip"))
	}
	if o.RotateSize < 0 || o.RotateInterval < 0 || o.BufferSize < 0 {
		errs = append(errs, errors.New("outputs.file: rotate_size, rotate_interval and buffer_size must not be negative"))
	}
	if o.Gzip && o.RotateSize == 0 && o.RotateInterval == 0 {
		errs = append(errs, errors.New("outputs.file: gzip needs rotate_size or rotate_interval"))
	}
	if strings.Contains(o.Path, "{dataset}") && !o.PerDataset {
		errs = append(errs, errors.New("outputs.file: path has {dataset} but per_dataset is false"))
	}
	return errors.Join(errs...)
}

// Sink writes NDJSON files. Use New; the Runner calls its methods.
type Sink struct {
	opts  Options
	now   func() time.Time
	files map[string]*out // by short dataset ("" when not per dataset)
	order []*out          // touched in this batch
	gz    sync.WaitGroup
	gzMu  sync.Mutex
	gzErr error
}

// out is one open file.
type out struct {
	path    string
	f       *os.File   // nil for stdout
	wb      *writeback // of f
	w       io.Writer  // f, or stdout
	size    int64      // bytes of whole lines in the file
	opened  time.Time  // when its first record was written
	due     time.Time  // rotate_interval deadline (zero: none)
	touched bool

	// the lines of this batch not written yet, the batch index and end
	// offset of each, and whether this file failed in this batch
	pend   []byte
	idx    []int
	ends   []int
	failed bool
	// gone: its rotation failed once the file was closed; the sink forgets
	// it at the batch's end, so that the records after the failed one
	// fail too and keep their order when retried
	gone bool
	// torn: a failed write may have left part of a line after size, to be
	// cut off before the next write
	torn bool
}

// New returns a file Sink for o.
func New(o Options) (*Sink, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.BufferSize == 0 {
		o.BufferSize = 256 << 10
	}
	if o.Mode == 0 {
		o.Mode = 0o640
	}
	return &Sink{opts: o, now: time.Now, files: map[string]*out{}}, nil
}

// Connect creates the directory of the files.
func (s *Sink) Connect(ctx context.Context) error {
	if s.opts.Path == "-" {
		return nil
	}
	return os.MkdirAll(filepath.Dir(s.opts.Path), 0o750)
}

// Write appends one line per record; each touched file gets one write (or
// one per buffer_size). A write that fails (a full disk) is cut back to the
// last whole line it wrote: the records on those lines are delivered, the
// others are reported in a *outputs.BatchError and retried by the Runner,
// so a line is never torn nor written twice, and writing resumes when the
// disk has room again.
func (s *Sink) Write(ctx context.Context, batch []schemas.Record) error {
	s.order = s.order[:0]
	var failed []int
	var cause error // the first failure, for the log and last_error
	fail := func(err error, idx ...int) {
		if cause == nil {
			cause = err
		}
		failed = append(failed, idx...)
	}
	for i := range batch {
		r := &batch[i]
		key := ""
		if s.opts.PerDataset {
			key = shortDataset(r.Dataset)
		}
		o := s.files[key]
		if o == nil {
			var err error
			if o, err = s.open(key); err != nil {
				fail(err, i)
				continue
			}
		}
		if !o.touched {
			o.touched = true
			s.order = append(s.order, o)
		}
		if o.failed {
			failed = append(failed, i)
			continue
		}
		n := int64(len(r.JSON)) + 1
		if o.f != nil {
			if err := s.maybeRotate(o, n); err != nil {
				o.failed = true
				fail(err, append(o.idx, i)...)
				continue
			}
		}
		if o.size+int64(len(o.pend)) == 0 && o.f != nil {
			o.opened = s.now()
			o.due = s.deadline(o.opened)
		}
		o.pend = append(append(o.pend, r.JSON...), '\n')
		o.idx = append(o.idx, i)
		o.ends = append(o.ends, len(o.pend))
		if len(o.pend) >= int(s.opts.BufferSize) {
			if rest, err := s.flush(o); err != nil {
				o.failed = true
				fail(err, rest...)
			}
		}
	}
	for _, o := range s.order {
		if !o.failed {
			if rest, err := s.flush(o); err != nil {
				fail(err, rest...)
			}
		}
		o.touched, o.failed = false, false
		o.pend, o.idx, o.ends = o.pend[:0], o.idx[:0], o.ends[:0]
		if o.gone {
			s.forget(o)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	slices.Sort(failed)
	return fmt.Errorf("%w: %w", &outputs.BatchError{Failed: failed}, cause)
}

// flush writes o's pending lines. On error it keeps the whole lines that
// were written, cuts the file back after them and returns the batch
// indices of the records that were not.
func (s *Sink) flush(o *out) (notWritten []int, err error) {
	if len(o.pend) == 0 {
		return nil, nil
	}
	if o.torn {
		if err := o.f.Truncate(o.size); err != nil {
			return slices.Clone(o.idx), fmt.Errorf("outputs.file: %s: cutting a torn line: %w", o.path, err)
		}
		o.torn = false
	}
	n, err := o.w.Write(o.pend)
	if err == nil {
		o.size += int64(len(o.pend))
		o.pend, o.idx, o.ends = o.pend[:0], o.idx[:0], o.ends[:0]
		if o.wb != nil {
			o.wb.upTo(o.size)
		}
		return nil, nil
	}
	whole, kept := 0, 0
	for whole < len(o.ends) && o.ends[whole] <= n {
		kept = o.ends[whole]
		whole++
	}
	o.size += int64(kept)
	if o.f != nil && n > kept {
		o.torn = o.f.Truncate(o.size) != nil
	}
	notWritten = slices.Clone(o.idx[whole:])
	o.pend, o.idx, o.ends = o.pend[:0], o.idx[:0], o.ends[:0]
	return notWritten, fmt.Errorf("outputs.file: %s: %w", o.path, err)
}

func (s *Sink) deadline(t time.Time) time.Time {
	if s.opts.RotateInterval <= 0 {
		return time.Time{}
	}
	return t.UTC().Truncate(s.opts.RotateInterval).Add(s.opts.RotateInterval)
}

// maybeRotate rotates o if adding n bytes would pass rotate_size or its
// interval is over. A record larger than rotate_size gets a file of its own.
func (s *Sink) maybeRotate(o *out, n int64) error {
	size := o.size + int64(len(o.pend))
	if size == 0 {
		return nil
	}
	bySize := s.opts.RotateSize > 0 && size+n > int64(s.opts.RotateSize)
	byTime := !o.due.IsZero() && !s.now().Before(o.due)
	if !bySize && !byTime {
		return nil
	}
	return s.rotate(o)
}

// rotate writes, fsyncs and renames the active file, reopens a new one
// and gzips the old in the background. On a failed write the records not
// written stay pending in o (the caller fails them).
func (s *Sink) rotate(o *out) error {
	if rest, err := s.flush(o); err != nil {
		o.idx = append(o.idx[:0], rest...)
		return err
	}
	if err := o.f.Sync(); err != nil {
		return fmt.Errorf("outputs.file: %s: %w", o.path, err)
	}
	o.wb.wait()
	err := o.f.Close()
	if err == nil {
		err = s.renew(o)
	}
	if err != nil {
		// Its file is closed (or was moved or deleted): the next batch
		// opens the path again, and the Runner retries the ones failed.
		o.gone = true
		return fmt.Errorf("outputs.file: %s: %w", o.path, err)
	}
	return nil
}

// forget drops o, whose file is closed, from the open files.
func (s *Sink) forget(o *out) {
	for k, x := range s.files {
		if x == o {
			delete(s.files, k)
		}
	}
}

// renew renames o's closed file to its rotated name, opens a new one in
// its place and gzips the old in the background when asked.
func (s *Sink) renew(o *out) error {
	dst, err := rotatedName(o.path, o.opened, s.opts.Gzip)
	if err != nil {
		return err
	}
	if err := os.Rename(o.path, dst); err != nil {
		return fmt.Errorf("rotate: %w", err)
	}
	if s.opts.Gzip {
		s.gz.Go(func() {
			if err := gzipFile(dst); err != nil {
				s.gzMu.Lock()
				s.gzErr = errors.Join(s.gzErr, err)
				s.gzMu.Unlock()
			}
		})
	}
	f, err := os.OpenFile(o.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, os.FileMode(s.opts.Mode))
	if err != nil {
		return err
	}
	o.f, o.w, o.size, o.wb = f, f, 0, newWriteback(f, 0)
	return nil
}

// rotatedName is path with "-<time>" before its extension, plus "-N" when
// taken (also by a gzipped file of that name).
func rotatedName(path string, t time.Time, gz bool) (string, error) {
	ext := filepath.Ext(path)
	base := strings.TrimSuffix(path, ext) + "-" + t.UTC().Format(TimeLayout)
	for i := 0; i < 10000; i++ {
		name := base + ext
		if i > 0 {
			name = base + "-" + strconv.Itoa(i) + ext
		}
		if exists(name) || (gz && exists(name+".gz")) {
			continue
		}
		return name, nil
	}
	return "", fmt.Errorf("no free rotated name for %s", path)
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// gzipFile compresses p to p.gz (via a temp file, fsynced) and removes p.
func gzipFile(p string) error {
	in, err := os.Open(p)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := p + ".gz.tmp"
	fo, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(fo)
	zw.Name = filepath.Base(p)
	_, err = io.Copy(zw, in)
	if e := zw.Close(); err == nil {
		err = e
	}
	if e := fo.Sync(); err == nil {
		err = e
	}
	if e := fo.Close(); err == nil {
		err = e
	}
	if err == nil {
		err = os.Rename(tmp, p+".gz")
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("outputs.file: gzip %s: %w", p, err)
	}
	return os.Remove(p)
}

// open opens (appending) the file for a short dataset name.
func (s *Sink) open(key string) (*out, error) {
	o := &out{}
	if s.opts.Path == "-" {
		o.path = "-"
		// Escaped on a terminal; whole lines, so the escaper holds nothing back.
		o.w, _ = textsafe.ForTerminal(os.Stdout)
		s.files[key] = o
		return o, nil
	}
	o.path = datasetPath(s.opts.Path, key, s.opts.PerDataset)
	f, err := os.OpenFile(o.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, os.FileMode(s.opts.Mode))
	if err != nil {
		return nil, fmt.Errorf("outputs.file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("outputs.file: %w", err)
	}
	o.f, o.size, o.wb = f, fi.Size(), newWriteback(f, fi.Size())
	o.opened = s.now()
	if o.size > 0 {
		o.opened = fi.ModTime()
	}
	o.due = s.deadline(o.opened)
	o.w = f
	s.files[key] = o
	return o, nil
}

// datasetPath names the file of one dataset.
func datasetPath(path, key string, perDataset bool) string {
	if !perDataset {
		return path
	}
	if strings.Contains(path, "{dataset}") {
		return strings.ReplaceAll(path, "{dataset}", key)
	}
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "-" + key + ext
}

// shortDataset turns "packetsleuth.dns" into "dns", keeping only
// [a-z0-9_] so a hostile dataset cannot name a path.
func shortDataset(ds string) string {
	if i := strings.LastIndexByte(ds, '.'); i >= 0 {
		ds = ds[i+1:]
	}
	ok := ds != "" && len(ds) <= 64
	for i := 0; ok && i < len(ds); i++ {
		c := ds[i]
		ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_'
	}
	if ok {
		return ds
	}
	return sanitize(ds)
}

func sanitize(ds string) string {
	if ds == "" {
		return "unknown"
	}
	b := make([]byte, 0, min(len(ds), 64))
	for i := 0; i < len(ds) && len(b) < 64; i++ {
		c := ds[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_':
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		default:
			c = '_'
		}
		b = append(b, c)
	}
	return string(b)
}

// Close flushes and fsyncs every file and waits for pending gzips.
func (s *Sink) Close(ctx context.Context) error {
	var errs []error
	for _, o := range s.files {
		if o.f != nil {
			if err := o.f.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
				// EINVAL: a device such as /dev/null cannot be synced, nor needs it.
				errs = append(errs, err)
			}
			o.wb.wait()
			if err := o.f.Close(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	clear(s.files)
	s.gz.Wait()
	s.gzMu.Lock()
	errs = append(errs, s.gzErr)
	s.gzErr = nil
	s.gzMu.Unlock()
	return errors.Join(errs...)
}
