package dns

import "encoding/binary"

// MaxTCPMessage is the largest DNS-over-TCP frame: a 2-byte length prefix
// and up to 65535 bytes of message.
const MaxTCPMessage = 2 + 65535

// StreamDecoder frames the DNS-over-TCP byte stream of one direction of one
// connection (RFC 1035 section 4.2.2): each message is preceded by its
// length as two bytes, big endian. Messages may be split across segments and
// several may share one.
//
// It holds at most one incomplete frame (MaxTCPMessage bytes), so memory is
// bounded whatever the input. The zero value is ready to use.
type StreamDecoder struct {
	buf     []byte // the incomplete frame, length prefix included
	Frames  int    // complete messages delivered
	Dropped int    // bytes discarded by Reset
}

// Feed consumes in-order stream bytes and calls fn once per complete
// message, in order. The slice passed to fn is only valid during the call
// (it may alias b or the decoder's buffer): copy what you keep. A message
// whose length prefix is 0 is delivered as an empty slice. If fn returns an
// error, Feed stops and returns it; the bytes after that message are not
// consumed, so the stream is best abandoned (or Reset).
//
// Feed does not keep b: whole frames inside b are handed out in place and
// only an incomplete tail is copied.
func (d *StreamDecoder) Feed(b []byte, fn func(msg []byte) error) error {
	// Finish the frame already started.
	if len(d.buf) > 0 {
		need := d.need()
		take := need - len(d.buf)
		if take > len(b) {
			take = len(b)
		}
		d.buf = append(d.buf, b[:take]...)
		b = b[take:]
		if len(d.buf) == 2 { // the prefix just completed: now the body
			take = d.need() - 2
			if take > len(b) {
				take = len(b)
			}
			d.buf = append(d.buf, b[:take]...)
			b = b[take:]
		}
		if len(d.buf) < d.need() {
			return nil
		}
		d.Frames++
		err := fn(d.buf[2:])
		d.buf = d.buf[:0]
		if err != nil {
			return err
		}
	}
	// Whole frames in place.
	for len(b) >= 2 {
		n := 2 + int(binary.BigEndian.Uint16(b))
		if n > len(b) {
			break
		}
		d.Frames++
		if err := fn(b[2:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	if len(b) > 0 {
		d.buf = append(d.buf[:0], b...)
	}
	return nil
}

// need is the full length of the frame being buffered, or 2 while its prefix
// is incomplete.
func (d *StreamDecoder) need() int {
	if len(d.buf) < 2 {
		return 2
	}
	return 2 + int(binary.BigEndian.Uint16(d.buf))
}

// Buffered is the number of bytes of an incomplete frame being held.
func (d *StreamDecoder) Buffered() int { return len(d.buf) }

// Reset forgets any incomplete frame, for a gap in the stream: the next
// byte fed is taken as the start of a length prefix. (After a gap inside a
// frame the stream cannot be re-synchronised with certainty; a caller may
// check that the next frames parse before trusting them.)
func (d *StreamDecoder) Reset() {
	d.Dropped += len(d.buf)
	d.buf = d.buf[:0]
}
