package pcapring

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
	"github.com/packetsleuth/packetsleuth/sensor/pcapindex"
)

// writer is the state of the writer goroutine.
type writer struct {
	r      *Ring
	cfg    *Config
	acct   *budget.Account
	assign *pcapindex.Assigner
	anom   *anomaly.Reporter
	seq    int64
	now    int64 // packet time of the newest frame
	keep   keeper

	cur      *file
	closed   []onDisk // oldest first
	disk     int64    // bytes of closed files and their indexes, and of cur
	closeErr error
	buf      []byte
	// unindexed are the captures an earlier run left without an index.
	unindexed []string
}

// file is the pcapng file being written.
type file struct {
	path    string
	f       *os.File
	bw      *bufio.Writer
	size    int64
	first   int64 // offset the first frame gets
	frames  int
	syncs   []int64
	index   *pcapindex.Builder
	acct    *budget.Account
	opened  time.Time
	maxTime int64
}

// onDisk is a closed file of the ring.
type onDisk struct {
	path   string
	bytes  int64 // the capture and its index
	closed time.Time
}

func newWriter(r *Ring) (*writer, error) {
	w := &writer{r: r, cfg: &r.cfg, acct: r.cfg.Budget.NewAccount()}
	w.assign = pcapindex.NewAssigner(r.cfg.Seed, r.cfg.Defrag, w.acct)
	emit := r.cfg.Anomaly
	if emit == nil {
		emit = func(*schemas.Event) {}
	}
	w.anom = anomaly.New(emit, nil, 0)
	w.keep.init(w)
	if err := w.scan(); err != nil {
		return nil, err
	}
	return w, nil
}

// scan adds the files an earlier run left in the folder to the ring.
func (w *writer) scan() error {
	names, err := filepath.Glob(filepath.Join(w.cfg.Dir, filePrefix+"*"+fileSuffix))
	if err != nil {
		return err
	}
	for _, n := range names { // Glob sorts: oldest first
		st, err := os.Stat(n)
		if err != nil {
			continue
		}
		size := st.Size()
		if ist, err := os.Stat(pcapindex.PathFor("", n)); err == nil {
			size += ist.Size()
		} else {
			w.unindexed = append(w.unindexed, n)
		}
		w.closed = append(w.closed, onDisk{path: n, bytes: size, closed: st.ModTime()})
		w.addDisk(size)
	}
	w.enforce(time.Now())
	return nil
}

const (
	filePrefix = "ring-"
	fileSuffix = ".pcapng"
)

// open starts a new file.
func (w *writer) open(now time.Time) error {
	name := filepath.Join(w.cfg.Dir, filePrefix+now.UTC().Format("20060102T150405.000000000Z")+fileSuffix)
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	acct := w.cfg.Budget.NewAccount()
	cf := &file{path: name, f: f, bw: bufio.NewWriterSize(f, 64<<10), opened: now, acct: acct,
		index: pcapindex.NewBuilder(w.cfg.Seed, w.cfg.Defrag, acct)}
	var hdr []byte
	hdr, cf.first = appendHeader(nil, w.cfg.Links, uint32(w.cfg.Snaplen))
	cf.syncs = []int64{cf.first}
	if _, err := cf.bw.Write(hdr); err != nil {
		f.Close()
		os.Remove(name)
		acct.Close()
		return err
	}
	cf.size = int64(len(hdr))
	w.addDisk(cf.size)
	w.cur = cf
	return nil
}

// write appends one frame to the current file, indexed under cid (none
// for frames without a flow).
func (w *writer) write(cid string, iface int32, ts int64, wire int, data []byte) {
	need := int64(epbLen + pad4(len(data)))
	if w.cur != nil && w.cur.frames > 0 && w.cur.size+need > w.cfg.FileBytes {
		w.rotate(time.Now())
	}
	if w.cur == nil {
		if err := w.open(time.Now()); err != nil {
			w.fail("open", err)
			return
		}
	}
	cf := w.cur
	off := cf.size
	if cf.frames == 0 {
		off = cf.first
	}
	if int(iface) >= len(w.cfg.Links) {
		iface = 0
	}
	// The block's head and tail go around the frame's bytes, which are
	// copied once, into the buffered writer; its errors stick, so the
	// last write reports a failure of any of the three.
	w.buf = appendPacketHead(w.buf[:0], uint32(iface), ts, wire, len(data))
	head := len(w.buf)
	w.buf = appendPacketTail(w.buf, len(data))
	// Room first, as rotate makes it for an index: the buffered writer
	// may reach the disk within this call, and the ring holds no more than
	// max_bytes even for the instant before the oldest file goes.
	cf.size += need
	w.addDisk(need)
	if w.disk > w.cfg.MaxBytes { // the age limit is tick's, once a second
		w.enforce(time.Now())
	}
	cf.bw.Write(w.buf[:head])
	cf.bw.Write(data)
	if _, err := cf.bw.Write(w.buf[head:]); err != nil {
		w.fail("write", err)
		return
	}
	cf.frames++
	cf.maxTime = max(cf.maxTime, ts)
	if cid != "" {
		cf.index.AddFlow(cid, pcapindex.Ref{Offset: off, TS: ts, Len: wire})
	}
	w.r.c.frames.Add(1)
	w.r.c.bytes.Add(uint64(len(data)))
}

