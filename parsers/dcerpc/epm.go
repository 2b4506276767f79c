package dcerpc

import (
	"encoding/binary"
	"net/netip"
)

// maxEndpoints bounds the endpoints read from one ept_map answer.
const maxEndpoints = 16

// parseMapAnswer reads the towers of an ept_map answer (C706 appendix L;
// MS-RPCE 2.2.1.2.5): entry handle, num_towers, a conformant varying
// array of tower pointers, then each tower (length and octets), and
// returns the TCP (and ncacn_http) endpoints they describe. What does not
// fit is ignored: the answer is data, its counts are not trusted.
func parseMapAnswer(b []byte, o binary.ByteOrder) []Endpoint {
	r := ndr{b: b, o: o}
	r.skip(20) // context handle
	r.u32()    // num_towers
	r.u32()    // max_count
	r.u32()    // offset
	n := int(r.u32())
	ptrs := 0
	for i := 0; i < n && !r.bad; i++ {
		if r.u32() != 0 {
			ptrs++
		}
	}
	var eps []Endpoint
	for i := 0; i < ptrs && !r.bad && len(eps) < maxEndpoints; i++ {
		r.align4()
		r.u32() // conformance
		l := int(r.u32())
		t := r.bytes(l)
		if ep, ok := tower(t); ok {
			eps = append(eps, ep)
		}
	}
	return eps
}

// tower reads one protocol tower: floor count, then floors of left-hand
// side (protocol id first) and right-hand side bytes, little-endian
// counts. Floor 1 names the interface; a TCP (0x07) or HTTP (0x1f) floor
// its port, an IP floor (0x09) its address.
func tower(t []byte) (Endpoint, bool) {
	var ep Endpoint
	if len(t) < 2 {
		return ep, false
	}
	floors := int(binary.LittleEndian.Uint16(t))
	t = t[2:]
	for i := 0; i < floors; i++ {
		if len(t) < 2 {
			return ep, false
		}
		ll := int(binary.LittleEndian.Uint16(t))
		if len(t) < 2+ll+2 || ll == 0 {
			return ep, false
		}
		lhs := t[2 : 2+ll]
		rl := int(binary.LittleEndian.Uint16(t[2+ll:]))
		if len(t) < 4+ll+rl {
			return ep, false
		}
		rhs := t[4+ll : 4+ll+rl]
		t = t[4+ll+rl:]
		switch {
		case i == 0 && lhs[0] == 0x0d && len(lhs) >= 17:
			ep.Interface = uuid(lhs[1:], binary.LittleEndian)
		case (lhs[0] == 0x07 || lhs[0] == 0x1f) && len(rhs) == 2:
			ep.Proto = "tcp"
			if lhs[0] == 0x1f {
				ep.Proto = "http"
			}
			ep.Port = binary.BigEndian.Uint16(rhs)
		case lhs[0] == 0x09 && len(rhs) == 4:
			if a := netip.AddrFrom4([4]byte(rhs)); !a.IsUnspecified() {
				ep.IP = a.String()
			}
		}
	}
	return ep, ep.Proto != "" && ep.Port != 0
}

// ndr reads NDR integers with bounds: past the end it reads zeros and
// sets bad.
type ndr struct {
	b   []byte
	off int
	o   binary.ByteOrder
	bad bool
}

func (r *ndr) skip(n int) {
	if r.off+n > len(r.b) || n < 0 {
		r.bad, r.off = true, len(r.b)
		return
	}
	r.off += n
}

func (r *ndr) u32() uint32 {
	if r.off+4 > len(r.b) {
		r.bad, r.off = true, len(r.b)
		return 0
	}
	v := r.o.Uint32(r.b[r.off:])
	r.off += 4
	return v
}

func (r *ndr) bytes(n int) []byte {
	if n < 0 || r.off+n > len(r.b) {
		r.bad, r.off = true, len(r.b)
		return nil
	}
	v := r.b[r.off : r.off+n]
	r.off += n
	return v
}

func (r *ndr) align4() { r.skip((4 - r.off%4) % 4) }
