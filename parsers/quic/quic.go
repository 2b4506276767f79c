// Package quic decodes the client Initial packets of QUIC v1 (RFC 9000,
// RFC 9001) and v2 (RFC 9369) far enough to read the TLS ClientHello they
// carry: it removes header protection and decrypts the Initial packets with
// the keys every observer can derive from the client's Destination Connection
// ID, walks their frames, reassembles the CRYPTO stream by offset and hands
// the complete ClientHello to tls.ParseClientHello. Only the client side is
// handled. It is pure code with bounded memory.
package quic

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/packetsleuth/packetsleuth/parsers/tls"
)

// Supported QUIC versions.
const (
	Version1 uint32 = 0x00000001
	Version2 uint32 = 0x6b3343cf
)

// Limits.
const (
	// MaxCryptoData caps the reassembled CRYPTO stream (and so the ClientHello).
	MaxCryptoData = 64 << 10
	// maxRanges caps the number of disjoint CRYPTO ranges kept.
	maxRanges    = 64
	maxConnIDLen = 20
)

// Errors; wrapped with context, test with errors.Is.
var (
	ErrNotInitial = errors.New("quic: not a QUIC v1/v2 long-header packet")
	ErrTruncated  = errors.New("quic: truncated packet")
	ErrDecrypt    = errors.New("quic: Initial packet does not decrypt")
	ErrLimit      = errors.New("quic: CRYPTO data over limit")
	ErrNotHello   = errors.New("quic: CRYPTO stream does not start with a ClientHello")
)

var (
	saltV1 = []byte{0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a}
	saltV2 = []byte{0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9}
)

// packetType returns the Initial type bits of a version (v2 reorders them).
func initialType(version uint32) byte {
	if version == Version2 {
		return 1
	}
	return 0
}

func retryType(version uint32) byte {
	if version == Version2 {
		return 0
	}
	return 3
}

// expandLabel is HKDF-Expand-Label of TLS 1.3 (RFC 8446 section 7.1) with an
// empty context.
func expandLabel(secret []byte, label string, n int) ([]byte, error) {
	info := make([]byte, 0, 4+6+len(label))
	info = binary.BigEndian.AppendUint16(info, uint16(n))
	info = append(info, byte(6+len(label)))
	info = append(info, "tls13 "...)
	info = append(info, label...)
	info = append(info, 0)
	return hkdf.Expand(sha256.New, secret, string(info), n)
}

// ClientInitialKeys derives the client Initial packet protection keys for a
// version and the client's first Destination Connection ID: the AEAD key, the
// IV and the header protection key (RFC 9001 section 5.2, RFC 9369 section 3.3.1).
func ClientInitialKeys(version uint32, dcid []byte) (key, iv, hp []byte, err error) {
	salt, kl, il, hl := saltV1, "quic key", "quic iv", "quic hp"
	switch version {
	case Version1:
	case Version2:
		salt, kl, il, hl = saltV2, "quicv2 key", "quicv2 iv", "quicv2 hp"
	default:
		return nil, nil, nil, fmt.Errorf("%w: version %#08x", ErrNotInitial, version)
	}
	initial, err := hkdf.Extract(sha256.New, dcid, salt)
	if err != nil {
		return nil, nil, nil, err
	}
	client, err := expandLabel(initial, "client in", 32)
	if err != nil {
		return nil, nil, nil, err
	}
	if key, err = expandLabel(client, kl, 16); err != nil {
		return nil, nil, nil, err
	}
	if iv, err = expandLabel(client, il, 12); err != nil {
		return nil, nil, nil, err
	}
	hp, err = expandLabel(client, hl, 16)
	return key, iv, hp, err
}

type keys struct {
	version uint32
	dcid    []byte
	aead    cipher.AEAD
	hp      cipher.Block
	iv      [12]byte
}

func (k *keys) derive(version uint32, dcid []byte) error {
	key, iv, hp, err := ClientInitialKeys(version, dcid)
	if err != nil {
		return err
	}
	blk, err := aes.NewCipher(key)
	if err != nil {
		return err
	}
	if k.aead, err = cipher.NewGCM(blk); err != nil {
		return err
	}
	if k.hp, err = aes.NewCipher(hp); err != nil {
		return err
	}
	copy(k.iv[:], iv)
	k.version = version
	k.dcid = append(k.dcid[:0], dcid...)
	return nil
}

type span struct{ start, end int }

// CryptoAssembler holds the state of one client's Initial packets: the keys
// (derived from the first Initial's Destination Connection ID) and the CRYPTO
// stream reassembled by offset. Reuse it with Reset. Not safe for concurrent use.
type CryptoAssembler struct {
	Version uint32 // version of the first Initial packet
	DCID    []byte // Destination Connection ID of the first Initial packet
	SCID    []byte // Source Connection ID of the first Initial packet
	Packets int    // Initial packets decrypted
	// Hello is the parsed ClientHello once Complete reports true.
	Hello tls.ClientHello

	keys     keys
	haveKeys bool
	buf      []byte // CRYPTO stream bytes; valid where ranges say so
	ranges   []span // received ranges, sorted and merged
	scratch  []byte // a copy of the packet being decrypted
	complete bool
}

