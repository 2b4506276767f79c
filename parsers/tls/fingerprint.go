package tls

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strconv"
)

// The fingerprint functions append to dst and return the extended slice, so a
// caller that reuses dst fingerprints without allocating.

// AppendJA3 appends the JA3 string of h (Salesforce JA3:
// "SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats",
// decimal values joined by "-", GREASE values removed from every list).
func AppendJA3(dst []byte, h *ClientHello) []byte {
	dst = strconv.AppendUint(dst, uint64(h.Version), 10)
	dst = append(dst, ',')
	dst = appendDecList(dst, h.CipherSuites)
	dst = append(dst, ',')
	dst = appendDecList(dst, h.Extensions)
	dst = append(dst, ',')
	dst = appendDecList(dst, h.SupportedGroups)
	dst = append(dst, ',')
	for i, f := range h.ECPointFormats {
		if i > 0 {
			dst = append(dst, '-')
		}
		dst = strconv.AppendUint(dst, uint64(f), 10)
	}
	return dst
}

// AppendJA3S appends the JA3S string of h ("SSLVersion,Cipher,Extensions",
// decimal, extensions joined by "-", GREASE removed).
func AppendJA3S(dst []byte, h *ServerHello) []byte {
	dst = strconv.AppendUint(dst, uint64(h.Version), 10)
	dst = append(dst, ',')
	dst = strconv.AppendUint(dst, uint64(h.CipherSuite), 10)
	dst = append(dst, ',')
	return appendDecList(dst, h.Extensions)
}

// AppendMD5Hex appends the lowercase hex MD5 of s: the JA3/JA3S hash of a
// JA3/JA3S string.
func AppendMD5Hex(dst, s []byte) []byte {
	sum := md5.Sum(s)
	return hex.AppendEncode(dst, sum[:])
}

func appendDecList(dst []byte, vs []uint16) []byte {
	first := true
	for _, v := range vs {
		if IsGREASE(v) {
			continue
		}
		if !first {
			dst = append(dst, '-')
		}
		first = false
		dst = strconv.AppendUint(dst, uint64(v), 10)
	}
	return dst
}

// JA4 protocol characters.
const (
	JA4TCP  byte = 't'
	JA4QUIC byte = 'q'
	JA4DTLS byte = 'd'
)

// AppendJA4 appends the JA4 client fingerprint of h (FoxIO JA4 spec), e.g.
// "t13d1516h2_8daaf6152771_e5627efa2ab1". proto is JA4TCP, JA4QUIC or JA4DTLS.
func AppendJA4(dst []byte, h *ClientHello, proto byte) []byte {
	return appendJA4(dst, h, proto, false)
}

// AppendJA4Raw appends JA4_r: the JA4 with its two hashed parts replaced by
// the sorted lists they hash.
func AppendJA4Raw(dst []byte, h *ClientHello, proto byte) []byte {
	return appendJA4(dst, h, proto, true)
}

func appendJA4(dst []byte, h *ClientHello, proto byte, raw bool) []byte {
	var cbuf [MaxCiphers]uint16
	var ebuf [MaxExtensions]uint16
	ciphers := cbuf[:0]
	for _, c := range h.CipherSuites {
		if !IsGREASE(c) {
			ciphers = append(ciphers, c)
		}
	}
	exts := ebuf[:0]
	nExt := 0
	sni := false
	for _, e := range h.Extensions {
		if IsGREASE(e) {
			continue
		}
		nExt++
		switch e {
		case ExtServerName:
			sni = true
		case ExtALPN:
		default:
			exts = append(exts, e)
		}
	}

	// Part a.
	dst = append(dst, proto)
	dst = append(dst, ja4Version(h)...)
	if sni {
		dst = append(dst, 'd')
	} else {
		dst = append(dst, 'i')
	}
	dst = appendCount(dst, len(ciphers))
	dst = appendCount(dst, nExt)
	dst = appendALPN(dst, h)

	// Part b: sorted ciphers.
	dst = append(dst, '_')
	slices.Sort(ciphers)
	if raw {
		dst = appendHexList(dst, ciphers)
	} else if len(ciphers) == 0 {
		dst = append(dst, "000000000000"...)
	} else {
		start := len(dst)
		dst = appendHexList(dst, ciphers)
		dst = appendTruncSHA256(dst, start)
	}

	// Part c: sorted extensions without SNI and ALPN, then "_" and the
	// signature algorithms in wire order (the "_" only when there are some).
	dst = append(dst, '_')
	slices.Sort(exts)
	if !raw && len(exts) == 0 {
		return append(dst, "000000000000"...)
	}
	start := len(dst)
	dst = appendHexList(dst, exts)
	first := true
	for _, s := range h.SignatureAlgorithms {
		if IsGREASE(s) {
			continue
		}
		if first {
			dst = append(dst, '_')
			first = false
		} else {
			dst = append(dst, ',')
		}
		dst = appendHex4(dst, s)
	}
	if raw {
		return dst
	}
	return appendTruncSHA256(dst, start)
}

