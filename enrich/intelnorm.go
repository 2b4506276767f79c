// Indicator values: what kind a bare value is, and the normal form of
// domains and URLs that lookups compare.

package enrich

import (
	"net/netip"
	"strings"
)

func inferKind(v string) kind {
	if c := v[0]; c >= '0' && c <= '9' || strings.IndexByte(v, ':') >= 0 && !strings.Contains(v, "://") {
		if !strings.Contains(v, "/") {
			if _, err := netip.ParseAddr(v); err == nil {
				return kindIP
			}
		}
	}
	switch {
	case strings.Contains(v, "://"):
		return kindURL
	case strings.Contains(v, "/"):
		return kindIP // a CIDR, or an error naming it
	case isHex(v, 32):
		return kindHex32
	case isHex(v, 40), isHex(v, 64):
		return kindFileHash
	case isJA4(v):
		return kindJA4
	}
	if _, err := netip.ParseAddr(v); err == nil {
		return kindIP
	}
	if _, ok := normDomain(v); ok {
		return kindDomain
	}
	return kindInfer
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// isJA4 checks the JA4 (TLS client) shape: a_b_c with a = 10 characters
// (protocol, version, SNI flag, counts, ALPN) and b, c = 12 hex digits.
func isJA4(s string) bool {
	a, rest, ok := strings.Cut(s, "_")
	if !ok || len(a) != 10 {
		return false
	}
	bb, c, ok := strings.Cut(rest, "_")
	if !ok || !isHex(bb, 12) || !isHex(c, 12) {
		return false
	}
	switch a[0] | 0x20 {
	case 't', 'q', 'd':
	default:
		return false
	}
	for i := 1; i < len(a); i++ {
		ch := a[i]
		if !(ch >= '0' && ch <= '9' || ch|0x20 >= 'a' && ch|0x20 <= 'z') {
			return false
		}
	}
	return true
}

// normDomain lower-cases a domain, drops a trailing dot and a leading "*."
// and checks its syntax (ASCII letters, digits, '-', '_'; labels of 1..63
// bytes; at most 253 bytes; the last label not all digits). Internationalised names must be in punycode.
func normDomain(s string) (string, bool) {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "*."), ".")
	if len(s) == 0 || len(s) > 253 {
		return "", false
	}
	label, digits := 0, true // digits: the current label is all digits
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if label == 0 {
				return "", false
			}
			label, digits = 0, true
			continue
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		case c >= 'A' && c <= 'Z':
		default:
			return "", false
		}
		digits = digits && c >= '0' && c <= '9'
		label++
		if label > 63 {
			return "", false
		}
	}
	// A top-level label is never all digits (RFC 3696): "300.1.1.1" is a
	// bad address, not a name.
	return strings.ToLower(s), label > 0 && !digits
}

// lowerDomain writes the normalised form of an event's domain into dst:
// ASCII lower case, no trailing dot. It reports false for names that cannot
// be on a list (empty or too long).
func lowerDomain(dst []byte, s string) ([]byte, bool) {
	if len(s) > 0 && s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	if len(s) == 0 || len(s) > 253 {
		return dst, false
	}
	return appendLower(dst[:0], s), true
}

func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// URL normalisation, shared by the lists and the events: lower-case scheme
// and host, the scheme's default port dropped, an empty path written "/",
// the fragment dropped; path and query are kept byte for byte.
const maxURL = 8192

func appendURL(dst []byte, scheme, hostport, rest string) []byte {
	dst = appendLower(dst, scheme)
	dst = append(dst, "://"...)
	host, port := hostport, ""
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.Contains(hostport[i:], "]") {
		host, port = hostport[:i], hostport[i+1:]
	}
	dst = appendLower(dst, host)
	if port != "" && !(port == "80" && strings.EqualFold(scheme, "http")) && !(port == "443" && strings.EqualFold(scheme, "https")) {
		dst = append(dst, ':')
		dst = append(dst, port...)
	}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	if rest == "" || rest[0] == '?' {
		dst = append(dst, '/')
	}
	return append(dst, rest...)
}

// splitURL splits "scheme://hostport/rest"; ok is false when s has no
// scheme or host.
func splitURL(s string) (scheme, hostport, rest string, ok bool) {
	scheme, after, ok := strings.Cut(s, "://")
	if !ok || scheme == "" {
		return "", "", "", false
	}
	for i := 0; i < len(scheme); i++ {
		c := scheme[i] | 0x20
		if !(c >= 'a' && c <= 'z' || i > 0 && (scheme[i] >= '0' && scheme[i] <= '9' || scheme[i] == '+' || scheme[i] == '-' || scheme[i] == '.')) {
			return "", "", "", false
		}
	}
	end := strings.IndexAny(after, "/?#")
	if end < 0 {
		end = len(after)
	}
	hostport, rest = after[:end], after[end:]
	if i := strings.LastIndexByte(hostport, '@'); i >= 0 { // userinfo is not part of the match
		hostport = hostport[i+1:]
	}
	if hostport == "" {
		return "", "", "", false
	}
	return scheme, hostport, rest, true
}

func normURLString(s string) (string, bool) {
	if len(s) > maxURL || strings.ContainsAny(s, " \t") {
		return "", false
	}
	scheme, hp, rest, ok := splitURL(s)
	if !ok {
		return "", false
	}
	return string(appendURL(nil, scheme, hp, rest)), true
}
