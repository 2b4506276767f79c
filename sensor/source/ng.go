package source

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// A pcapng file (draft-ietf-opsawg-pcapng) is read block by block in place,
// like a classic pcap: a frame is a slice of the mapping or of the read
// buffer, never a copy. Only the blocks that make frames are parsed: section
// headers (byte order), interface descriptions (link type, snap length,
// if_tsresol, if_tsoffset) and the enhanced, simple and obsolete packet
// blocks; every other block is skipped by its length without being read.
// The tests compare it with pcapgo's NgReader, which reads more leniently
// (errBadBlock) and rounds the dates of binary time resolutions (2^-n s),
// which are exact here.

// pcapng block types (the section header's reads the same in both orders).
const (
	ngSectionHeader  = 0x0a0d0d0a
	ngInterface      = 1
	ngObsoletePacket = 2
	ngSimplePacket   = 3
	ngEnhancedPacket = 6
	ngByteOrderMagic = 0x1a2b3c4d
)

// maxBlock bounds the blocks read into memory (packets, interfaces, section
// headers), as libpcap bounds them: a longer one is damaged. Other blocks
// are skipped whatever their length.
const maxBlock = 16 << 20

// errBadBlock marks the blocks this reader refuses where pcapgo would read
// on (a length that is not a multiple of 4 or too short for the block's
// fields, packet bytes past the block's end, a block over maxBlock).
var errBadBlock = errors.New("malformed pcapng block")

// ngIface is what a frame needs of its interface description.
type ngIface struct {
	link           layers.LinkType
	snaplen        uint32
	perSec, offset uint64 // a timestamp's units per second; seconds added
}

// ngState is the reading state of a pcapng file.
type ngState struct {
	big    bool // the current section is big-endian
	ifaces []ngIface
}

