package pcapring

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"time"

	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/pcapindex"
	"github.com/packetsleuth/packetsleuth/sensor/source"
)

// reindexed is the index built for a capture an earlier run left without
// one (it stopped without closing its file: a crash, a kill).
type reindexed struct {
	path string
	x    *pcapindex.Index
	err  error
}

// reindexCheck is how many frames the indexing job reads between looks
// at whether the ring stops.
const reindexCheck = 1024

// reindex indexes the captures at paths, one after the other, in the
// background: reading a file of up to 256 MiB must not hold up the
// writer, so the job hands each index to the writer goroutine
// (r.reindexed), which writes it only if the capture is still in the
// ring. Its memory is drawn from the budget like a replay's index; a
// capture whose last block the stop cut short is indexed up to it.
func (r *Ring) reindex(paths []string) {
	defer close(r.jobDone)
	for _, p := range paths {
		x, err := r.indexFile(p)
		if errors.Is(err, errStopped) {
			return
		}
		select {
		case r.reindexed <- reindexed{path: p, x: x, err: err}:
		case <-r.stop:
			return
		}
	}
}

var (
	errStopped    = errors.New("pcap ring: stopped")
	errUnreadable = errors.New("no readable header")
)

// indexFile reads the capture at path and returns its index.
func (r *Ring) indexFile(path string) (x *pcapindex.Index, err error) {
	// a file cut meanwhile faults in its mapping: an error of this file
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer source.FaultIsError(path, &err)
	src, err := source.OpenFile(path)
	if err != nil {
		// Empty, or cut in its header: the stop came before the first
		// flush (the writer buffers 64 KiB, flushed once a second).
		return nil, fmt.Errorf("%w: %w", errUnreadable, err)
	}
	defer src.Close()
	acct := r.cfg.Budget.NewAccount()
	defer acct.Close()
	dec := decode.NewDecoder(r.cfg.Defrag, acct)
	b := pcapindex.NewBuilder(r.cfg.Seed, r.cfg.Defrag, acct)
	var fr source.Frame
	var pkt decode.Packet
	for n := 0; ; n++ {
		if n%reindexCheck == 0 {
			select {
			case <-r.stop:
				b.Index(path, nil) // gives its memory back
				return nil, errStopped
			default:
			}
		}
		err := src.Next(&fr)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// The stop cut the last block short: what comes before it is
			// whole, and indexed.
			r.log.Warn("pcap ring: a file left by an earlier run ends in a broken block; indexed up to it", "file", path, "err", err)
			break
		}
		st := dec.Decode(fr.Data, fr.Timestamp, fr.WireLen, fr.LinkType, &pkt)
		b.Add(st, &pkt, pcapindex.Ref{Offset: fr.Offset, TS: fr.Timestamp.UnixNano(), Len: fr.WireLen})
	}
	return b.Index(path, src.SyncPoints())
}

// adopt writes the index the job built for a capture still in the ring,
// and counts it against the disk budget.
func (w *writer) adopt(res reindexed) {
	at := w.closedAt(res.path)
	if at < 0 {
		return // removed meanwhile (max_bytes, max_age): no index for it
	}
	if errors.Is(res.err, errUnreadable) { // no frame in it: nothing to keep
		w.r.log.Warn("pcap ring: removed a file an earlier run left without a readable header", "file", res.path, "err", res.err)
		os.Remove(res.path)
		w.addDisk(-w.closed[at].bytes)
		w.closed = slices.Delete(w.closed, at, at+1)
		w.r.c.reindexFailed.Add(1)
		return
	}
	ipath := pcapindex.PathFor("", res.path)
	err := res.err
	if err == nil {
		// room first, as rotate makes it (the file itself may be the oldest)
		data := res.x.Marshal()
		w.closed[at].bytes += int64(len(data))
		w.addDisk(int64(len(data)))
		w.enforce(time.Now())
		if at = w.closedAt(res.path); at < 0 {
			return // removed to make room
		}
		if err = pcapindex.WriteFile(ipath, data); err != nil {
			w.closed[at].bytes -= int64(len(data))
			w.addDisk(-int64(len(data)))
		}
	}
	if err != nil {
		w.r.c.reindexFailed.Add(1)
		w.r.log.Error("pcap ring: cannot index a file left by an earlier run; a carve scans it", "file", res.path, "err", err)
		return
	}
	w.r.c.reindexed.Add(1)
	w.r.log.Info("pcap ring: indexed a file left without its index by an earlier run", "file", res.path, "flows", len(res.x.Flows))
}

// closedAt is the place of path among the closed files, or -1.
func (w *writer) closedAt(path string) int {
	return slices.IndexFunc(w.closed, func(od onDisk) bool { return od.path == path })
}
