// Package files is the sensor's files layer: every file a parser sees in a
// transfer (through parsers.FileOpener) is typed by its first bytes, hashed
// as its bytes arrive and summed up in a Result when its transfer ends. Only
// the magic sniff window (SniffBytes) is held per file; the hashes are
// streaming, so memory per file is fixed (Footprint) and drawn from the
// memory budget.
package files

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/internal/freelist"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// Hash names a digest the layer can compute.
type Hash uint8

const (
	MD5 Hash = iota
	SHA1
	SHA256
	numHashes
)

var hashNames = [numHashes]string{"md5", "sha1", "sha256"}

func (h Hash) String() string { return hashNames[h] }

// ParseHash maps "md5", "sha1" or "sha256" to its Hash.
func ParseHash(s string) (Hash, error) {
	for i, n := range hashNames {
		if strings.EqualFold(s, n) {
			return Hash(i), nil
		}
	}
	return 0, fmt.Errorf("unknown hash %q (want md5, sha1 or sha256)", s)
}

// DefaultHashes are computed when Config.Hashes is empty: SHA-256 only.
// On the benchmark capture (bench-large, 13.5k files) it costs a third of
// the CPU that MD5 and SHA-1 together add (see the README for the figures);
// feeds that list only MD5 or SHA-1 need them added in files.hashes.
var DefaultHashes = []Hash{SHA256}

// Defaults of Config.
const (
	// DefaultMaxFileBytes: bytes of one file hashed before its hashes are
	// given up (its size is still counted).
	DefaultMaxFileBytes = 1 << 30
	// DefaultMaxOpen: files typed and hashed at once per worker.
	DefaultMaxOpen = 1024
)

// SniffBytes is the magic sniff window: the leading bytes of each file
// held to find its type.
const SniffBytes = 4096

// Footprint is what one open file holds: its sniff window, hash states
// and bookkeeping. It is reserved on the worker's account (pool Files).
const Footprint = SniffBytes + 2<<10

// Config tunes the files layer. The zero value is the default.
type Config struct {
	// Hashes to compute (default DefaultHashes).
	Hashes []Hash
	// NoHashes turns hashing off (type and size only).
	NoHashes bool
	// MaxFileBytes bounds the bytes of one file that are hashed (default
	// DefaultMaxFileBytes); past it the file's hashes are dropped and its
	// event says so.
	MaxFileBytes int64
	// MaxOpen bounds the files open at once on one Tracker (default
	// DefaultMaxOpen); past it, or when the budget refuses Footprint, a
	// file is only counted (size, no type or hashes).
	MaxOpen int
	// Store, when set, receives the files as they arrive; a complete file
	// of a kept type is kept if Result.Keep says so. It needs SHA-256,
	// which is then computed whatever Hashes says.
	Store *Store
}

// Stats counts what a Tracker did.
type Stats struct {
	Files     uint64 // files closed
	Bytes     uint64 // file bytes written
	Hashed    uint64 // files whose hashes were reported
	Unhashed  uint64 // files counted without type or hashes: MaxOpen or the budget
	OverLimit uint64 // files past MaxFileBytes
}

// Add sums o into s.
func (s *Stats) Add(o Stats) {
	s.Files += o.Files
	s.Bytes += o.Bytes
	s.Hashed += o.Hashed
	s.Unhashed += o.Unhashed
	s.OverLimit += o.OverLimit
}

// Tracker opens the files of one worker; it is not safe for concurrent use.
type Tracker struct {
	store    *Store
	hashes   []Hash
	maxBytes int64
	maxOpen  int
	acct     *budget.Account
	open     int
	stats    Stats
	spares   freelist.List[spare]
	sum      []byte // a hash's sum on its way to hex (sum)
}

// spare is a closed file's sniff window and hash states, kept for the next
// file: each file used to take new ones (bench-large: 13.5k files, ~60 MB
// of garbage). At most maxSpares are kept, a fixed few KiB per worker.
type spare struct {
	head []byte
	h    [numHashes]hash.Hash
}

const maxSpares = 4

// NewTracker returns a Tracker drawing on acct (nil: unlimited).
func NewTracker(cfg Config, acct *budget.Account) *Tracker {
	t := &Tracker{store: cfg.Store, hashes: cfg.Hashes, maxBytes: cfg.MaxFileBytes, maxOpen: cfg.MaxOpen, acct: acct}
	if len(t.hashes) == 0 {
		t.hashes = DefaultHashes
	}
	if cfg.NoHashes {
		t.hashes = nil
	}
	if t.store != nil && !slices.Contains(t.hashes, SHA256) {
		t.hashes = append(slices.Clone(t.hashes), SHA256)
	}
	if t.maxBytes <= 0 {
		t.maxBytes = DefaultMaxFileBytes
	}
	if t.maxOpen <= 0 {
		t.maxOpen = DefaultMaxOpen
	}
	return t
}