// Reset clears a for a new connection, keeping its buffers.
func (a *CryptoAssembler) Reset() {
	*a = CryptoAssembler{
		DCID:    a.DCID[:0],
		SCID:    a.SCID[:0],
		Hello:   a.Hello,
		keys:    a.keys, // reused when the next connection has the same DCID
		buf:     a.buf[:0],
		ranges:  a.ranges[:0],
		scratch: a.scratch[:0],
	}
}

// Complete reports whether the whole ClientHello was reassembled and parsed
// into Hello.
func (a *CryptoAssembler) Complete() bool { return a.complete }

// readVarint reads a QUIC variable-length integer (RFC 9000 section 16).
func readVarint(b []byte) (uint64, int, bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	n := 1 << (b[0] >> 6)
	if len(b) < n {
		return 0, 0, false
	}
	v := uint64(b[0] & 0x3f)
	for i := 1; i < n; i++ {
		v = v<<8 | uint64(b[i])
	}
	return v, n, true
}

// Sniff reports whether b starts with a QUIC v1 or v2 Initial packet header.
func Sniff(b []byte) bool {
	if len(b) < 7 || b[0]&0xc0 != 0xc0 {
		return false
	}
	v := binary.BigEndian.Uint32(b[1:])
	if v != Version1 && v != Version2 {
		return false
	}
	return (b[0]>>4)&3 == initialType(v) && b[5] <= maxConnIDLen
}

// ParseInitial decrypts the client Initial packets of one UDP datagram
// (coalesced packets included; other long-header packets are skipped, and a
// short-header packet ends the datagram) and adds their CRYPTO frames to a.
// When the ClientHello is complete it is parsed into a.Hello and Complete
// reports true; later datagrams are then ignored. Frames other than PADDING,
// PING, ACK and CRYPTO end the walk of their packet. The datagram is not
// modified.
func ParseInitial(datagram []byte, a *CryptoAssembler) error {
	for len(datagram) > 0 && !a.complete {
		b0 := datagram[0]
		if b0&0x80 == 0 {
			return nil // short header: the rest of the datagram
		}
		if len(datagram) < 7 {
			return fmt.Errorf("%w: long header", ErrTruncated)
		}
		version := binary.BigEndian.Uint32(datagram[1:])
		if version != Version1 && version != Version2 {
			return fmt.Errorf("%w: version %#08x", ErrNotInitial, version)
		}
		p := 5
		dcidLen := int(datagram[p])
		p++
		if dcidLen > maxConnIDLen || len(datagram) < p+dcidLen+1 {
			return fmt.Errorf("%w: destination connection id", ErrTruncated)
		}
		dcid := datagram[p : p+dcidLen]
		p += dcidLen
		scidLen := int(datagram[p])
		p++
		if scidLen > maxConnIDLen || len(datagram) < p+scidLen {
			return fmt.Errorf("%w: source connection id", ErrTruncated)
		}
		scid := datagram[p : p+scidLen]
		p += scidLen
		typ := (b0 >> 4) & 3
		if typ == retryType(version) {
			return nil // Retry has no length: it fills the datagram
		}
		if typ == initialType(version) {
			tokLen, n, ok := readVarint(datagram[p:])
			if !ok || tokLen > uint64(len(datagram)-p-n) {
				return fmt.Errorf("%w: token", ErrTruncated)
			}
			p += n + int(tokLen)
		}
		length, n, ok := readVarint(datagram[p:])
		if !ok || length > uint64(len(datagram)-p-n) {
			return fmt.Errorf("%w: length", ErrTruncated)
		}
		p += n
		end := p + int(length)
		if typ == initialType(version) {
			if err := a.initial(version, dcid, scid, datagram[:end], p); err != nil {
				return err
			}
		}
		datagram = datagram[end:]
	}
	return nil
}

// initial removes protection from one Initial packet (pkt, with the packet
// number at pnOff) and walks its frames.
func (a *CryptoAssembler) initial(version uint32, dcid, scid, pkt []byte, pnOff int) error {
	if !a.haveKeys {
		if a.keys.aead == nil || a.keys.version != version || string(a.keys.dcid) != string(dcid) {
			if err := a.keys.derive(version, dcid); err != nil {
				a.keys.aead = nil
				return err
			}
		}
		a.haveKeys = true
		a.Version = version
		a.DCID = append(a.DCID[:0], dcid...)
		a.SCID = append(a.SCID[:0], scid...)
	}
	if pnOff+4+16 > len(pkt) {
		return fmt.Errorf("%w: header protection sample", ErrTruncated)
	}
	a.scratch = append(a.scratch[:0], pkt...)
	s := a.scratch
	var mask [16]byte
	a.keys.hp.Encrypt(mask[:], s[pnOff+4:pnOff+20])
	s[0] ^= mask[0] & 0x0f
	pnLen := int(s[0]&3) + 1
	var pn uint64
	for i := 0; i < pnLen; i++ {
		s[pnOff+i] ^= mask[1+i]
		pn = pn<<8 | uint64(s[pnOff+i])
	}
	// The truncated packet number is used as is: a client's first Initial
	// packets are numbered from 0, well inside one byte's range.
	var nonce [12]byte
	copy(nonce[:], a.keys.iv[:])
	for i := 0; i < 8; i++ {
		nonce[11-i] ^= byte(pn >> (8 * i))
	}
	hdr := s[:pnOff+pnLen]
	payload := s[pnOff+pnLen:]
	if len(payload) < a.keys.aead.Overhead() {
		return fmt.Errorf("%w: payload", ErrTruncated)
	}
	plain, err := a.keys.aead.Open(payload[:0], nonce[:], payload, hdr)
	if err != nil {
		if string(dcid) != string(a.keys.dcid) || version != a.keys.version {
			// A later Initial to the server-chosen connection ID is still
			// protected with the first keys; another client's packet is not.
			return fmt.Errorf("%w: destination connection id %x", ErrDecrypt, dcid)
		}
		return fmt.Errorf("%w: packet number %d", ErrDecrypt, pn)
	}
	a.Packets++
	if err := a.frames(plain); err != nil {
		return err
	}
	return a.checkHello()
}