// ja4Len is the length of every JA4: a 10-character part a ("t13d1516h2")
// and two 12-character hashes, joined by "_".
const ja4Len = 10 + 1 + 12 + 1 + 12

// appendJA4Inputs appends what JA4 reads of h beyond what
// appendJA3Inputs says (a memo key: two ClientHellos with the same of
// both have the same fingerprints): supported_versions and the signature
// algorithms, each behind its count, and the first ALPN value behind its
// length (0xffff: no ALPN; a value is at most 255 bytes), all as two
// bytes.
func appendJA4Inputs(dst []byte, h *ClientHello) []byte {
	for _, l := range [][]uint16{h.SupportedVersions, h.SignatureAlgorithms} {
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(l)))
		for _, v := range l {
			dst = binary.BigEndian.AppendUint16(dst, v)
		}
	}
	if len(h.ALPN) == 0 {
		return binary.BigEndian.AppendUint16(dst, 0xffff)
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(h.ALPN[0])))
	return append(dst, h.ALPN[0]...)
}

// appendJA3Inputs appends what the JA3 string is made of, in binary: the
// version, then the ciphers, extension types, groups and point formats,
// each list's count first and its GREASE values left out, as JA3 leaves
// them out. It keys the Pool's memo of fingerprints without the decimal
// formatting of the JA3 string (about 90 instructions a value, ~50
// values a ClientHello).
func appendJA3Inputs(dst []byte, h *ClientHello) []byte {
	dst = binary.BigEndian.AppendUint16(dst, h.Version)
	for _, l := range [][]uint16{h.CipherSuites, h.Extensions, h.SupportedGroups} {
		at := len(dst)
		dst = append(dst, 0, 0)
		for _, v := range l {
			if !IsGREASE(v) {
				dst = binary.BigEndian.AppendUint16(dst, v)
			}
		}
		binary.BigEndian.PutUint16(dst[at:], uint16((len(dst)-at-2)/2))
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(h.ECPointFormats)))
	return append(dst, h.ECPointFormats...)
}

// appendTruncSHA256 replaces dst[start:] with the first 12 hex characters of
// its SHA-256.
func appendTruncSHA256(dst []byte, start int) []byte {
	sum := sha256.Sum256(dst[start:])
	dst = dst[:start]
	return hex.AppendEncode(dst, sum[:6])
}

// ja4Version is the 2-character version: the highest non-GREASE value of
// supported_versions when the extension is present, else legacy_version.
func ja4Version(h *ClientHello) string {
	v := h.Version
	if h.HasExtension(ExtSupportedVersions) {
		v = 0
		for _, sv := range h.SupportedVersions {
			if !IsGREASE(sv) && ja4VersionRank(sv) > ja4VersionRank(v) {
				v = sv
			}
		}
	}
	switch v {
	case 0x0304:
		return "13"
	case 0x0303:
		return "12"
	case 0x0302:
		return "11"
	case 0x0301:
		return "10"
	case 0x0300:
		return "s3"
	case 0x0002:
		return "s2"
	case 0xfeff:
		return "d1"
	case 0xfefd:
		return "d2"
	case 0xfefc:
		return "d3"
	}
	return "00"
}

// ja4VersionRank orders versions by age; DTLS versions count down on the wire.
func ja4VersionRank(v uint16) int {
	switch {
	case v == 0:
		return 0
	case v >= 0xfe00:
		return int(0xffff-v) + 1 // 0xfeff (DTLS 1.0) < 0xfefd (1.2) < 0xfefc (1.3)
	default:
		return int(v) + 1
	}
}

func appendCount(dst []byte, n int) []byte {
	if n > 99 {
		n = 99
	}
	return append(dst, byte('0'+n/10), byte('0'+n%10))
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// appendALPN appends the first and last characters of the first ALPN value,
// "00" when there is none, or the first and last hex digits of the value when
// either end byte is not ASCII alphanumeric.
func appendALPN(dst []byte, h *ClientHello) []byte {
	if len(h.ALPN) == 0 || len(h.ALPN[0]) == 0 {
		return append(dst, '0', '0')
	}
	p := h.ALPN[0]
	first, last := p[0], p[len(p)-1]
	if isAlnum(first) && isAlnum(last) {
		return append(dst, first, last)
	}
	const digits = "0123456789abcdef"
	return append(dst, digits[first>>4], digits[last&0x0f])
}

func appendHex4(dst []byte, v uint16) []byte {
	const digits = "0123456789abcdef"
	return append(dst, digits[v>>12], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf])
}

func appendHexList(dst []byte, vs []uint16) []byte {
	for i, v := range vs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendHex4(dst, v)
	}
	return dst
}
