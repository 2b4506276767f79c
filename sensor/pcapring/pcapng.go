package pcapring

import (
	"encoding/binary"

	"github.com/gopacket/gopacket/layers"
)

// The pcapng blocks the ring writes (little-endian): one section header,
// one interface per capture interface (nanosecond timestamps), then
// enhanced packet blocks. Written by hand so that every record's offset
// is known without asking a buffered writer.

const (
	shbLen = 28
	idbLen = 32
	epbLen = 32 // without the data and its padding
)

var le = binary.LittleEndian

// appendHeader appends the section header and one interface block per
// link type in links, and returns the offset the first frame gets when
// read back: source.File reads the interfaces with the first packet, so
// that offset is also a sync point.
func appendHeader(b []byte, links []layers.LinkType, snaplen uint32) ([]byte, int64) {
	b = le.AppendUint32(b, 0x0a0d0d0a)
	b = le.AppendUint32(b, shbLen)
	b = le.AppendUint32(b, 0x1a2b3c4d)
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint64(b, ^uint64(0)) // section length unknown
	b = le.AppendUint32(b, shbLen)
	for _, lt := range links {
		b = le.AppendUint32(b, 1)
		b = le.AppendUint32(b, idbLen)
		b = le.AppendUint16(b, uint16(lt))
		b = le.AppendUint16(b, 0)
		b = le.AppendUint32(b, snaplen)
		b = le.AppendUint16(b, 9) // if_tsresol: 10^-9
		b = le.AppendUint16(b, 1)
		b = append(b, 9, 0, 0, 0)
		b = le.AppendUint32(b, 0) // opt_endofopt
		b = le.AppendUint32(b, idbLen)
	}
	return b, shbLen
}

// pad4 is n rounded up to a multiple of 4.
func pad4(n int) int { return (n + 3) &^ 3 }

// appendPacketHead appends the fields of an enhanced packet block that
// come before its n bytes of data; appendPacketTail what comes after them.
// The data goes to the file between the two, copied once.
func appendPacketHead(b []byte, iface uint32, tsNanos int64, wire, n int) []byte {
	total := uint32(epbLen + pad4(n))
	ts := uint64(tsNanos)
	b = le.AppendUint32(b, 6)
	b = le.AppendUint32(b, total)
	b = le.AppendUint32(b, iface)
	b = le.AppendUint32(b, uint32(ts>>32))
	b = le.AppendUint32(b, uint32(ts))
	b = le.AppendUint32(b, uint32(n))
	return le.AppendUint32(b, uint32(wire))
}

// appendPacketTail appends the padding after n bytes of data and the
// block's closing length.
func appendPacketTail(b []byte, n int) []byte {
	var zeros [3]byte
	b = append(b, zeros[:pad4(n)-n]...)
	return le.AppendUint32(b, uint32(epbLen+pad4(n)))
}
