package smtp

// The body of an attachment is decoded as it streams by, in small steps,
// so that its size is the decoded one and a Files sink gets the file's
// bytes, without holding the part.

type decKind uint8

const (
	decIdentity decKind = iota // 7bit, 8bit, binary
	decBase64
	decQP
)

func decoderKind(enc string) decKind {
	switch enc {
	case "base64":
		return decBase64
	case "quoted-printable":
		return decQP
	}
	return decIdentity
}

// decoder holds the state carried across lines: a base64 quantum, a QP
// escape cut by a piece boundary, and decoded bytes not yet handed on.
type decoder struct {
	kind      decKind
	q         [4]byte
	nq        int
	pad       int // '=' seen: the data has ended
	esc       [2]byte
	nesc      int // bytes of a "=XX" escape after the '=' (esc holds them), while inEsc
	inEsc     bool
	softBreak bool // the QP line ended with '=': no line end follows
	buf       [512]byte
	n         int
}

var b64 = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range len(alphabet) {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

func (d *decoder) put(m *message, c byte) {
	if d.n == len(d.buf) {
		m.out(d.buf[:d.n])
		d.n = 0
	}
	d.buf[d.n] = c
	d.n++
}

// feed decodes one line of the body (or a piece of one); last says the
// line ended there.
func (d *decoder) feed(m *message, b []byte, last bool) {
	switch d.kind {
	case decBase64:
		d.base64(m, b)
	case decQP:
		d.qp(m, b, last)
	default:
		if d.n > 0 {
			m.out(d.buf[:d.n])
			d.n = 0
		}
		m.out(b)
	}
}

// base64 skips what is not in the alphabet (line ends, spaces, garbage)
// and stops at padding, as lenient decoders do.
func (d *decoder) base64(m *message, b []byte) {
	for _, c := range b {
		if c == '=' {
			d.pad++
			continue
		}
		v := b64[c]
		if v == 0xff || d.pad > 0 {
			continue
		}
		d.q[d.nq] = v
		d.nq++
		if d.nq == 4 {
			d.put(m, d.q[0]<<2|d.q[1]>>4)
			d.put(m, d.q[1]<<4|d.q[2]>>2)
			d.put(m, d.q[2]<<6|d.q[3])
			d.nq = 0
		}
	}
}

// qp decodes quoted-printable (RFC 2045 §6.7): "=XX" is a byte, a line
// ending in "=" continues on the next one; an escape that is not hex is
// kept as written.
func (d *decoder) qp(m *message, b []byte, last bool) {
	for _, c := range b {
		if !d.inEsc {
			if c == '=' {
				d.inEsc, d.nesc = true, 0
				continue
			}
			d.put(m, c)
			continue
		}
		d.esc[d.nesc] = c
		d.nesc++
		if d.nesc < 2 {
			continue
		}
		d.inEsc = false
		hi, lo := unhex(d.esc[0]), unhex(d.esc[1])
		if hi < 0 || lo < 0 {
			d.put(m, '=')
			d.put(m, d.esc[0])
			d.put(m, d.esc[1])
			continue
		}
		d.put(m, byte(hi<<4|lo))
	}
	if last && d.inEsc {
		if d.nesc == 0 {
			d.softBreak = true
		} else {
			d.put(m, '=')
			d.put(m, d.esc[0])
		}
		d.inEsc = false
	}
	d.flushBuf(m)
}

func (d *decoder) flushBuf(m *message) {
	if d.n > 0 {
		m.out(d.buf[:d.n])
		d.n = 0
	}
}

// flush ends the part: a partial base64 quantum gives its whole bytes.
func (d *decoder) flush(m *message) {
	if d.kind == decBase64 && d.nq > 1 {
		d.put(m, d.q[0]<<2|d.q[1]>>4)
		if d.nq > 2 {
			d.put(m, d.q[1]<<4|d.q[2]>>2)
		}
	}
	d.nq = 0
	d.flushBuf(m)
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return -1
}
