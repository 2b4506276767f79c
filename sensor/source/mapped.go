package source

import "io"

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

// mapped is a mapped capture file and the reading position in it.
type mapped struct {
	b       []byte
	off     int  // the next record's offset
	dropped int  // pages before this offset are released
	held    bool // frames are in use until release passes them
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
	return rest[:n:n], nil
}
