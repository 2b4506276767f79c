package source

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

const readBuffer = 1 << 20

// countingReader counts the bytes read through it, so a damaged record can
// be reported with its offset.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// packetReader is what pcapgo's two readers have in common.
type packetReader interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// File reads one pcap or pcapng file, gzip-compressed or not. Offsets in
// messages are positions in the uncompressed capture.
type File struct {
	path   string
	f      *os.File
	gz     *gzip.Reader
	count  *countingReader
	br     *bufio.Reader
	r      packetReader
	ng     *pcapgo.NgReader
	link   layers.LinkType
	frames int64
}

// OpenFile opens a capture file and reads its header.
func OpenFile(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	s := &File{path: path, f: f}
	if err := s.init(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func (s *File) init() error {
	var in io.Reader = s.f
	head := bufio.NewReaderSize(s.f, readBuffer)
	magic, err := head.Peek(4)
	if err != nil {
		return fmt.Errorf("%w (file has %d bytes)", ErrNotCapture, len(magic))
	}
	in = head
	if magic[0] == 0x1f && magic[1] == 0x8b {
		if s.gz, err = gzip.NewReader(head); err != nil {
			return fmt.Errorf("gzip: %w", err)
		}
		in = s.gz
	}
	s.count = &countingReader{r: in}
	// pcapgo wraps its input in bufio.NewReader, which keeps a large enough
	// *bufio.Reader as it is: so reads are big and s.br tells the position.
	s.br = bufio.NewReaderSize(s.count, readBuffer)
	if magic, err = s.br.Peek(4); err != nil {
		return fmt.Errorf("%w: too short", ErrNotCapture)
	}
	switch binary.LittleEndian.Uint32(magic) {
	case 0x0a0d0d0a:
		ng, err := pcapgo.NewNgReader(s.br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return fmt.Errorf("pcapng: %w", err)
		}
		s.r, s.ng, s.link = ng, ng, ng.LinkType()
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1:
		r, err := pcapgo.NewReader(s.br)
		if err != nil {
			return fmt.Errorf("pcap: %w", err)
		}
		s.r, s.link = r, r.LinkType()
	default:
		return fmt.Errorf("%w (magic %#08x)", ErrNotCapture, binary.LittleEndian.Uint32(magic))
	}
	return nil
}

// Name returns the file's path.
func (s *File) Name() string { return s.path }

// offset is the position of the next unread byte of the capture.
func (s *File) offset() int64 { return s.count.n - int64(s.br.Buffered()) }

// Next reads the next frame.
func (s *File) Next(fr *Frame) error {
	at := s.offset()
	data, ci, err := s.r.ZeroCopyReadPacketData()
	if err != nil {
		// A clean end: nothing read since the last frame (pcap), or io.EOF
		// between blocks (pcapng, where statistics or other blocks may
		// follow the last packet; a cut inside a block is ErrUnexpectedEOF).
		if errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && (s.offset() == at || s.ng != nil) {
			return io.EOF
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%s: truncated record at offset %d after %d frames", s.path, at, s.frames)
		}
		return fmt.Errorf("%s: damaged record at offset %d after %d frames: %v", s.path, at, s.frames, err)
	}
	s.frames++
	fr.Data, fr.Timestamp, fr.WireLen, fr.Interface = data, ci.Timestamp, ci.Length, ci.InterfaceIndex
	fr.LinkType = s.link
	if len(ci.AncillaryData) > 0 {
		if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
			fr.LinkType = lt
		}
	}
	if fr.WireLen < len(data) {
		fr.WireLen = len(data)
	}
	return nil
}

// Close closes the file.
func (s *File) Close() error {
	if s.gz != nil {
		s.gz.Close()
	}
	return s.f.Close()
}

// Expand turns paths (files or directories) into the capture files to read,
// in order: each directory's regular files sorted by name, recursively.
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
		err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(files)
		out = append(out, files...)
	}
	return out, nil
}
