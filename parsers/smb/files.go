package smb

import (
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// region is where the data of the current message lies, when it is a
// READ response or WRITE request of a file the files layer takes: bytes
// [start, end) of the message go to file's sink of direction d.
type region struct {
	checked    bool
	file       *File
	d          parsers.Dir
	start, end int
	seen       int // message bytes already passed to the sink (or past it)
}

// regionHead is how many bytes of a message tell its data region: the
// SMB2 header and a WRITE request's fixed part up to its file id.
const regionHead = hdrLen + 32

// stream passes the data bytes of piece, found at offset at of the
// message whose first bytes are prefix, to the file's sink. The region is
// decided once the prefix holds regionHead bytes (or the message ends);
// data the prefix already holds is written then.
func (c *Conn) stream(d parsers.Dir, fr *framer, prefix, piece []byte, at int, ts time.Time) {
	r := &fr.data
	if !r.checked {
		if len(prefix) < regionHead && at+len(piece) < fr.total {
			return
		}
		r.checked = true
		c.dataRegion(d, prefix, r, ts)
		r.write(prefix, 0) // what the prefix already holds
	}
	r.write(piece, at)
}

// write passes the region's part of b, found at message offset at, that
// was not passed before.
func (r *region) write(b []byte, at int) {
	if r.file == nil {
		return
	}
	end := at + len(b)
	lo, hi := max(at, r.start, r.seen), min(end, r.end)
	if lo < hi {
		f := r.file
		f.sink[r.d].Write(b[lo-at : hi-at])
		f.next[r.d] += int64(hi - lo)
	}
	r.seen = max(r.seen, end)
}

// streamGap reports the part of n missing message bytes at offset at that
// fall in the data region.
func (c *Conn) streamGap(fr *framer, at, n int) {
	r := &fr.data
	if r.file == nil {
		return
	}
	lo, hi := max(at, r.start, r.seen), min(at+n, r.end)
	if lo < hi {
		r.file.sink[r.d].Gap(int64(hi - lo))
		r.file.next[r.d] += int64(hi - lo)
	}
	r.seen = max(r.seen, at+n)
}

// dataRegion decides where the file data of message p lies: a WRITE
// request's data, or a READ response's (its file from the pending
// request). Only the first command of a chain is streamed.
func (c *Conn) dataRegion(d parsers.Dir, p []byte, r *region, ts time.Time) {
	if len(p) < hdrLen+8 || string(p[:4]) != protoSMB2 {
		return
	}
	resp := le32(p, 16)&flagResponse != 0
	body := p[hdrLen:]
	var f *File
	var off, n int
	var pos uint64
	switch cmd := le16(p, 12); {
	case cmd == cmdWrite && !resp && d == parsers.ToServer && len(body) >= 32:
		f = c.files[fileID(body, 16)]
		off, n, pos = int(le16(body, 2)), int(le32(body, 4)), le64(body, 8)
	case cmd == cmdRead && resp && d == parsers.ToClient:
		st := le32(p, 8)
		pd, ok := c.pending[le64(p, 24)]
		if !ok || pd.cmd != cmdRead || (st != statusSuccess && st != statusBufferOverflow) {
			return
		}
		f = c.files[pd.fid]
		off, n, pos = int(body[2]), int(le32(body, 4)), pd.off
	}
	if f == nil || f.Pipe || f.noSink[d] || n <= 0 || off < hdrLen {
		return
	}
	if f.sink[d] == nil {
		info := parsers.FileInfo{Dir: d, Tx: le64(p, 24), Name: f.path(), Size: -1, Time: ts}
		if d == parsers.ToClient {
			info.Size = int64(f.Size)
		}
		if pos != 0 {
			info.Range = &parsers.FileRange{Start: int64(pos), Total: info.Size}
		}
		if f.sink[d] = c.h.Files.OpenFile(&info); f.sink[d] == nil {
			f.noSink[d] = true
			return
		}
		f.from[d], f.next[d] = int64(pos), int64(pos)
	}
	switch {
	case int64(pos) < f.next[d]:
		return // bytes already seen (a re-read): not written twice
	case int64(pos) > f.next[d]:
		f.sink[d].Gap(int64(pos) - f.next[d])
		f.from[d], f.next[d] = int64(pos), int64(pos)
	}
	r.file, r.d, r.start, r.end = f, d, off, off+n
}

// path is the file's name as the files layer gets it: the share path and
// the name, as Windows writes them.
func (f *File) path() string {
	if f.Tree == nil {
		return f.Name
	}
	return f.Tree.Path + `\` + f.Name
}

// closeSinks ends the file's sinks, at its close or when it is given up.
// A direction is the whole file only if its bytes start at offset 0 and
// reach the file's end: the size at open, or what the handle wrote, for
// reads; for writes, the size at open (0 for a created or overwritten
// file), and the close (without one, a new file may still be growing).
// Anything else, such as a read of the first 4 KiB of a larger file, is
// truncated.
func closeSinks(f *File, closed bool, ts time.Time) {
	extent := int64(f.Size)
	if f.sink[parsers.ToServer] != nil && f.from[parsers.ToServer] == 0 {
		extent = max(extent, f.next[parsers.ToServer])
	}
	for d, s := range f.sink {
		if s == nil {
			continue
		}
		whole := f.from[d] == 0
		if parsers.Dir(d) == parsers.ToClient {
			whole = whole && f.next[d] >= extent
		} else {
			whole = whole && f.next[d] >= int64(f.Size) && (closed || f.Size > 0)
		}
		end := parsers.FileTruncated
		if whole {
			end = parsers.FileComplete
		}
		s.Close(end, ts)
		f.sink[d] = nil
	}
}
