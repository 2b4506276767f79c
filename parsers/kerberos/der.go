package kerberos

import (
	"errors"
	"fmt"
)

// A bounded DER reader: Kerberos messages are read by walking their known
// structure (no generic recursion), so hostile nesting costs nothing
// beyond the fixed depth of that structure. encoding/asn1 is not used: it
// allocates per field through reflection and rejects encodings real
// clients send (GeneralString with bytes outside its character set).

var errTruncated = errors.New("kerberos: truncated DER element")

// tlv is one DER element.
type tlv struct {
	class       uint8 // 0 universal, 1 application, 2 context, 3 private
	constructed bool
	tag         int
	val         []byte
}

// maxTag bounds a tag number (Kerberos uses at most 30).
const maxTag = 1 << 16

// readTLV reads the element at the start of b and returns it with the
// bytes after it. Lengths must be definite and at most 4 bytes long; an
// element longer than b is an error (errTruncated).
func readTLV(b []byte) (tlv, []byte, error) {
	var t tlv
	hl, vl, err := header(b)
	if err != nil {
		return t, nil, err
	}
	if vl > len(b)-hl {
		return t, nil, errTruncated
	}
	t.class, t.constructed = b[0]>>6, b[0]&0x20 != 0
	t.tag = tagNumber(b)
	t.val = b[hl : hl+vl]
	return t, b[hl+vl:], nil
}

// header returns the length of the identifier and length octets of the
// element at the start of b, and the length of its value. errTruncated
// means b ends inside them.
func header(b []byte) (hl, vl int, err error) {
	if len(b) < 2 {
		return 0, 0, errTruncated
	}
	i := 1
	if b[0]&0x1f == 0x1f {
		for n := 0; ; n++ {
			if i >= len(b) {
				return 0, 0, errTruncated
			}
			if n == 3 {
				return 0, 0, fmt.Errorf("kerberos: tag longer than 3 bytes")
			}
			c := b[i]
			i++
			if c&0x80 == 0 {
				break
			}
		}
	}
	if i >= len(b) {
		return 0, 0, errTruncated
	}
	l := b[i]
	i++
	switch {
	case l < 0x80:
		return i, int(l), nil
	case l == 0x80:
		return 0, 0, fmt.Errorf("kerberos: indefinite length")
	case l > 0x84:
		return 0, 0, fmt.Errorf("kerberos: %d-byte length", l&0x7f)
	}
	n := int(l & 0x7f)
	if i+n > len(b) {
		return 0, 0, errTruncated
	}
	v := 0
	for _, c := range b[i : i+n] {
		v = v<<8 | int(c)
	}
	if v > 1<<30 {
		return 0, 0, fmt.Errorf("kerberos: length %d", v)
	}
	return i + n, v, nil
}

func tagNumber(b []byte) int {
	if b[0]&0x1f != 0x1f {
		return int(b[0] & 0x1f)
	}
	v := 0
	for _, c := range b[1:] {
		v = v<<7 | int(c&0x7f)
		if c&0x80 == 0 {
			break
		}
	}
	return min(v, maxTag)
}

// fields reads a SEQUENCE's elements tagged [0]..[n] (context, explicit)
// into out by tag, ignoring others; each out[i] is the inner element's
// encoding. It fails on a malformed element or a repeated tag.
func fields(seq []byte, out [][]byte) error {
	for len(seq) > 0 {
		t, rest, err := readTLV(seq)
		if err != nil {
			return err
		}
		seq = rest
		if t.class != 2 || !t.constructed || t.tag >= len(out) {
			continue
		}
		if out[t.tag] != nil {
			return fmt.Errorf("kerberos: field [%d] repeated", t.tag)
		}
		out[t.tag] = t.val
		if t.val == nil {
			out[t.tag] = []byte{}
		}
	}
	return nil
}

// universal reads b as one element of universal tag tag and returns its
// value.
func universal(b []byte, tag int) ([]byte, error) {
	t, rest, err := readTLV(b)
	if err != nil {
		return nil, err
	}
	if t.class != 0 || t.tag != tag || len(rest) != 0 {
		return nil, fmt.Errorf("kerberos: want universal tag %d, have class %d tag %d", tag, t.class, t.tag)
	}
	return t.val, nil
}

const (
	tagInteger   = 2
	tagBitString = 3
	tagOctets    = 4
	tagSequence  = 16
	tagGenString = 27
	tagGenTime   = 24
)

// integer reads an INTEGER that fits 32 bits (Kerberos' Int32/UInt32).
func integer(b []byte) (int64, error) {
	v, err := universal(b, tagInteger)
	if err != nil {
		return 0, err
	}
	if len(v) == 0 || len(v) > 5 {
		return 0, fmt.Errorf("kerberos: %d-byte integer", len(v))
	}
	n := int64(int8(v[0]))
	for _, c := range v[1:] {
		n = n<<8 | int64(c)
	}
	return n, nil
}

// sequenceOf returns the elements of a SEQUENCE OF, at most max (more is
// reported by more).
func sequenceOf(b []byte, max int) (elems [][]byte, more bool, err error) {
	v, err := universal(b, tagSequence)
	if err != nil {
		return nil, false, err
	}
	for len(v) > 0 {
		_, rest, err := readTLV(v)
		if err != nil {
			return nil, false, err
		}
		if len(elems) == max {
			return elems, true, nil
		}
		elems = append(elems, v[:len(v)-len(rest)])
		v = rest
	}
	return elems, false, nil
}