// addDisk counts n more bytes on disk (fewer if negative), in the gauge
// too: every change, so that it is true after every outcome (a failed
// rotate or write included), not from the next second's tick.
func (w *writer) addDisk(n int64) {
	w.disk += n
	w.r.c.disk.Store(w.disk)
}

func (w *writer) fail(what string, err error) {
	if w.r.c.writeErrors.Add(1) == 1 {
		w.r.log.Error("pcap ring: "+what+" failed; its frames are counted in write errors", "dir", w.cfg.Dir, "err", err)
	}
	if w.cur != nil {
		w.discard()
	}
}

// discard drops the current file after an error.
func (w *writer) discard() {
	cf := w.cur
	w.cur = nil
	cf.f.Close()
	os.Remove(cf.path)
	w.addDisk(-cf.size)
	cf.index.Index(cf.path, nil) // gives its memory back
	cf.acct.Close()
}

// rotate closes the current file with its index.
func (w *writer) rotate(now time.Time) error {
	cf := w.cur
	if cf == nil || cf.frames == 0 {
		return nil
	}
	w.cur = nil
	err := cf.bw.Flush()
	if cerr := cf.f.Close(); err == nil {
		err = cerr
	}
	var x *pcapindex.Index
	if err == nil {
		x, err = cf.index.Index(cf.path, cf.syncs)
	} else {
		cf.index.Index(cf.path, nil)
	}
	cf.acct.Close()
	ipath := pcapindex.PathFor("", cf.path)
	var data []byte
	if err == nil {
		// Room for the index before it is written: the ring holds no more
		// than max_bytes even for the instant between the two.
		data = x.Marshal()
		w.addDisk(int64(len(data)))
		w.enforce(now)
		err = pcapindex.WriteFile(ipath, data)
	}
	if err != nil {
		w.r.c.writeErrors.Add(1)
		w.r.log.Error("pcap ring: closing a file failed; it is removed", "file", cf.path, "err", err)
		os.Remove(cf.path)
		os.Remove(ipath)
		w.addDisk(-(cf.size + int64(len(data))))
		return fmt.Errorf("pcap ring: %w", err)
	}
	w.closed = append(w.closed, onDisk{path: cf.path, bytes: cf.size + int64(len(data)), closed: now})
	w.r.c.files.Add(1)
	w.enforce(now)
	return nil
}

// enforce removes the oldest closed files while the ring is over its disk
// budget or they are older than max_age.
func (w *writer) enforce(now time.Time) {
	removed, freed := 0, int64(0)
	for len(w.closed) > 0 {
		od := w.closed[0]
		old := w.cfg.MaxAge > 0 && now.Sub(od.closed) > w.cfg.MaxAge
		if w.disk <= w.cfg.MaxBytes && !old {
			break
		}
		// The index first: a carve must not find an index without its capture.
		os.Remove(pcapindex.PathFor("", od.path))
		if err := os.Remove(od.path); err != nil && !os.IsNotExist(err) {
			w.r.log.Warn("pcap ring: cannot remove a file", "file", od.path, "err", err)
		}
		w.closed = w.closed[1:]
		w.addDisk(-od.bytes)
		removed++
		freed += od.bytes
	}
	if removed > 0 {
		w.r.c.filesRemoved.Add(uint64(removed))
		w.r.c.bytesRemoved.Add(uint64(freed))
		w.r.log.Info("pcap ring: removed the oldest files", "files", removed, "bytes", freed, "disk_bytes", w.disk, "max_bytes", w.cfg.MaxBytes)
	}
}

// tick runs once a second: the file's age, the buffered bytes, the age
// limit, and the state the keeper holds.
func (w *writer) tick(now time.Time) {
	if cf := w.cur; cf != nil {
		if now.Sub(cf.opened) >= w.cfg.FileAge {
			w.rotate(now)
		} else if err := cf.bw.Flush(); err != nil {
			w.fail("write", err)
		}
	}
	w.keep.expire()
	w.enforce(now)
}

// close ends the ring.
func (w *writer) close() {
	w.closeErr = w.rotate(time.Now())
	if w.cur != nil { // no frame: nothing worth keeping
		w.discard()
	}
	w.keep.close()
	w.assign.Close()
	w.acct.Close()
}

// batch handles the frames of one batch.
func (w *writer) batch(b *batch) {
	for i := range b.frames {
		q := &b.frames[i]
		w.frame(q, b.data[q.off:q.off+q.n])
	}
}
