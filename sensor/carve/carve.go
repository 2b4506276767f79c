// Package carve writes the packets of one flow (by Community ID), or of a
// BPF filter, out of capture files: through their packet index when there
// is a sound one (reading only the flow's records), else by scanning.
package carve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/pcapindex"
	"github.com/packetsleuth/packetsleuth/sensor/source"
)

// ErrNoCapture: neither a capture nor an index naming one was found.
var ErrNoCapture = errors.New("carve: no capture given")

// Options says what to carve. At least one of CommunityID and BPF is set.
type Options struct {
	CommunityID string
	From, To    time.Time // zero: unbounded; both inclusive
	BPF         string
	Seed        uint16 // Community ID seed the flow's ID was made with
	// IndexDirs are searched for the captures' indexes (replay --index);
	// CAPTURE.psidx beside a capture is always tried first.
	IndexDirs []string
	// AllIndexed adds every capture the indexes in IndexDirs name to the
	// paths given (the web server's packet source).
	AllIndexed bool
	NoIndex    bool // scan even where an index exists
	Defrag     decode.DefragConfig
	Budget     *budget.Budget
	// Warn receives what the caller should tell: an index that could not
	// be used (and why), a damaged capture.
	Warn func(string)
}

// Stats says what a carve did.
type Stats struct {
	Files     int    // capture files looked at
	Indexed   int    // of those, answered by their index
	Scanned   int    // of those, read whole
	Frames    uint64 // frames written
	BytesRead int64  // bytes read from capture files (compressed bytes for gzip)
	IndexRead int64  // bytes of index files read
}

type carver struct {
	opt    Options
	filter *source.Filter
	from   int64
	to     int64
	out    *Writer
	st     Stats
	acct   *budget.Account
}

// Carve writes to out the frames of the capture files (or directories) at
// paths that opt selects, file by file in the order given, each file's in
// capture order. With no paths, the captures named by the indexes in
// opt.IndexDirs are used.
func Carve(ctx context.Context, paths []string, opt Options, out *Writer) (Stats, error) {
	if opt.CommunityID == "" && opt.BPF == "" {
		return Stats{}, errors.New("carve: a Community ID or a BPF filter is needed")
	}
	filter, err := source.NewFilter(opt.BPF)
	if err != nil {
		return Stats{}, err
	}
	c := &carver{opt: opt, filter: filter, out: out, from: -1 << 63, to: 1<<63 - 1, acct: opt.Budget.NewAccount()}
	defer c.acct.Close()
	if !opt.From.IsZero() {
		c.from = opt.From.UnixNano()
	}
	if !opt.To.IsZero() {
		c.to = opt.To.UnixNano()
	}
	files, known, err := c.captures(paths)
	if err != nil {
		return c.st, err
	}
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return c.st, err
		}
		c.st.Files++
		if err := c.file(path, known[path]); err != nil {
			return c.st, err
		}
	}
	return c.st, nil
}

// captures lists the files to read, and the indexes already loaded for
// those the index folders name.
func (c *carver) captures(paths []string) ([]string, map[string]*pcapindex.Index, error) {
	var files []string
	if len(paths) > 0 {
		var err error
		if files, err = source.Expand(paths); err != nil || !c.opt.AllIndexed {
			return files, nil, err
		}
	}
	seen := map[string]bool{}
	for _, f := range files {
		if abs, err := filepath.Abs(f); err == nil {
			seen[abs] = true
		}
	}
	known := map[string]*pcapindex.Index{}
	for _, dir := range c.opt.IndexDirs {
		names, err := filepath.Glob(filepath.Join(dir, "*"+pcapindex.Suffix))
		if err != nil {
			return nil, nil, err
		}
		slices.Sort(names)
		for _, n := range names {
			x, err := c.load(n)
			if err != nil {
				c.warn(fmt.Sprintf("%v (skipped)", err))
				continue
			}
			if known[x.Capture] == nil && !seen[x.Capture] {
				files = append(files, x.Capture)
				known[x.Capture] = x
			}
		}
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("%w and no index in %v", ErrNoCapture, c.opt.IndexDirs)
	}
	return files, known, nil
}

func (c *carver) warn(msg string) {
	if c.opt.Warn != nil {
		c.opt.Warn(msg)
	}
}

func (c *carver) load(path string) (*pcapindex.Index, error) {
	x, err := pcapindex.Load(path)
	if err == nil {
		if st, serr := os.Stat(path); serr == nil {
			c.st.IndexRead += st.Size()
		}
	}
	return x, err
}

// file carves one capture file.
func (c *carver) file(path string, x *pcapindex.Index) error {
	if offsets, syncs, ok := c.fromIndex(path, x); ok {
		c.st.Indexed++
		return c.copy(path, offsets, syncs)
	}
	c.st.Scanned++
	return c.scan(path)
}

