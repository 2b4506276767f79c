package outputs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// The disk spool is a directory of append-only segment files, read in the
// order of their ids (20-digit names, "00000001099511627776.seg").
//
// A segment starts with a 16-byte header: the magic "PSSPOOL1" and the
// offset (uint64, little endian) of its first record not yet delivered,
// rewritten in place after each delivered batch. Records follow, each
//
//	uint32 LE  payload length
//	uint32 LE  CRC-32C (Castagnoli) of the payload
//	payload:   uvarint len + dataset, uvarint len + kind, uvarint len + key,
//	           int64 LE unix nanoseconds (0 = zero time), JSON (the rest)
//
// Opening a spool verifies every undelivered record; a bad length or
// checksum truncates the segment there (logged and counted, not fatal).
// When the spool would grow over its maximum, whole oldest segments are
// deleted and their records counted as dropped.
const (
	spoolMagic     = "PSSPOOL1"
	spoolHeader    = 16
	spoolRecHeader = 8
	spoolMaxRecord = 64 << 20
	spoolFirstID   = 1 << 40 // leaves room for prepended segments
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type segment struct {
	id     uint64
	f      *os.File
	size   int64 // bytes in the file
	ack    int64 // offset of the first record not delivered
	rpos   int64 // offset of the first record not read
	n      int64 // records from ack to the end
	unread int64 // records from rpos to the end
	dirty  bool  // written since its last fsync
}

// spoolCursor marks the end of a batch read from one segment.
type spoolCursor struct {
	id  uint64
	off int64
	n   int64
}

type spool struct {
	mu       sync.Mutex
	dir      string
	max      int64
	segMax   int64
	log      *slog.Logger
	segs     []*segment // by id
	tail     *segment   // the segment appended to (nil: create one)
	total    int64      // bytes on disk
	pendingN int64      // undelivered records
	unreadN  int64      // records not read yet
	corrupt  int64
	lostN    int64 // undelivered records cut off with corrupt data while reading
	lastSync time.Time
	noSync   bool // tests only: skip fsync
	buf      []byte
}

func openSpool(dir string, maxBytes int64, log *slog.Logger) (*spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	s := &spool{dir: dir, max: maxBytes, log: log, segMax: min(max(maxBytes/8, 64<<10), 64<<20), lastSync: time.Now()}
	ids, err := segmentIDs(dir)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		seg, err := s.recover(id)
		if err != nil {
			s.close()
			return nil, err
		}
		if seg == nil {
			continue
		}
		s.segs = append(s.segs, seg)
		s.total += seg.size
		s.pendingN += seg.n
		s.unreadN += seg.unread
	}
	// delivered segments are not needed; the last one stays the tail
	for len(s.segs) > 0 && s.segs[0].n == 0 {
		s.remove(s.segs[0])
	}
	if l := len(s.segs); l > 0 && s.segs[l-1].size < s.segMax {
		s.tail = s.segs[l-1]
	}
	return s, nil
}

