package source

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

const readBuffer = 1 << 20

// countingReader counts the bytes read through it: n is the position (so
// a damaged record is reported with its offset; SeekRecord sets it), total every
// byte read.
type countingReader struct {
	r     io.Reader
	n     int64
	total atomic.Int64 // read by BytesRead while a gzip file's read-ahead fills it
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.total.Add(int64(n))
	return n, err
}

// File reads one pcap or pcapng file, gzip-compressed or not. Offsets in
// messages are positions in the uncompressed capture.
type File struct {
	path   string
	f      *os.File
	raw    *countingReader // the file's bytes, compressed or not
	gz     *gzip.Reader
	ra     *readAhead // inflates gz on its own goroutine
	count  *countingReader
	br     *bufio.Reader
	mm     *mapped // a plain file read from a mapping (nil: read through br)
	link   layers.LinkType
	frames int64

	// Classic pcap only: what reading a record (recordHeader) needs.
	bigEndian bool
	nanos     bool
	snaplen   uint32
	maxCap    uint32
	recBuf    []byte
	clamped   uint64

	// pcapng only (ng): the sections' state (ng.go); syncs are the offsets of frames whose read began with
	// other blocks than the packet (section headers, interfaces): a SeekRecord
	// past one must let the reader read it. resync are those still ahead.
	ng            bool
	ngs           ngState
	syncs, resync []int64
}

// OpenFile opens a capture file and reads its header.
func OpenFile(path string) (*File, error) { return openFile(path, readBuffer) }

// seekBuffer is the read buffer of a file opened for SeekRecord: a record is
// read with at most this much more.
const seekBuffer = 4096

// OpenFileForSeek opens a capture file to read records at known offsets
// (SeekRecord, then Next): its buffer is small, so reading one record reads
// little more than the record.
func OpenFileForSeek(path string) (*File, error) { return openFile(path, seekBuffer) }

func openFile(path string, bufSize int) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	s := &File{path: path, f: f}
	if err := s.init(bufSize); err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func (s *File) init(bufSize int) error {
	if bufSize == readBuffer {
		if m := mapFile(s.f); m != nil {
			if len(m.b) >= 4 && binary.LittleEndian.Uint32(m.b) == ngSectionHeader {
				s.mm = m
				return s.ngStart()
			}
			if len(m.b) >= 4 && isPcapMagic(binary.LittleEndian.Uint32(m.b)) {
				return s.initMapped(m)
			}
			m.close()
		}
	}
	s.raw = &countingReader{r: s.f}
	var in io.Reader = s.raw
	head := bufio.NewReaderSize(s.raw, bufSize)
	magic, err := head.Peek(4)
	if err != nil {
		return fmt.Errorf("%w (file has %d bytes)", ErrNotCapture, len(magic))
	}
	gz := magic[0] == 0x1f && magic[1] == 0x8b
	// A plain file that can seek is read without the peeking buffer, so
	// that SeekRecord can move the file itself.
	if !gz && s.rewind() {
		s.raw.n = 0
		s.raw.total.Store(0)
	} else {
		in = head
	}
	if gz {
		if s.gz, err = gzip.NewReader(head); err != nil {
			return fmt.Errorf("gzip: %w", err)
		}
		s.ra = newReadAhead(s.gz, readBuffer, 4)
		in = s.ra
	}
	s.count = &countingReader{r: in}
	s.br = bufio.NewReaderSize(s.count, bufSize)
	if magic, err = s.br.Peek(4); err != nil {
		return fmt.Errorf("%w: too short", ErrNotCapture)
	}
	switch m := binary.LittleEndian.Uint32(magic); m {
	case ngSectionHeader:
		return s.ngStart()
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1:
		r, err := pcapgo.NewReader(s.br)
		if err != nil {
			return fmt.Errorf("pcap: %w", err)
		}
		s.classic(r, m)
	default:
		return fmt.Errorf("%w (magic %#08x)", ErrNotCapture, binary.LittleEndian.Uint32(magic))
	}
	return nil
}

// ngStart reads the section header that begins a pcapng file.
func (s *File) ngStart() error {
	s.ng = true
	_, total, err := s.ngBlockHead()
	if err == nil && total > maxBlock {
		err = fmt.Errorf("%w: section header of %d bytes", errBadBlock, total)
	}
	var b []byte
	if err == nil {
		b, err = s.take(total)
	}
	if err == nil {
		err = s.ngs.section(b[8 : total-4])
	}
	if err != nil {
		return fmt.Errorf("pcapng: %w", err)
	}
	return nil
}

