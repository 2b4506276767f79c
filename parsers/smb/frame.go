// Package smb reads SMB2/3 over TCP (direct TCP on 445, NetBIOS session
// service on 139): negotiate, session setup (the NTLM user and domain, or
// the Kerberos mechanism), tree connects, file opens with their reads,
// writes, renames and deletes, and named pipes. SMB1 is recognised and
// reported, not decoded beyond its session setup's NTLMSSP names; SMB3
// encrypted messages are counted with the session they belong to.
//
// Message bodies are never held whole: of each NetBIOS message only the
// first maxPrefix bytes are kept (headers, names, security blobs, pipe
// data of ordinary size); read and write data beyond it is counted and
// skipped. Everything kept per connection is bounded (pending requests,
// open files, trees, sessions) and drawn from the memory budget.
package smb

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// maxPrefix bounds the bytes of one NetBIOS message that are held to be
// decoded: an SMB2 header chain, a create's name and contexts, a session
// setup's security blob (a Kerberos AP-REQ with a PAC fits) and a pipe
// transfer of usual size. Longer messages are decoded from this prefix
// and the rest (read/write data) is skipped.
const maxPrefix = 16 << 10

// Protocol identifiers, the first four bytes of an SMB message.
const (
	protoSMB1      = "\xffSMB"
	protoSMB2      = "\xfeSMB"
	protoTransform = "\xfdSMB" // SMB3 encrypted message
	protoCompress  = "\xfcSMB" // SMB 3.1.1 compressed message
)

// NetBIOS session service message types (RFC 1002 4.3.1).
const (
	nbMessage   = 0x00
	nbRequest   = 0x81
	nbPositive  = 0x82
	nbNegative  = 0x83
	nbRetarget  = 0x84
	nbKeepalive = 0x85
)

// ErrNotSMB is returned once a direction's framing makes no sense as SMB
// (an unknown NetBIOS type, or a message that is not SMB): the caller
// stops feeding the connection.
var ErrNotSMB = errors.New("smb: stream is not NetBIOS-framed SMB")

// Sniff tells whether b, the first bytes of a direction, start SMB over
// NetBIOS framing, and in which direction the client's bytes go: an SMB2
// or SMB1 header says whether it is a response. It answers More only
// while b is a prefix of something it would accept.
func Sniff(b []byte, d parsers.Dir) (client parsers.Dir, v parsers.Verdict) {
	if len(b) == 0 {
		return d, parsers.More
	}
	switch b[0] {
	case nbMessage:
	case nbRequest:
		// A session request: length, then the called name encoded in the
		// first level of RFC 1001 (0x20 and 32 letters A..P).
		return d, sniffNBRequest(b)
	default:
		return d, parsers.No
	}
	if len(b) < 8 {
		if !prefixOfAny(b[min(len(b), 4):], protoSMB2, protoSMB1, protoTransform, protoCompress) {
			return d, parsers.No
		}
		return d, parsers.More
	}
	n := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
	switch string(b[4:8]) {
	case protoSMB2:
		if n < 64 {
			return d, parsers.No
		}
		if len(b) < 24 {
			return d, parsers.More
		}
		if binary.LittleEndian.Uint16(b[8:]) != 64 {
			return d, parsers.No
		}
		if binary.LittleEndian.Uint32(b[20:])&flagResponse != 0 {
			return d.Reverse(), parsers.Yes
		}
		return d, parsers.Yes
	case protoSMB1:
		if n < 32 {
			return d, parsers.No
		}
		if len(b) < 14 {
			return d, parsers.More
		}
		if b[13]&0x80 != 0 { // SMB_FLAGS_REPLY
			return d.Reverse(), parsers.Yes
		}
		return d, parsers.Yes
	case protoTransform, protoCompress:
		if n < 52 {
			return d, parsers.No
		}
		return d, parsers.Yes
	}
	return d, parsers.No
}

func prefixOfAny(b []byte, ids ...string) bool {
	for _, id := range ids {
		if string(b) == id[:len(b)] {
			return true
		}
	}
	return false
}

func sniffNBRequest(b []byte) parsers.Verdict {
	if len(b) >= 4 && (b[1]&0xfe != 0 || int(b[1]&1)<<16|int(b[2])<<8|int(b[3]) < 68) {
		return parsers.No
	}
	if len(b) >= 5 && b[4] != 0x20 {
		return parsers.No
	}
	for i := 5; i < len(b) && i < 37; i++ {
		if b[i] < 'A' || b[i] > 'P' {
			return parsers.No
		}
	}
	if len(b) < 37 {
		return parsers.More
	}
	return parsers.Yes
}

