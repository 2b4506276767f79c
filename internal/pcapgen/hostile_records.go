package pcapgen

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// CapOverOrig returns the bytes of capture c (pcap or pcapng, not gzip)
// whose records at the indexes in bad claim an original length of half
// their captured length: a record longer than the packet it captured.
// tcpdump and tshark read such files to the end; a reader that stops at
// the first one loses every later packet.
func CapOverOrig(c Capture, bad ...int) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	if c.PcapNG {
		err = writeNG(&buf, c)
	} else {
		err = writePcap(&buf, c.Link, c.Frames)
	}
	if err != nil {
		return nil, err
	}
	b := buf.Bytes()
	offs := recordLengths(b, c.PcapNG)
	for _, i := range bad {
		if i < 0 || i >= len(offs) {
			return nil, fmt.Errorf("pcapgen: record %d of %d", i, len(offs))
		}
		caplen := binary.LittleEndian.Uint32(b[offs[i]:])
		binary.LittleEndian.PutUint32(b[offs[i]+4:], caplen/2)
	}
	return b, nil
}

// recordLengths returns, for each packet record of a little-endian capture
// written by this package, the offset of its captured length (the original
// length follows it).
func recordLengths(b []byte, ng bool) []int {
	var offs []int
	if !ng {
		for at := 24; at+16 <= len(b); at += 16 + int(binary.LittleEndian.Uint32(b[at+8:])) {
			offs = append(offs, at+8)
		}
		return offs
	}
	for at := 0; at+8 <= len(b); at += int(binary.LittleEndian.Uint32(b[at+4:])) {
		if binary.LittleEndian.Uint32(b[at:]) == 6 { // Enhanced Packet Block
			offs = append(offs, at+20)
		}
	}
	return offs
}