// initMapped reads the header of the classic pcap file mapped in m.
func (s *File) initMapped(m *mapped) error {
	r, err := pcapgo.NewReader(bytes.NewReader(m.b[:min(len(m.b), pcapHeader)]))
	if err != nil {
		m.close()
		return fmt.Errorf("pcap: %w", err)
	}
	s.mm, m.off = m, pcapHeader
	s.classic(r, binary.LittleEndian.Uint32(m.b))
	return nil
}

// pcapHeader is the length of a classic pcap file's header.
const pcapHeader = 24

func isPcapMagic(m uint32) bool {
	switch m {
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1:
		return true
	}
	return false
}

// classic keeps what reading the records of a classic pcap file needs.
func (s *File) classic(r *pcapgo.Reader, magic uint32) {
	s.link = r.LinkType()
	s.bigEndian = magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1 // the magic's bytes in big-endian order
	s.nanos = magic == 0xa1b23c4d || magic == 0x4d3cb2a1
	s.snaplen = r.Snaplen()
	s.maxCap = max(r.Snaplen(), maxRecord)
}

// rewind goes back to the file's start, if it can seek.
func (s *File) rewind() bool {
	_, err := s.f.Seek(0, io.SeekStart)
	return err == nil
}

// Name returns the file's path.
func (s *File) Name() string { return s.path }

// offset is the position of the next unread byte of the capture.
func (s *File) offset() int64 {
	if s.mm != nil {
		return int64(s.mm.off)
	}
	return s.count.n - int64(s.br.Buffered())
}

// BytesRead is how many bytes were read from the file (compressed bytes
// for a gzip file), headers and read-ahead included.
func (s *File) BytesRead() int64 {
	if s.mm != nil {
		return int64(s.mm.off)
	}
	return s.raw.total.Load()
}

// Hold makes the pages of a mapped file (a plain pcap or pcapng) stay until
// Release passes them; frames are slices of the mapping, valid until
// Close. It reports false for a file read through a buffer.
func (s *File) Hold() bool {
	if s.mm == nil {
		return false
	}
	s.mm.held = true
	return true
}

// Release gives back the pages of a held mapped file before off.
func (s *File) Release(off int64) {
	if s.mm != nil {
		s.mm.release(int(min(off, int64(s.mm.off))))
	}
}

// isPacketBlock says whether a pcapng block type (either byte order) is
// an enhanced, simple or obsolete packet block.
func isPacketBlock(h []byte) bool {
	isPkt := func(b byte) bool { return b == ngObsoletePacket || b == ngSimplePacket || b == ngEnhancedPacket }
	return h[1] == 0 && h[2] == 0 && (h[3] == 0 && isPkt(h[0]) || h[0] == 0 && isPkt(h[3]))
}

// SyncPoints lists, for a pcapng file read so far, the offsets past which
// a SeekRecord must read the blocks there (new sections and interfaces). A
// packet index keeps them; SetSyncPoints gives them back.
func (s *File) SyncPoints() []int64 { return s.syncs }

// SetSyncPoints gives a file opened for SeekRecord the sync points of an earlier
// read of it, in order.
func (s *File) SetSyncPoints(p []int64) { s.resync = p }

// SeekRecord makes the next Next read the record at off, a Frame.Offset of this
// file. A gzip file only goes forward (what lies between is decompressed
// and dropped); a plain file moves there at once. In a pcapng file, the
// section and interface blocks passed on the way are read (with the
// packet after each), so that the frame gets its interface right.
func (s *File) SeekRecord(off int64) error {
	for len(s.resync) > 0 && s.resync[0] <= off {
		sp := s.resync[0]
		s.resync = s.resync[1:]
		if sp < s.offset() || sp == off {
			continue
		}
		if err := s.move(sp); err != nil {
			return err
		}
		if _, _, err := s.ngPacket(); err != nil {
			return fmt.Errorf("%s: blocks at offset %d: %w", s.path, sp, err)
		}
	}
	return s.move(off)
}