// segmentIDs lists the segments of a spool directory, in reading order.
func segmentIDs(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var ids []uint64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".seg")
		if !ok || e.IsDir() {
			continue
		}
		id, err := strconv.ParseUint(name, 10, 64)
		if err != nil {
			continue
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

func segmentPath(dir string, id uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%020d.seg", id))
}

func (s *spool) path(id uint64) string { return segmentPath(s.dir, id) }

// readSegmentHeader returns the offset of a segment's first undelivered
// record; ok is false when the header is not a spool's.
func readSegmentHeader(f *os.File, size int64) (ack int64, ok bool) {
	var h [spoolHeader]byte
	if _, err := f.ReadAt(h[:], 0); err != nil || string(h[:8]) != spoolMagic {
		return 0, false
	}
	ack = int64(binary.LittleEndian.Uint64(h[8:]))
	if ack < spoolHeader || ack > size {
		ack = spoolHeader
	}
	return ack, true
}

// recover opens one segment, verifies its undelivered records and truncates
// a corrupt tail. It returns nil for a segment that held nothing usable.
func (s *spool) recover(id uint64) (*segment, error) {
	p := s.path(id)
	f, err := os.OpenFile(p, os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	ack, ok := readSegmentHeader(f, fi.Size())
	if !ok {
		s.log.Error("spool: segment has no valid header, removing it", "file", p, "bytes", fi.Size())
		s.corrupt += fi.Size()
		f.Close()
		return nil, os.Remove(p)
	}
	seg := &segment{id: id, f: f, size: fi.Size(), ack: ack}
	end, n, bad := scanSegment(f, seg.ack, seg.size, nil)
	seg.n = n
	if end < seg.size {
		s.log.Error("spool: corrupt record, truncating the segment", "file", p, "offset", end, "reason", bad, "bytes_dropped", seg.size-end)
		s.corrupt += seg.size - end
		if err := f.Truncate(end); err != nil {
			f.Close()
			return nil, err
		}
		seg.size = end
	}
	seg.rpos, seg.unread = seg.ack, seg.n
	return seg, nil
}

func (s *spool) create(id uint64) (*segment, error) {
	f, err := os.OpenFile(s.path(id), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	var h [spoolHeader]byte
	copy(h[:], spoolMagic)
	binary.LittleEndian.PutUint64(h[8:], spoolHeader)
	if _, err := f.WriteAt(h[:], 0); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	s.total += spoolHeader
	return &segment{id: id, f: f, size: spoolHeader, ack: spoolHeader, rpos: spoolHeader}, nil
}

// remove deletes a segment and forgets its records.
func (s *spool) remove(seg *segment) {
	seg.f.Close()
	if err := os.Remove(seg.f.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Error("spool: cannot remove segment", "err", err)
	}
	s.total -= seg.size
	s.pendingN -= seg.n
	s.unreadN -= seg.unread
	if s.tail == seg {
		s.tail = nil
	}
	if i := slices.Index(s.segs, seg); i >= 0 {
		s.segs = slices.Delete(s.segs, i, i+1)
	}
}

func (s *spool) encode(recs []schemas.Record) []byte {
	b := s.buf[:0]
	for i := range recs {
		r := &recs[i]
		start := len(b)
		b = append(b, make([]byte, spoolRecHeader)...)
		b = binary.AppendUvarint(b, uint64(len(r.Dataset)))
		b = append(b, r.Dataset...)
		b = binary.AppendUvarint(b, uint64(len(r.Kind)))
		b = append(b, r.Kind...)
		b = binary.AppendUvarint(b, uint64(len(r.Key)))
		b = append(b, r.Key...)
		var ns int64
		if !r.Time.IsZero() {
			ns = r.Time.UnixNano()
		}
		b = binary.LittleEndian.AppendUint64(b, uint64(ns))
		b = append(b, r.JSON...)
		payload := b[start+spoolRecHeader:]
		binary.LittleEndian.PutUint32(b[start:], uint32(len(payload)))
		binary.LittleEndian.PutUint32(b[start+4:], crc32.Checksum(payload, castagnoli))
	}
	s.buf = b
	return b
}

var errSpoolRecord = errors.New("bad spool record")

// scanSegment verifies the records of f from off to size, calling fn (if
// not nil) with each. It returns where the valid records end, how many
// there are and, when that is before size, why.
func scanSegment(f *os.File, off, size int64, fn func(schemas.Record)) (end, n int64, bad string) {
	var rh [spoolRecHeader]byte
	var payload []byte
	for off < size {
		if _, err := f.ReadAt(rh[:], off); err != nil {
			return off, n, "short record header"
		}
		l := int64(binary.LittleEndian.Uint32(rh[:4]))
		if l > spoolMaxRecord || off+spoolRecHeader+l > size {
			return off, n, "bad record length"
		}
		payload = slices.Grow(payload[:0], int(l))[:l]
		if _, err := f.ReadAt(payload, off+spoolRecHeader); err != nil {
			return off, n, "short record"
		}
		if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(rh[4:]) {
			return off, n, "checksum mismatch"
		}
		rec, err := decodeSpoolRecord(payload)
		if err != nil {
			return off, n, err.Error()
		}
		if fn != nil {
			fn(rec)
		}
		off += spoolRecHeader + l
		n++
	}
	return off, n, ""
}

func decodeSpoolRecord(p []byte) (schemas.Record, error) {
	var r schemas.Record
	str := func() (string, bool) {
		n, k := binary.Uvarint(p)
		if k <= 0 || n > uint64(len(p)-k) {
			return "", false
		}
		v := string(p[k : k+int(n)])
		p = p[k+int(n):]
		return v, true
	}
	var ok1, ok2, ok3 bool
	r.Dataset, ok1 = str()
	r.Kind, ok2 = str()
	r.Key, ok3 = str()
	if !ok1 || !ok2 || !ok3 || len(p) < 8 {
		return r, errSpoolRecord
	}
	if ns := int64(binary.LittleEndian.Uint64(p)); ns != 0 {
		r.Time = time.Unix(0, ns).UTC()
	}
	r.JSON = p[8:len(p):len(p)]
	return r, nil
}

// makeRoom deletes oldest segments until need more bytes fit; it returns
// how many undelivered records went with them.
func (s *spool) makeRoom(need int64) (dropped int) {
	for s.total+need > s.max && len(s.segs) > 0 {
		seg := s.segs[0]
		dropped += int(seg.unread)
		s.log.Warn("spool: over its size, deleting the oldest segment", "file", seg.f.Name(), "records", seg.unread)
		s.remove(seg)
	}
	return dropped
}

// append writes recs at the end of the spool, dropping the oldest segments
// if it would grow over its maximum.
func (s *spool) append(recs []schemas.Record) (dropped int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.encode(recs)
	need := int64(len(b))
	if s.tail == nil {
		need += spoolHeader
	}
	if need+spoolHeader > s.max {
		return 0, fmt.Errorf("%d bytes of records do not fit in a spool of %d bytes", len(b), s.max)
	}
	dropped = s.makeRoom(need)
	if s.tail == nil {
		id := uint64(spoolFirstID)
		if l := len(s.segs); l > 0 {
			id = s.segs[l-1].id + 1
		}
		seg, err := s.create(id)
		if err != nil {
			return dropped, err
		}
		s.segs = append(s.segs, seg)
		s.tail = seg
	}
	seg := s.tail
	if _, err := seg.f.WriteAt(b, seg.size); err != nil {
		// cut off whatever part was written
		seg.f.Truncate(seg.size)
		return dropped, err
	}
	seg.size += int64(len(b))
	s.total += int64(len(b))
	seg.n += int64(len(recs))
	seg.unread += int64(len(recs))
	s.pendingN += int64(len(recs))
	s.unreadN += int64(len(recs))
	seg.dirty = true
	if seg.size >= s.segMax {
		s.tail = nil
		err = s.sync(seg)
	} else if time.Since(s.lastSync) > time.Second {
		err = s.sync(seg)
	}
	if err != nil {
		// the records are written (and counted in the spool); only their
		// durability across a crash is in doubt
		s.log.Error("spool: fsync failed", "file", seg.f.Name(), "err", err)
	}
	return dropped, nil
}

// sync fsyncs a segment written since its last sync.
func (s *spool) sync(seg *segment) error {
	if !seg.dirty {
		return nil
	}
	seg.dirty = false
	s.lastSync = time.Now()
	if s.noSync {
		return nil
	}
	return seg.f.Sync()
}

// prepend writes recs into a new segment read before every other one.
func (s *spool) prepend(recs []schemas.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.encode(recs)
	if int64(len(b))+2*spoolHeader > s.max {
		return fmt.Errorf("%d bytes of records do not fit in a spool of %d bytes", len(b), s.max)
	}
	if d := s.makeRoom(int64(len(b)) + spoolHeader); d > 0 {
		return fmt.Errorf("spool full: would drop %d newer records", d)
	}
	id := uint64(spoolFirstID)
	if len(s.segs) > 0 {
		id = s.segs[0].id - 1
	}
	seg, err := s.create(id)
	if err != nil {
		return err
	}
	if _, err := seg.f.WriteAt(b, seg.size); err != nil {
		s.remove(seg)
		return err
	}
	seg.dirty = true
	if err := s.sync(seg); err != nil {
		s.remove(seg)
		return err
	}
	seg.size += int64(len(b))
	s.total += int64(len(b))
	seg.n, seg.unread = int64(len(recs)), int64(len(recs))
	s.pendingN += seg.n
	s.unreadN += seg.n
	s.segs = slices.Insert(s.segs, 0, seg)
	return nil
}

// read appends up to maxN records (within maxBytes, at least one) of the
// first segment with unread records to dst. Their JSON is owned by the
// caller. The cursor commits them.
func (s *spool) read(dst []schemas.Record, maxN int, maxBytes int64) ([]schemas.Record, spoolCursor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var seg *segment
	for _, sg := range s.segs {
		if sg.unread > 0 {
			seg = sg
			break
		}
	}
	if seg == nil {
		return dst, spoolCursor{}, nil
	}
	chunk := make([]byte, min(seg.size-seg.rpos, maxBytes+int64(maxN)*64+spoolRecHeader))
	if _, err := seg.f.ReadAt(chunk, seg.rpos); err != nil && !errors.Is(err, io.EOF) {
		return dst, spoolCursor{}, err
	}
	cur := spoolCursor{id: seg.id, off: seg.rpos}
	var jsonBytes int64
	for len(dst) < maxN || cur.n == 0 {
		if int(cur.off-seg.rpos)+spoolRecHeader > len(chunk) {
			break
		}
		p := chunk[cur.off-seg.rpos:]
		n := int64(binary.LittleEndian.Uint32(p[:4]))
		if n > spoolMaxRecord || cur.off+spoolRecHeader+n > seg.size {
			s.truncate(seg, cur.off, cur.n, "bad record length")
			break
		}
		if spoolRecHeader+n > int64(len(p)) {
			if cur.n > 0 {
				break
			}
			// one record larger than the chunk
			big := make([]byte, spoolRecHeader+n)
			if _, err := seg.f.ReadAt(big, cur.off); err != nil {
				return dst, spoolCursor{}, err
			}
			p = big
		}
		payload := p[spoolRecHeader : spoolRecHeader+n]
		rec, err := decodeSpoolRecord(payload)
		if err != nil || crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(p[4:8]) {
			s.truncate(seg, cur.off, cur.n, "checksum mismatch")
			break
		}
		if cur.n > 0 && jsonBytes+int64(len(rec.JSON)) > maxBytes {
			break
		}
		jsonBytes += int64(len(rec.JSON))
		dst = append(dst, rec)
		cur.off += spoolRecHeader + n
		cur.n++
	}
	seg.rpos = cur.off
	seg.unread -= cur.n
	s.unreadN -= cur.n
	return dst, cur, nil
}

// truncate cuts a segment at off after finding corruption while reading.
// read is how many records before off the caller has read.
func (s *spool) truncate(seg *segment, off, read int64, why string) {
	s.log.Error("spool: corrupt record, truncating the segment", "file", seg.f.Name(), "offset", off, "reason", why, "bytes_dropped", seg.size-off)
	s.corrupt += seg.size - off
	s.total -= seg.size - off
	seg.f.Truncate(off)
	seg.size = off
	// the records after off are gone; what was read before it stays counted
	lost := seg.unread - read
	s.lostN += lost
	seg.n -= lost
	s.pendingN -= lost
	s.unreadN -= lost
	seg.unread = read
}

// commit marks the records up to cur as delivered.
func (s *spool) commit(cur spoolCursor) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.segs, func(sg *segment) bool { return sg.id == cur.id })
	if i < 0 {
		return nil // dropped while the batch was in flight
	}
	seg := s.segs[i]
	seg.ack = cur.off
	seg.n -= cur.n
	s.pendingN -= cur.n
	if seg.n == 0 && seg.ack >= seg.size {
		// fully delivered: a new tail starts fresh
		s.remove(seg)
		return nil
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(cur.off))
	_, err := seg.f.WriteAt(b[:], 8)
	seg.dirty = true
	return err
}

func (s *spool) pending() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pendingN
}

func (s *spool) unread() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unreadN
}

func (s *spool) size() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

func (s *spool) lostRecords() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lostN
}

func (s *spool) corruptBytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.corrupt
}

func (s *spool) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, seg := range s.segs {
		if err := s.sync(seg); err != nil {
			errs = append(errs, err)
		}
		if err := seg.f.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	s.segs, s.tail = nil, nil
	return errors.Join(errs...)
}