// framer cuts one direction into NetBIOS messages. A message wholly
// inside one Data call is decoded in place; one spread over calls has its
// first maxPrefix bytes copied (on the memory budget) and the rest counted.
type framer struct {
	hdr   [4]byte
	nhdr  int
	typ   byte
	left  int    // bytes of the current message still to come
	total int    // its length
	buf   []byte // its first bytes, up to maxPrefix
	paid  int64
	gap   bool // a gap fell inside the current message: it is not decoded
	data  region
}

// feed consumes b, calling msg for each complete SMB message with its
// held prefix and its whole length.
func (c *Conn) feed(d parsers.Dir, b []byte, ts time.Time) error {
	fr := &c.fr[d]
	for len(b) > 0 {
		if fr.left == 0 && fr.nhdr < 4 {
			if fr.nhdr == 0 && len(b) >= 4 {
				// Whole header here: the common case, no copy.
				copy(fr.hdr[:], b[:4])
				fr.nhdr, b = 4, b[4:]
			} else {
				k := copy(fr.hdr[fr.nhdr:], b)
				fr.nhdr, b = fr.nhdr+k, b[k:]
				if fr.nhdr < 4 {
					return nil
				}
			}
			if err := c.header(d, fr); err != nil {
				return err
			}
			if fr.left == 0 {
				fr.nhdr = 0
				continue
			}
		}
		if fr.typ == nbMessage && len(fr.buf) == 0 && len(b) >= fr.left && !fr.gap {
			// The whole message is in b: decode it where it lies.
			m := b[:fr.left]
			b = b[fr.left:]
			fr.left, fr.nhdr = 0, 0
			if c.h.Files != nil {
				c.stream(d, fr, m, m, 0, ts)
			}
			if err := c.message(d, m, len(m), ts); err != nil {
				return err
			}
			continue
		}
		k := min(len(b), fr.left)
		if fr.typ == nbMessage && !fr.gap {
			if keep := min(k, maxPrefix-len(fr.buf)); keep > 0 {
				if !c.grow(fr, keep) {
					fr.gap = true // no budget: the message is counted, not decoded
				} else {
					fr.buf = append(fr.buf, b[:keep]...)
				}
			}
		}
		if fr.typ == nbMessage && c.h.Files != nil && (!fr.gap || fr.data.checked) {
			// After a gap the message is not decoded, but its data region,
			// once known, still is the file's.
			c.stream(d, fr, fr.buf, b[:k], fr.total-fr.left, ts)
		}
		fr.left -= k
		b = b[k:]
		if fr.left > 0 {
			return nil
		}
		fr.nhdr = 0
		if fr.typ == nbMessage && !fr.gap {
			if err := c.message(d, fr.buf, fr.total, ts); err != nil {
				return err
			}
		} else if fr.typ == nbMessage {
			c.stats.Undecoded++
		}
		fr.buf, fr.gap = fr.buf[:0], false
	}
	return nil
}

// header reads a NetBIOS header.
func (c *Conn) header(d parsers.Dir, fr *framer) error {
	fr.typ = fr.hdr[0]
	n := int(fr.hdr[1])<<16 | int(fr.hdr[2])<<8 | int(fr.hdr[3])
	switch fr.typ {
	case nbMessage:
		if n == 0 {
			return nil
		}
	case nbRequest, nbPositive, nbNegative, nbRetarget, nbKeepalive:
		// Session service control on port 139: skipped.
		n &= 0x1ffff
	default:
		c.stats.Errors++
		return ErrNotSMB
	}
	fr.left, fr.total = n, n
	fr.data = region{}
	return nil
}

// grow makes room for k more bytes in fr.buf, reserved on the budget.
func (c *Conn) grow(fr *framer, k int) bool {
	need := len(fr.buf) + k
	if need <= cap(fr.buf) {
		return true
	}
	nc := min(max(need, 2*cap(fr.buf), 1024), maxPrefix)
	if !c.acct.Reserve(budget.Parsers, int64(nc-cap(fr.buf))) {
		c.limit(true, "memory budget spent: an SMB message split across segments is counted, not decoded")
		return false
	}
	fr.paid += int64(nc - cap(fr.buf))
	fr.buf = append(make([]byte, 0, nc), fr.buf...)
	return true
}

// gap marks the current message of d undecodable and resynchronises at
// the next NetBIOS header when the gap ends inside the current message;
// otherwise the stream position is lost and the direction stops.
func (c *Conn) gapIn(d parsers.Dir, n int) {
	fr := &c.fr[d]
	c.stats.Gaps++
	if fr.left > 0 && n <= fr.left {
		c.streamGap(fr, fr.total-fr.left, n)
		fr.left -= n
		fr.gap = true
		if fr.left == 0 {
			fr.nhdr, fr.buf, fr.gap = 0, fr.buf[:0], false
			c.stats.Undecoded++
		}
		return
	}
	c.lost[d] = true
}
