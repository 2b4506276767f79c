package source

import (
	"io"
	"unsafe"

	"github.com/packetsleuth/packetsleuth/internal/prefetch"
)

// A pcap or pcapng file (not compressed) is read from a memory mapping: each
// frame is a slice of the mapping, so nothing is copied between the page
// cache and the decoder (a read(2) of the file costs a copy of every byte,
// about a sixth of a replay's CPU). The mapping is private and writable:
// code that writes into a frame writes into its own copy of the page. The
// pages behind the reader are given back as it goes (a held file's: behind
// what its consumer released, File.Hold), so resident memory does not
// grow with the file. The mapping is the file as it was opened: records
// appended later are not read.

// dropBehind is how far the reader gets past mapped pages before it
// releases them.
const dropBehind = 8 << 20

// hintAhead is how far ahead of the reader the mapping's cache lines are
// asked for (prefetch.Lines) as it goes. A record's header is otherwise
// the first touch of its line, a miss the reader waits for (each record's
// length says where the next begins, so the misses do not overlap); asked
// for a few records ahead, the lines are on their way when the reader and
// the decoder get there. Prefetches neither fault nor stall: a line of a
// page not mapped yet, or past the end of a file cut meanwhile, is simply
// not fetched.
const hintAhead = 4 << 10

// mapped is a mapped capture file and the reading position in it.
type mapped struct {
	b       []byte
	off     int  // the next record's offset
	dropped int  // pages before this offset are released
	held    bool // frames are in use until release passes them
	hinted  int  // the lines before this offset were asked for (hint)
}

// next reads the record at m.off (recordHeader). A cut record is
// io.ErrUnexpectedEOF; a clean end io.EOF.
func (m *mapped) next(s *File) ([]byte, captureInfo, error) {
	rest := m.b[m.off:]
	if len(rest) == 0 {
		return nil, captureInfo{}, io.EOF
	}
	if len(rest) < 16 {
		return nil, captureInfo{}, io.ErrUnexpectedEOF
	}
	ci, caplen, err := s.recordHeader(rest)
	if err != nil {
		return nil, ci, err
	}
	rec, err := m.take(16 + caplen)
	if err != nil {
		return nil, ci, err
	}
	return rec[16:], ci, nil
}

// take consumes the next n bytes and returns them in place; fewer left is
// io.ErrUnexpectedEOF.
func (m *mapped) take(n int) ([]byte, error) {
	rest := m.b[m.off:]
	if len(rest) < n {
		return nil, io.ErrUnexpectedEOF
	}
	if !m.held {
		m.release(m.off) // the frames before this one are no longer in use
	}
	m.off += n
	m.hint()
	return rest[:n:n], nil
}

// hint asks for the lines of the mapping up to hintAhead past the reader
// that were not asked for yet.
func (m *mapped) hint() {
	end := min(m.off+hintAhead, len(m.b))
	from := max(m.hinted, m.off)
	if from < end {
		prefetch.Lines(unsafe.Pointer(&m.b[from]), uintptr(end-from))
		m.hinted = end
	}
}