// UseBudget makes the tracker draw on acct from now on; call it before
// the first Open.
func (t *Tracker) UseBudget(acct *budget.Account) { t.acct = acct }

// Stats returns the counters so far.
func (t *Tracker) Stats() Stats { return t.stats }

// A Reporter takes each file's Result, once, from its Close; the Result is
// valid only during the call.
type Reporter interface {
	FileDone(r *Result)
}

// ReportFunc is a function as a Reporter.
type ReportFunc func(r *Result)

// FileDone implements Reporter.
func (f ReportFunc) FileDone(r *Result) { f(r) }

// Open starts a file the transfer declares as info; done (nil: none)
// takes its Result. An interface, not a func: a caller's pointer is no
// allocation, where a closure over it is one per caller.
func (t *Tracker) Open(info *parsers.FileInfo, done Reporter) *File {
	f := &File{t: t, done: done}
	f.res.Info = *info
	if info.Range != nil {
		r := *info.Range
		f.res.Info.Range = &r
	}
	if t.open >= t.maxOpen || !t.acct.Reserve(budget.Files, Footprint) {
		f.res.Unhashed = true
		return f
	}
	t.open++
	f.held = true
	s, _ := t.spares.Get()
	if f.head = s.head[:0]; f.head == nil {
		f.head = make([]byte, 0, SniffBytes)
	}
	for _, h := range t.hashes {
		if f.h[h] = s.h[h]; f.h[h] != nil {
			f.h[h].Reset()
		} else {
			f.h[h] = newHash(h)
		}
	}
	if t.store != nil && info.Size <= t.store.cfg.MaxFileBytes {
		f.in = t.store.begin()
	}
	return f
}

func newHash(h Hash) hash.Hash {
	switch h {
	case MD5:
		return md5.New()
	case SHA1:
		return sha1.New()
	}
	return sha256.New()
}

// Result is what one file's transfer came to.
type Result struct {
	Info parsers.FileInfo // as declared (Range copied)
	// End is how the transfer ended, as the parser says it, or FileGap
	// when bytes were missing.
	End     parsers.FileEnd
	Size    int64 // bytes written
	Missing int64 // bytes reported missing (Gap)
	// MimeType is the type found from the leading bytes, "" when none
	// were seen or the file was not inspected.
	MimeType string
	Magic    Magic
	// Hashes of the whole file, hex, only for a complete file that was
	// hashed ("" otherwise).
	MD5, SHA1, SHA256 string
	// Unhashed: counted only (MaxOpen or the memory budget).
	Unhashed bool
	// OverLimit: past MaxFileBytes, hashing stopped.
	OverLimit bool
	// Unsized: the writer stopped once the file was TypedOnly (File.Unsized):
	// Size counts only what was written, not the file.
	Unsized bool
	EndTime time.Time

	in    *incoming // the file's copy in the store, until Keep
	store *Store
}

// Storable says whether the file can be kept in the store: it is
// complete, of a kept type and within its size bound.
func (r *Result) Storable() bool { return r.in != nil }

// Keep keeps a storable file in the store if its event's alerts (rules,
// the rule ids) meet files.store.when, with meta as its sidecar (its
// SHA256 is the file's); otherwise the copy is dropped. It returns whether
// the file is in the store now.
func (r *Result) Keep(meta *Sidecar, rules []string) (bool, error) {
	in := r.in
	if in == nil {
		return false, nil
	}
	r.in = nil
	if !r.store.Keep(rules) {
		r.store.discard(in)
		return false, nil
	}
	meta.SHA256 = r.SHA256
	meta.Rules = rules
	err := r.store.commit(in, meta)
	return err == nil, err
}

// File is one file in transfer; it implements parsers.TypedSink.
type File struct {
	t       *Tracker
	done    Reporter
	res     Result
	h       [numHashes]hash.Hash
	head    []byte
	sniffed bool      // res.Magic is Sniff(head), head being full
	in      *incoming // copy being written to the store
	held    bool      // Footprint reserved
	closed  bool
	// sha256Hex holds the result's SHA256 string: a File is never used
	// again, so the string can live in it (its size class holds both).
	sha256Hex [2 * sha256.Size]byte
}

var _ parsers.TypedSink = (*File)(nil)

