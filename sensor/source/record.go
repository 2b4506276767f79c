package source

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// recordHeader reads the 16-byte header h of a classic pcap record as
// pcapgo.Reader would (the same checks and messages), but lets a captured
// length above the original one within maxCap through: Next clamps it
// (pcapgo refuses such a record, and with it the rest of the file). It
// returns the record's captured length.
func (s *File) recordHeader(h []byte) (captureInfo, int, error) {
	frac := int64(s.u32(h[4:]))
	if !s.nanos {
		frac *= 1000
	}
	caplen, orig := s.u32(h[8:]), s.u32(h[12:])
	ci := captureInfo{ts: time.Unix(int64(s.u32(h[0:])), frac).UTC(), wireLen: int(orig)}
	switch {
	case caplen > orig && caplen <= s.maxCap: // Next clamps and counts it
	case caplen > s.maxCap:
		return ci, 0, fmt.Errorf("capture length exceeds snap length: %d > %d", caplen, s.snaplen)
	case caplen > orig:
		return ci, 0, fmt.Errorf("capture length exceeds original packet length: %d > %d", caplen, orig)
	}
	return ci, int(caplen), nil
}

// u32 reads a number of a classic pcap file in the file's byte order (a
// call through binary.ByteOrder is not inlined: four a record).
func (s *File) u32(b []byte) uint32 {
	if s.bigEndian {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// bufferedRecord reads the next classic pcap record from the read buffer:
// the frame is a slice of the buffer (valid until the next read), not a
// copy, unless the record is longer than the buffer holds. A cut record
// is io.ErrUnexpectedEOF; a clean end io.EOF.
func (s *File) bufferedRecord() ([]byte, captureInfo, error) {
	h, err := s.br.Peek(16)
	if err != nil {
		return nil, captureInfo{}, cut(err, len(h) > 0)
	}
	ci, caplen, err := s.recordHeader(h)
	if err != nil {
		return nil, ci, err
	}
	n := 16 + caplen
	if n > s.br.Size() {
		s.br.Discard(16)
		data, err := s.readLong(caplen)
		return data, ci, cut(err, true)
	}
	b, err := s.br.Peek(n)
	if err != nil {
		return nil, ci, cut(err, true)
	}
	s.br.Discard(n) // the bytes stay in the buffer until the next read
	return b[16:n:n], ci, nil
}

// readLong reads the n-byte body of a record longer than the read buffer
// into recBuf, which grows with the bytes that arrive, not with the length
// the header claims: a file whose snap length lets a record claim
// gigabytes costs no more memory than the bytes it really has.
func (s *File) readLong(n int) ([]byte, error) {
	b := s.recBuf[:0]
	for len(b) < n {
		if len(b) == cap(b) {
			b = slices.Grow(b, min(n-len(b), max(cap(b), s.br.Size())))
		}
		k, err := io.ReadFull(s.br, b[len(b):min(n, cap(b))])
		b = b[:len(b)+k]
		if err != nil {
			s.recBuf = b
			return b, err
		}
	}
	s.recBuf = b
	return b, nil
}

// cut makes a read error of a record: an end of input after some of the
// record's bytes is io.ErrUnexpectedEOF.
func cut(err error, begun bool) error {
	if begun && errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