func (n *ngState) u16(b []byte) uint16 {
	if n.big {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (n *ngState) u32(b []byte) uint32 {
	if n.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (n *ngState) u64(b []byte) uint64 {
	if n.big {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}

// peek returns the next n bytes in place without consuming them; fewer
// (with the read error) at the end of input. n is at most the buffer's size.
func (s *File) peek(n int) ([]byte, error) {
	if s.mm != nil {
		rest := s.mm.b[s.mm.off:]
		if len(rest) < n {
			return rest, io.EOF
		}
		return rest[:n], nil
	}
	return s.br.Peek(n)
}

// take consumes the next n bytes and returns them in place (valid until
// the next read), or through recBuf when they are more than the buffer
// holds; a cut is io.ErrUnexpectedEOF.
func (s *File) take(n int) ([]byte, error) {
	if s.mm != nil {
		return s.mm.take(n)
	}
	if n > s.br.Size() {
		b, err := s.readLong(n)
		return b, cut(err, true)
	}
	b, err := s.br.Peek(n)
	if err != nil {
		return nil, cut(err, true)
	}
	s.br.Discard(n) // the bytes stay in the buffer until the next read
	return b, nil
}

// skip consumes n bytes without reading them into memory.
func (s *File) skip(n int) error {
	if s.mm != nil {
		if len(s.mm.b)-s.mm.off < n {
			return io.ErrUnexpectedEOF
		}
		s.mm.off += n
		return nil
	}
	if k, err := s.br.Discard(n); k < n {
		return cut(err, true)
	}
	return nil
}

// ngBlockHead reads the type and total length of the next block without
// consuming it; a section header sets the byte order first. io.EOF is the
// clean end (no byte left).
func (s *File) ngBlockHead() (typ uint32, total int, err error) {
	h, err := s.peek(8)
	if len(h) < 8 {
		return 0, 0, cut(err, len(h) > 0)
	}
	n := &s.ngs
	if binary.LittleEndian.Uint32(h) == ngSectionHeader {
		if h, err = s.peek(12); len(h) < 12 {
			return 0, 0, cut(err, true)
		}
		switch {
		case binary.LittleEndian.Uint32(h[8:]) == ngByteOrderMagic:
			n.big = false
		case binary.BigEndian.Uint32(h[8:]) == ngByteOrderMagic:
			n.big = true
		default:
			return 0, 0, errors.New("wrong byte order value in section header")
		}
	}
	typ, total = n.u32(h), int(n.u32(h[4:]))
	switch {
	case total%4 != 0:
		return typ, total, fmt.Errorf("%w: block length %d is not a multiple of 4", errBadBlock, total)
	case total < 12:
		return typ, total, fmt.Errorf("%w: block length %d is shorter than a block", errBadBlock, total)
	}
	return typ, total, nil
}

// ngPacket reads blocks up to the next packet, which it returns in place
// with its capture details.
func (s *File) ngPacket() (data []byte, ci captureInfo, err error) {
	n := &s.ngs
	for {
		typ, total, err := s.ngBlockHead()
		if err != nil {
			return nil, ci, err
		}
		switch typ {
		case ngEnhancedPacket, ngSimplePacket, ngObsoletePacket, ngInterface, ngSectionHeader:
		default:
			if err := s.skip(total); err != nil {
				return nil, ci, err
			}
			continue
		}
		if total > maxBlock {
			return nil, ci, fmt.Errorf("%w: block of %d bytes (at most %d)", errBadBlock, total, maxBlock)
		}
		b, err := s.take(total)
		if err != nil {
			return nil, ci, err
		}
		body := b[8 : total-4]
		switch typ {
		case ngSectionHeader:
			err = n.section(body)
		case ngInterface:
			err = n.iface(body)
		case ngEnhancedPacket, ngObsoletePacket:
			data, ci, err = n.packet(typ, body)
			return data, ci, err
		case ngSimplePacket:
			data, ci, err = n.simple(body)
			return data, ci, err
		}
		if err != nil {
			return nil, ci, err
		}
	}
}

// captureInfo is what a pcapng packet block says about its frame.
type captureInfo struct {
	ts      time.Time
	wireLen int
	iface   int
	link    layers.LinkType
}

// section starts a new section: its interfaces are new.
func (n *ngState) section(body []byte) error {
	if len(body) < 16 {
		return fmt.Errorf("%w: section header of %d bytes", errBadBlock, len(body)+12)
	}
	if major, minor := n.u16(body[4:]), n.u16(body[6:]); major != 1 || minor != 0 {
		return fmt.Errorf("pcapng version %d.%d (only 1.0 is read)", major, minor)
	}
	n.ifaces = n.ifaces[:0]
	return nil
}

// Interface description options read.
const (
	optEnd      = 0
	optTSResol  = 9
	optTSOffset = 14
)

// iface adds an interface description to the section.
func (n *ngState) iface(body []byte) error {
	if len(body) < 8 {
		return fmt.Errorf("%w: interface description of %d bytes", errBadBlock, len(body)+12)
	}
	in := ngIface{link: layers.LinkType(n.u16(body)), snaplen: n.u32(body[4:])}
	resol := byte(6)
	for opts := body[8:]; len(opts) >= 4; {
		code, l := n.u16(opts), int(n.u16(opts[2:]))
		if code == optEnd {
			if l != 0 {
				return errors.New("end of options must be zero length")
			}
			break
		}
		padded := (l + 3) &^ 3
		if 4+padded > len(opts) {
			return fmt.Errorf("%w: option %d of %d bytes past the block's end", errBadBlock, code, l)
		}
		v := opts[4 : 4+l]
		switch {
		case code == optTSResol && l >= 1:
			resol = v[0]
		case code == optTSOffset && l >= 8:
			in.offset = n.u64(v)
		}
		opts = opts[4+padded:]
	}
	if resol == 0 { // pcapgo reads a resolution of 0 as the default
		resol = 6
	}
	exp, bin := resol&0x7f, resol&0x80 != 0
	if bin && exp > 63 || !bin && exp > 19 { // 2^-64 s, 10^-20 s: more per second than 64 bits count
		base := 10
		if bin {
			base = 2
		}
		return fmt.Errorf("%w: time resolution of %d^-%d s", errBadBlock, base, exp)
	}
	in.perSec = 1
	if bin {
		in.perSec <<= exp
	} else {
		for range exp {
			in.perSec *= 10
		}
	}
	n.ifaces = append(n.ifaces, in)
	return nil
}

// date converts a packet's timestamp of interface i.
func (n *ngState) date(i int, ts uint64) time.Time {
	in := &n.ifaces[i]
	hi, lo := bits.Mul64(ts%in.perSec, 1e9)
	ns, _ := bits.Div64(hi, lo, in.perSec) // hi < perSec: no overflow
	return time.Unix(int64(ts/in.perSec+in.offset), int64(ns)).UTC()
}

// packet reads an enhanced (or obsolete) packet block's body.
func (n *ngState) packet(typ uint32, body []byte) ([]byte, captureInfo, error) {
	var ci captureInfo
	if len(body) < 20 {
		return nil, ci, fmt.Errorf("%w: packet block of %d bytes", errBadBlock, len(body)+12)
	}
	if typ == ngEnhancedPacket {
		ci.iface = int(n.u32(body))
	} else {
		ci.iface = int(n.u16(body))
	}
	if ci.iface >= len(n.ifaces) {
		return nil, ci, fmt.Errorf("interface id %d not present in section (have only %d interfaces)", ci.iface, len(n.ifaces))
	}
	ci.ts = n.date(ci.iface, uint64(n.u32(body[4:]))<<32|uint64(n.u32(body[8:])))
	caplen := n.u32(body[12:])
	ci.wireLen = int(n.u32(body[16:]))
	if uint64(caplen) > uint64(len(body)-20) {
		return nil, ci, fmt.Errorf("%w: captured length %d past the block's end (%d bytes)", errBadBlock, caplen, len(body)+12)
	}
	ci.link = n.ifaces[ci.iface].link
	end := 20 + int(caplen)
	return body[20:end:end], ci, nil
}

// simple reads a simple packet block's body: its interface is the
// section's first, its length the smaller of the original length and the
// interface's snap length, and it has no date.
func (n *ngState) simple(body []byte) ([]byte, captureInfo, error) {
	var ci captureInfo
	if len(body) < 4 {
		return nil, ci, fmt.Errorf("%w: simple packet block of %d bytes", errBadBlock, len(body)+12)
	}
	if len(n.ifaces) == 0 {
		return nil, ci, errors.New("a simple packet block before any interface")
	}
	orig := n.u32(body)
	caplen := orig
	if s := n.ifaces[0].snaplen; s != 0 && caplen > s {
		caplen = s
	}
	if uint64(caplen) > uint64(len(body)-4) {
		return nil, ci, fmt.Errorf("%w: captured length %d past the block's end (%d bytes)", errBadBlock, caplen, len(body)+12)
	}
	ci.wireLen, ci.link = int(orig), n.ifaces[0].link
	end := 4 + int(caplen)
	return body[4:end:end], ci, nil
}