// index finds a usable index of path: beside it, or in an index folder.
// Every index found but unusable is said, and the capture scanned.
func (c *carver) index(path string) *pcapindex.Index {
	candidates := []string{pcapindex.PathFor("", path)}
	for _, d := range c.opt.IndexDirs {
		candidates = append(candidates, pcapindex.PathFor(d, path))
	}
	for _, n := range candidates {
		if _, err := os.Stat(n); err != nil {
			continue
		}
		x, err := c.load(n)
		if err != nil {
			c.warn(fmt.Sprintf("%v; scanning %s instead", err, path))
			continue
		}
		return x
	}
	return nil
}

// fromIndex returns the offsets of the flow's records in path, sorted,
// and the capture's sync points, if an index can say.
func (c *carver) fromIndex(path string, x *pcapindex.Index) (offsets, syncs []int64, ok bool) {
	if c.opt.NoIndex || c.opt.CommunityID == "" {
		return nil, nil, false
	}
	if x == nil {
		if x = c.index(path); x == nil {
			return nil, nil, false
		}
	}
	why := ""
	switch err := x.Check(); {
	case err != nil:
		why = err.Error()
	case x.Partial:
		why = "the index is partial (the memory budget was reached while indexing)"
	case x.Seed != c.opt.Seed:
		why = fmt.Sprintf("the index was made with Community ID seed %d, not %d", x.Seed, c.opt.Seed)
	}
	if why != "" {
		c.warn(fmt.Sprintf("%s: %s; scanning instead", path, why))
		return nil, nil, false
	}
	f := x.Lookup(c.opt.CommunityID)
	if f == nil || f.Last < c.from || f.First > c.to {
		return nil, nil, true
	}
	offsets, err := f.Offsets()
	if err != nil {
		c.warn(fmt.Sprintf("%s: %v; scanning instead", path, err))
		return nil, nil, false
	}
	slices.Sort(offsets)
	return slices.Compact(offsets), x.Syncs, true
}

// selects says whether a frame in the time range passes the BPF filter.
func (c *carver) selects(fr *source.Frame) bool {
	ts := fr.Timestamp.UnixNano()
	return ts >= c.from && ts <= c.to && c.filter.Match(fr)
}

// copy writes the records at offsets (sorted) of path, whose reader's
// sync points are syncs.
func (c *carver) copy(path string, offsets, syncs []int64) error {
	if len(offsets) == 0 {
		return nil
	}
	src, err := source.OpenFileForSeek(path)
	if err != nil {
		return err
	}
	src.SetSyncPoints(syncs)
	defer func() {
		c.st.BytesRead += src.BytesRead()
		src.Close()
	}()
	var fr source.Frame
	for _, off := range offsets {
		if err := src.SeekRecord(off); err != nil {
			return err
		}
		if err := src.Next(&fr); err != nil {
			if errors.Is(err, io.EOF) {
				err = fmt.Errorf("%s: no record at offset %d", path, off)
			}
			return err
		}
		if !c.selects(&fr) {
			continue
		}
		if err := c.out.Write(&fr); err != nil {
			return err
		}
		c.st.Frames++
	}
	return nil
}

// scan reads path whole. With a BPF filter only, matching frames are
// written as they come; with a Community ID, the flow's offsets are
// gathered first (a fragment's flow is known only when its datagram
// completes) and its records then copied in capture order.
func (c *carver) scan(path string) (err error) {
	// a file cut meanwhile faults in its mapping: an error of this file
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer source.FaultIsError(path, &err)
	src, err := source.OpenFile(path)
	if err != nil {
		return err
	}
	var (
		fr      source.Frame
		pkt     decode.Packet
		offsets []int64
		dec     = decode.NewDecoder(c.opt.Defrag, c.acct)
		assign  = pcapindex.NewAssigner(c.opt.Seed, c.opt.Defrag, c.acct)
		keep    = func(cid string, r pcapindex.Ref) {
			if cid == c.opt.CommunityID {
				offsets = append(offsets, r.Offset)
			}
		}
	)
	defer assign.Close()
	for {
		err := src.Next(&fr)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// What was read before the damage is carved, and the damage said.
			c.warn(err.Error())
			break
		}
		if c.opt.CommunityID == "" {
			if c.selects(&fr) {
				if err := c.out.Write(&fr); err != nil {
					src.Close()
					return err
				}
				c.st.Frames++
			}
			continue
		}
		st := dec.Decode(fr.Data, fr.Timestamp, fr.WireLen, fr.LinkType, &pkt)
		assign.Assign(st, &pkt, pcapindex.Ref{Offset: fr.Offset, TS: fr.Timestamp.UnixNano(), Len: fr.WireLen}, keep)
	}
	c.st.BytesRead += src.BytesRead()
	src.Close()
	slices.Sort(offsets)
	return c.copy(path, slices.Compact(offsets), src.SyncPoints())
}