func (s *File) move(off int64) error {
	if s.mm != nil {
		if off < 0 || off > int64(len(s.mm.b)) {
			return fmt.Errorf("%s: offset %d is past the end (%d bytes)", s.path, off, len(s.mm.b))
		}
		s.mm.off, s.mm.hinted = int(off), int(off) // hints start again from there
		return nil
	}
	cur := s.offset()
	switch {
	case off == cur:
		return nil
	case off > cur && off-cur <= int64(s.br.Buffered()):
		_, err := s.br.Discard(int(off - cur))
		return err
	case s.gz != nil && off < cur:
		return fmt.Errorf("%s: cannot go back to offset %d in a gzip file (at %d)", s.path, off, cur)
	case s.gz != nil:
		if _, err := io.CopyN(io.Discard, s.br, off-cur); err != nil {
			return fmt.Errorf("%s: offset %d: %w", s.path, off, err)
		}
		return nil
	}
	if _, err := s.f.Seek(off, io.SeekStart); err != nil {
		return fmt.Errorf("%s: %w", s.path, err)
	}
	s.count.n = off
	s.br.Reset(s.count)
	return nil
}

// maxRecord is the longest pcap record read whatever the file's snap
// length says: libpcap's largest snap length.
const maxRecord = 262144

// Clamped counts the records whose captured length exceeded their original
// length: the frame is delivered whole with WireLen set to the captured
// length, as tcpdump and tshark read on.
func (s *File) Clamped() uint64 { return s.clamped }

// Next reads the next frame.
func (s *File) Next(fr *Frame) error {
	at := s.offset()
	var (
		data []byte
		ci   captureInfo
		err  error
	)
	switch {
	case s.ng:
		if h, err := s.peek(4); err == nil && !isPacketBlock(h) {
			s.syncs = append(s.syncs, at)
		}
		data, ci, err = s.ngPacket()
	case s.mm != nil:
		data, ci, err = s.mm.next(s)
	default:
		data, ci, err = s.bufferedRecord()
	}
	if err != nil {
		// A clean end: nothing read since the last frame (pcap), or io.EOF
		// between blocks (pcapng, where statistics or other blocks may
		// follow the last packet; a cut inside a block is ErrUnexpectedEOF).
		if errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && (s.offset() == at || s.ng) {
			return io.EOF
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%s: truncated record at offset %d after %d frames", s.path, at, s.frames)
		}
		return fmt.Errorf("%s: damaged record at offset %d after %d frames: %v", s.path, at, s.frames, err)
	}
	s.frames++
	fr.Offset = at
	fr.Data, fr.Timestamp, fr.WireLen, fr.Interface = data, ci.ts, ci.wireLen, ci.iface
	fr.LinkType = s.link
	if s.ng {
		fr.LinkType = ci.link
	}
	fr.Clamped = fr.WireLen < len(data)
	if fr.Clamped {
		fr.WireLen = len(data)
		s.clamped++
	}
	return nil
}

// Close closes the file.
func (s *File) Close() error {
	s.mm.close()
	if s.ra != nil {
		s.ra.close()
	}
	if s.gz != nil {
		s.gz.Close()
	}
	return s.f.Close()
}

// Expand turns paths (files or directories) into the capture files to read,
// in order: each directory's regular files sorted by name, recursively.
// Symbolic links to files and directories are followed (a directory once,
// so a link loop ends); a broken link is an error, not a silent skip.
func Expand(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		var files []string
		if err := walkCaptures(p, map[string]bool{}, &files); err != nil {
			return nil, err
		}
		sort.Strings(files)
		out = append(out, files...)
	}
	return out, nil
}

// walkCaptures adds the regular files under dir (following links) to files;
// seen holds the real paths of the directories already walked.
func walkCaptures(dir string, seen map[string]bool, files *[]string) error {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	if seen[real] {
		return nil
	}
	seen[real] = true
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		path := filepath.Join(dir, e.Name())
		typ := e.Type()
		if typ&os.ModeSymlink != 0 {
			st, err := os.Stat(path)
			if err != nil {
				return fmt.Errorf("%s: broken symbolic link: %w", path, err)
			}
			typ = st.Mode().Type()
		}
		switch {
		case typ.IsDir():
			if err := walkCaptures(path, seen, files); err != nil {
				return err
			}
		case typ.IsRegular():
			*files = append(*files, path)
		}
	}
	return nil
}
