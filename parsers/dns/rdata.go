// Presentation format: labels, character-strings and the RDATA of every
// known type (RFC 3597 for the rest), written into the message's arena.

package dns

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"strconv"
	"time"
)

// appendLabel appends one label in presentation form.
func appendLabel(dst, l []byte) []byte {
	for _, c := range l {
		switch {
		case c == '.' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x21 || c > 0x7e:
			dst = appendDDD(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func appendDDD(dst []byte, c byte) []byte {
	return append(dst, '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
}

// appendText appends a character-string: backslash and non-printable bytes
// are escaped, space is kept.
func appendText(dst, s []byte, extra byte) []byte {
	for _, c := range s {
		switch {
		case c == '\\' || (extra != 0 && c == extra):
			dst = append(dst, '\\', c)
		case c < 0x20 || c > 0x7e:
			dst = appendDDD(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// rdata fills rr.data (and rr.target) from the rdata at b[off:], where b
// ends at the end of the rdata. Undecodable rdata falls back to RFC 3597.
func (m *Message) rdata(rr *RR, b []byte, off int) {
	start := len(m.arena)
	txtStart := len(m.txtSp)
	known := m.known(rr.Type)
	if !known || !m.appendRData(rr, b, off) {
		m.arena = m.arena[:start]
		m.txtSp = m.txtSp[:txtStart]
		rr.target = span{}
		if known {
			m.BadRData++
		}
		m.arena = appendUnknown(m.arena, b[off:])
	}
	rr.data = span{uint32(start), uint32(len(m.arena))}
	if rr.Type == TypeTXT || rr.Type == TypeSPF {
		rr.txtLo, rr.txtHi = txtStart, len(m.txtSp)
	}
}

// known reports whether appendRData has a presentation form for t.
func (m *Message) known(t uint16) bool {
	switch t {
	case TypeA, TypeAAAA, TypeNS, TypeMD, TypeMF, TypeCNAME, TypeMB, TypeMG, TypeMR, TypePTR, TypeDNAME,
		TypeMX, TypeTXT, TypeSPF, TypeSOA, TypeSRV, TypeSVCB, TypeHTTPS, TypeCAA, TypeDS, TypeCDS, TypeDLV,
		TypeDNSKEY, TypeCDNSKEY, TypeRRSIG, TypeNSEC:
		return true
	}
	return false
}

func appendUnknown(dst, rd []byte) []byte {
	dst = append(dst, `\# `...)
	dst = strconv.AppendInt(dst, int64(len(rd)), 10)
	if len(rd) > 0 {
		dst = append(dst, ' ')
		dst = hex.AppendEncode(dst, rd)
	}
	return dst
}

// rdName decodes a name that must end exactly at or before len(b); it
// writes it to the arena and returns the offset after it.
func (m *Message) rdName(b []byte, off int) (span, int, bool) {
	before := len(m.arena)
	sp, end, err := m.name(b, off)
	if err != nil {
		return span{}, off, false
	}
	// A cached span lies before what this call wrote; the data must be
	// contiguous, so copy it. (It may end right where the arena did: a
	// cached owner name wrote nothing.)
	if int(sp.lo) < before {
		m.arena = append(m.arena, m.arena[sp.lo:sp.hi]...)
		sp = span{uint32(len(m.arena)) - (sp.hi - sp.lo), uint32(len(m.arena))}
	}
	return sp, end, true
}

func (m *Message) appendRData(rr *RR, b []byte, off int) bool {
	rd := b[off:]
	a := m.arena
	switch rr.Type {
	case TypeA:
		if len(rd) != 4 {
			return false
		}
		m.arena = netip.AddrFrom4([4]byte(rd)).AppendTo(a)
	case TypeAAAA:
		if len(rd) != 16 {
			return false
		}
		m.arena = netip.AddrFrom16([16]byte(rd)).AppendTo(a)
	case TypeNS, TypeMD, TypeMF, TypeCNAME, TypeMB, TypeMG, TypeMR, TypePTR, TypeDNAME:
		sp, end, ok := m.rdName(b, off)
		if !ok || end != len(b) {
			return false
		}
		rr.target = sp
	case TypeMX:
		if len(rd) < 3 {
			return false
		}
		m.arena = strconv.AppendUint(a, uint64(binary.BigEndian.Uint16(rd)), 10)
		m.arena = append(m.arena, ' ')
		sp, end, ok := m.rdName(b, off+2)
		if !ok || end != len(b) {
			return false
		}
		rr.target = sp
	case TypeTXT, TypeSPF:
		for p := 0; p < len(rd); {
			n := int(rd[p])
			if p+1+n > len(rd) {
				return false
			}
			s := len(m.arena)
			m.arena = appendText(m.arena, rd[p+1:p+1+n], 0)
			m.txtSp = append(m.txtSp, span{uint32(s), uint32(len(m.arena))})
			p += 1 + n
		}
	case TypeSOA:
		sp, p, ok := m.rdName(b, off)
		if !ok {
			return false
		}
		rr.target = sp
		m.arena = append(m.arena, ' ')
		_, p, ok = m.rdName(b, p)
		if !ok || len(b)-p != 20 {
			return false
		}
		for i := 0; i < 5; i++ {
			m.arena = append(m.arena, ' ')
			m.arena = strconv.AppendUint(m.arena, uint64(binary.BigEndian.Uint32(b[p+4*i:])), 10)
		}
	case TypeSRV:
		if len(rd) < 7 {
			return false
		}
		for i := 0; i < 3; i++ {
			m.arena = strconv.AppendUint(m.arena, uint64(binary.BigEndian.Uint16(rd[2*i:])), 10)
			m.arena = append(m.arena, ' ')
		}
		sp, end, ok := m.rdName(b, off+6)
		if !ok || end != len(b) {
			return false
		}
		rr.target = sp
	case TypeSVCB, TypeHTTPS:
		return m.appendSVCB(rr, b, off)
	case TypeCAA:
		if len(rd) < 2 || 2+int(rd[1]) > len(rd) || rd[1] == 0 {
			return false
		}
		m.arena = strconv.AppendUint(a, uint64(rd[0]), 10)
		m.arena = append(m.arena, ' ')
		m.arena = appendText(m.arena, rd[2:2+rd[1]], ' ')
		m.arena = append(m.arena, ' ', '"')
		m.arena = appendText(m.arena, rd[2+rd[1]:], '"')
		m.arena = append(m.arena, '"')
	case TypeDS, TypeCDS, TypeDLV:
		if len(rd) < 5 {
			return false
		}
		m.arena = appendHexUpper(appendKeyHead(a, rd), rd[4:])
	case TypeDNSKEY, TypeCDNSKEY:
		if len(rd) < 5 {
			return false
		}
		m.arena = base64.StdEncoding.AppendEncode(appendKeyHead(a, rd), rd[4:])
	case TypeRRSIG:
		if len(rd) < 19 {
			return false
		}
		a = AppendTypeName(a, binary.BigEndian.Uint16(rd))
		a = append(a, ' ')
		a = strconv.AppendUint(a, uint64(rd[2]), 10)
		a = append(a, ' ')
		a = strconv.AppendUint(a, uint64(rd[3]), 10)
		a = append(a, ' ')
		a = strconv.AppendUint(a, uint64(binary.BigEndian.Uint32(rd[4:])), 10)
		a = append(a, ' ')
		a = time.Unix(int64(binary.BigEndian.Uint32(rd[8:])), 0).UTC().AppendFormat(a, "20060102150405")
		a = append(a, ' ')
		a = time.Unix(int64(binary.BigEndian.Uint32(rd[12:])), 0).UTC().AppendFormat(a, "20060102150405")
		a = append(a, ' ')
		a = strconv.AppendUint(a, uint64(binary.BigEndian.Uint16(rd[16:])), 10)
		a = append(a, ' ')
		m.arena = a
		_, p, ok := m.rdName(b, off+18)
		if !ok || p >= len(b) {
			return false
		}
		m.arena = append(m.arena, ' ')
		m.arena = base64.StdEncoding.AppendEncode(m.arena, b[p:])
	case TypeNSEC:
		_, p, ok := m.rdName(b, off)
		if !ok {
			return false
		}
		var ok2 bool
		if m.arena, ok2 = appendTypeBitmap(m.arena, b[p:]); !ok2 {
			return false
		}
	default:
		return false
	}
	return true
}

// appendTypeBitmap appends the RFC 4034 section 4.1.2 type bitmap.
func appendTypeBitmap(dst, bm []byte) ([]byte, bool) {
	last := -1
	for len(bm) > 0 {
		if len(bm) < 2 {
			return dst, false
		}
		win, n := int(bm[0]), int(bm[1])
		if win <= last || n == 0 || n > 32 || 2+n > len(bm) {
			return dst, false
		}
		last = win
		for i, octet := range bm[2 : 2+n] {
			for bit := 0; bit < 8; bit++ {
				if octet&(0x80>>bit) != 0 {
					dst = append(dst, ' ')
					dst = AppendTypeName(dst, uint16(win<<8|i*8+bit))
				}
			}
		}
		bm = bm[2+n:]
	}
	return dst, true
}

func appendHexUpper(dst, src []byte) []byte {
	const digits = "0123456789ABCDEF"
	for _, c := range src {
		dst = append(dst, digits[c>>4], digits[c&0xF])
	}
	return dst
}

// SVCB parameter keys (RFC 9460 section 14.3.2).
var svcKeyNames = [...]string{"mandatory", "alpn", "no-default-alpn", "port", "ipv4hint", "ech", "ipv6hint", "dohpath", "ohttp"}

func appendSvcKey(dst []byte, k uint16) []byte {
	if int(k) < len(svcKeyNames) {
		return append(dst, svcKeyNames[k]...)
	}
	dst = append(dst, "key"...)
	return strconv.AppendUint(dst, uint64(k), 10)
}

// appendSVCB renders SVCB/HTTPS rdata (RFC 9460 section 2.1).
func (m *Message) appendSVCB(rr *RR, b []byte, off int) bool {
	rd := b[off:]
	if len(rd) < 3 {
		return false
	}
	m.arena = strconv.AppendUint(m.arena, uint64(binary.BigEndian.Uint16(rd)), 10)
	m.arena = append(m.arena, ' ')
	sp, p, ok := m.rdName(b, off+2)
	if !ok {
		return false
	}
	rr.target = sp
	for p < len(b) {
		if p+4 > len(b) {
			return false
		}
		key := binary.BigEndian.Uint16(b[p:])
		n := int(binary.BigEndian.Uint16(b[p+2:]))
		p += 4
		if p+n > len(b) {
			return false
		}
		v := b[p : p+n]
		p += n
		m.arena = append(m.arena, ' ')
		m.arena = appendSvcKey(m.arena, key)
		if n == 0 {
			continue
		}
		m.arena = append(m.arena, '=')
		a := m.arena
		switch key {
		case 0: // mandatory
			if n%2 != 0 {
				return false
			}
			for i := 0; i < n; i += 2 {
				if i > 0 {
					a = append(a, ',')
				}
				a = appendSvcKey(a, binary.BigEndian.Uint16(v[i:]))
			}
		case 1: // alpn
			for i := 0; i < n; {
				l := int(v[i])
				if i+1+l > n {
					return false
				}
				if i > 0 {
					a = append(a, ',')
				}
				a = appendText(a, v[i+1:i+1+l], ',')
				i += 1 + l
			}
		case 3: // port
			if n != 2 {
				return false
			}
			a = strconv.AppendUint(a, uint64(binary.BigEndian.Uint16(v)), 10)
		case 4: // ipv4hint
			if n%4 != 0 {
				return false
			}
			for i := 0; i < n; i += 4 {
				if i > 0 {
					a = append(a, ',')
				}
				a = netip.AddrFrom4([4]byte(v[i:])).AppendTo(a)
			}
		case 6: // ipv6hint
			if n%16 != 0 {
				return false
			}
			for i := 0; i < n; i += 16 {
				if i > 0 {
					a = append(a, ',')
				}
				a = netip.AddrFrom16([16]byte(v[i:])).AppendTo(a)
			}
		case 5: // ech, base64 as in RFC 9460 / draft-ietf-tls-svcb-ech
			a = base64.StdEncoding.AppendEncode(a, v)
		default: // dohpath and unknown keys: the value as escaped text
			a = appendText(a, v, ' ')
		}
		m.arena = a
	}
	return true
}

// appendKeyHead writes the three numbers DS and DNSKEY rdata start with
// (a 16-bit field, then two 8-bit ones: key tag, algorithm, digest type for
// DS; flags, protocol, algorithm for DNSKEY), each followed by a space.
func appendKeyHead(a, rd []byte) []byte {
	a = strconv.AppendUint(a, uint64(binary.BigEndian.Uint16(rd)), 10)
	a = append(a, ' ')
	a = strconv.AppendUint(a, uint64(rd[2]), 10)
	a = append(a, ' ')
	a = strconv.AppendUint(a, uint64(rd[3]), 10)
	return append(a, ' ')
}