// frames walks the frames of a decrypted Initial packet.
func (a *CryptoAssembler) frames(b []byte) error {
	for len(b) > 0 {
		typ := b[0]
		switch {
		case typ == 0x00 || typ == 0x01: // PADDING, PING
			b = b[1:]
		case typ == 0x02 || typ == 0x03: // ACK (0x03 with ECN counts)
			b = b[1:]
			fields := 4
			var count uint64
			for i := 0; i < fields; i++ {
				v, n, ok := readVarint(b)
				if !ok {
					return fmt.Errorf("%w: ACK frame", ErrTruncated)
				}
				if i == 2 {
					count = v
					if count > uint64(len(b)) {
						return fmt.Errorf("%w: ACK range count %d", ErrTruncated, count)
					}
					fields += 2 * int(count)
				}
				b = b[n:]
			}
			if typ == 0x03 {
				for i := 0; i < 3; i++ {
					_, n, ok := readVarint(b)
					if !ok {
						return fmt.Errorf("%w: ACK ECN counts", ErrTruncated)
					}
					b = b[n:]
				}
			}
		case typ == 0x06: // CRYPTO
			off, n, ok := readVarint(b[1:])
			if !ok {
				return fmt.Errorf("%w: CRYPTO offset", ErrTruncated)
			}
			b = b[1+n:]
			l, n, ok := readVarint(b)
			if !ok || l > uint64(len(b)-n) {
				return fmt.Errorf("%w: CRYPTO length", ErrTruncated)
			}
			data := b[n : n+int(l)]
			b = b[n+int(l):]
			if err := a.add(off, data); err != nil {
				return err
			}
		default:
			return nil // any other frame ends the walk
		}
	}
	return nil
}

// add stores CRYPTO data at offset off.
func (a *CryptoAssembler) add(off uint64, data []byte) error {
	if off > MaxCryptoData || uint64(len(data)) > MaxCryptoData-off {
		return fmt.Errorf("%w: offset %d length %d", ErrLimit, off, len(data))
	}
	if len(data) == 0 {
		return nil
	}
	start, end := int(off), int(off)+len(data)
	if end > len(a.buf) {
		if end > cap(a.buf) {
			nb := make([]byte, end, max(end, 2*cap(a.buf), 2048))
			copy(nb, a.buf)
			a.buf = nb
		}
		a.buf = a.buf[:end]
	}
	copy(a.buf[start:end], data)
	// Merge [start, end) into the sorted, disjoint range list.
	rs := a.ranges
	i := 0
	for i < len(rs) && rs[i].end < start {
		i++
	}
	j := i
	for j < len(rs) && rs[j].start <= end {
		start, end = min(start, rs[j].start), max(end, rs[j].end)
		j++
	}
	if i == j {
		if len(rs) >= maxRanges {
			return fmt.Errorf("%w: more than %d CRYPTO ranges", ErrLimit, maxRanges)
		}
		rs = append(rs, span{})
		copy(rs[i+1:], rs[i:])
	} else {
		rs = append(rs[:i+1], rs[j:]...)
	}
	rs[i] = span{start, end}
	a.ranges = rs
	return nil
}

// checkHello parses the ClientHello once its bytes are all there.
func (a *CryptoAssembler) checkHello() error {
	if len(a.ranges) == 0 || a.ranges[0].start != 0 {
		return nil
	}
	have := a.ranges[0].end
	if have < 4 {
		return nil
	}
	if a.buf[0] != 1 {
		return fmt.Errorf("%w: handshake type %d", ErrNotHello, a.buf[0])
	}
	l := int(a.buf[1])<<16 | int(a.buf[2])<<8 | int(a.buf[3])
	if l > MaxCryptoData-4 {
		return fmt.Errorf("%w: ClientHello length %d", ErrLimit, l)
	}
	if have < 4+l {
		return nil
	}
	a.complete = true
	if err := tls.ParseClientHello(a.buf[4:4+l], &a.Hello); err != nil {
		return fmt.Errorf("quic: %w", err)
	}
	return nil
}