// Write hashes p and keeps what the sniff window still lacks. It returns
// false when the file wants no more bytes: past MaxFileBytes, or TypedOnly.
func (f *File) Write(p []byte) bool {
	if f.closed || len(p) == 0 {
		return !f.closed
	}
	f.res.Size += int64(len(p))
	f.t.stats.Bytes += uint64(len(p))
	if !f.held {
		return true
	}
	if room := SniffBytes - len(f.head); room > 0 && f.res.Missing == 0 {
		f.head = append(f.head, p[:min(room, len(p))]...)
		if len(f.head) == SniffBytes && f.in != nil {
			// Its type is known now (the head changes no more: Close uses it).
			if f.res.Magic, f.sniffed = Sniff(f.head), true; !f.t.store.Wants(f.res.Magic) {
				f.dropCopy() // not kept: write no more of it
			}
		}
	}
	if f.res.Size > f.t.maxBytes {
		f.res.OverLimit = true
		f.dropHashes()
		f.dropCopy()
		return false
	}
	for _, h := range f.h {
		if h != nil {
			h.Write(p)
		}
	}
	if f.in != nil {
		if f.t.store.write(f.in, p); f.in.dead {
			f.dropCopy()
		}
	}
	return !f.TypedOnly()
}

// TypedOnly says whether the file needs no more bytes: its type is read
// (or can no longer be: a gap), there is nothing to hash or store, and
// its size is still counted (not past MaxFileBytes, whose size its event
// gives).
func (f *File) TypedOnly() bool {
	return f.held && !f.res.OverLimit && f.h == [numHashes]hash.Hash{} && f.in == nil && (len(f.head) == SniffBytes || f.res.Missing > 0)
}

// Unsized tells the file that its writer stopped writing before its end
// once it was TypedOnly: its size is not known.
func (f *File) Unsized() {
	if !f.closed {
		f.res.Unsized = true
	}
}

// Gap notes n missing bytes: the hashes can no longer be the file's.
func (f *File) Gap(n int64) {
	if f.closed || n <= 0 {
		return
	}
	f.res.Missing += n
	f.dropHashes()
	f.dropCopy()
}

// dropCopy discards the file's copy in the store, if any, as soon as it
// cannot be kept: its descriptor and disk space are not held to the end.
func (f *File) dropCopy() {
	if f.in != nil {
		f.t.store.discard(f.in)
		f.in = nil
	}
}

func (f *File) dropHashes() {
	f.h = [numHashes]hash.Hash{}
}

// Close ends the file, types it, finishes its hashes and reports it.
func (f *File) Close(end parsers.FileEnd, ts time.Time) {
	if f.closed {
		return
	}
	f.closed = true
	r := &f.res
	r.End, r.EndTime = end, ts
	if r.Missing > 0 && end == parsers.FileComplete {
		r.End = parsers.FileGap
	}
	t := f.t
	t.stats.Files++
	switch {
	case r.Unhashed:
		t.stats.Unhashed++
	case r.OverLimit:
		t.stats.OverLimit++
	}
	if f.held {
		if !f.sniffed {
			r.Magic = Sniff(f.head)
		}
		r.MimeType = r.Magic.MimeType
		if r.End == parsers.FileComplete && f.h != ([numHashes]hash.Hash{}) {
			r.MD5, r.SHA1 = t.hexSum(f.h[MD5], nil), t.hexSum(f.h[SHA1], nil)
			r.SHA256 = t.hexSum(f.h[SHA256], f.sha256Hex[:])
			t.stats.Hashed++
		}
		t.spares.Put(spare{head: f.head, h: f.h}, maxSpares)
		f.head, f.h = nil, [numHashes]hash.Hash{}
		t.open--
		t.acct.Release(budget.Files, Footprint)
	}
	if in := f.in; in != nil {
		f.in = nil
		if r.SHA256 != "" && t.store.Wants(r.Magic) { // a dead copy was dropped at its write
			r.in, r.store = in, t.store
		} else {
			t.store.discard(in)
		}
	}
	if f.done != nil {
		f.done.FileDone(r)
	}
	if r.in != nil { // done did not Keep it
		r.store.discard(r.in)
		r.in = nil
	}
}

// hexSum is h's sum in hex ("" for no hash): written into into, which
// must have room and never change after, else in one allocation. The sum
// goes through t.sum (a buffer given to an interface's Sum escapes, one a
// file) and the hex through the stack.
func (t *Tracker) hexSum(h hash.Hash, into []byte) string {
	if h == nil {
		return ""
	}
	t.sum = h.Sum(t.sum[:0])
	if into != nil {
		n := hex.Encode(into, t.sum)
		return unsafe.String(&into[0], n)
	}
	var out [2 * sha256.Size]byte
	return string(out[:hex.Encode(out[:], t.sum)])
}
