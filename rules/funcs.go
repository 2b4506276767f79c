package rules

import (
	"math"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"
)

// The helper functions below are what rule conditions call. None does I/O
// and none keeps state, so one compiled program can be shared by every
// worker. Each has a signature the expr VM calls without reflection or an
// argument slice (see expand.go), so calling one does not allocate unless
// it returns a new string or a float.

// isPrivate reports whether s is an RFC 1918 / RFC 4193 (ULA) address.
// Loopback and link-local addresses are not private here: they never cross
// a sensor's wire between two hosts.
func isPrivate(s string) bool {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return false
	}
	return a.Unmap().IsPrivate()
}

// entropy is the Shannon entropy of s in bits per byte (0 for "").
func entropy(s string) float64 {
	if len(s) == 0 {
		return 0
	}
	var counts [256]uint32
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	var h float64
	for _, c := range counts {
		if c == 0 {
			continue
		}
		p := float64(c) / n
		h -= p * math.Log2(p)
	}
	return h
}

// trimName lower-cases nothing (callers compare case-insensitively) but
// strips one trailing dot of a fully qualified name.
func trimName(s string) string {
	return strings.TrimSuffix(s, ".")
}

// registeredDomain is the effective TLD plus one label of a host name
// ("www.example.co.uk" → "example.co.uk"), "" if there is none.
func registeredDomain(s string) string {
	s = trimName(s)
	if s == "" {
		return ""
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(s)
	if err != nil {
		return ""
	}
	return d
}

// labelCount is the number of labels of a domain name ("a.b.c" → 3).
func labelCount(s string) int {
	s = trimName(s)
	if s == "" {
		return 0
	}
	return strings.Count(s, ".") + 1
}

// maxLabelLen is the length of the longest label of a domain name.
func maxLabelLen(s string) int {
	best, cur := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			cur = 0
			continue
		}
		cur++
		if cur > best {
			best = cur
		}
	}
	return best
}

// isSet reports whether a time field was filled in (not the zero time).
func isSet(t time.Time) bool { return !t.IsZero() }

// urlDecode percent-decodes s (and '+' as a space) leniently: a malformed
// escape is kept as is. It returns s itself when there is nothing to decode.
func urlDecode(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// prefixSet matches addresses against IPs and CIDRs.
type prefixSet struct {
	addrs    map[netip.Addr]struct{}
	prefixes []netip.Prefix
}

// parseIPItem parses an IP or CIDR list item.
func parseIPItem(s string) (netip.Prefix, bool, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false, err
		}
		return p.Masked(), true, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), false, nil
}

func (p *prefixSet) add(item string) error {
	pfx, isCIDR, err := parseIPItem(item)
	if err != nil {
		return err
	}
	if !isCIDR {
		if p.addrs == nil {
			p.addrs = make(map[netip.Addr]struct{})
		}
		p.addrs[pfx.Addr()] = struct{}{}
		return nil
	}
	p.prefixes = append(p.prefixes, pfx)
	return nil
}

func (p *prefixSet) match(s string) bool {
	if len(p.addrs) == 0 && len(p.prefixes) == 0 {
		return false
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return false
	}
	a = a.Unmap()
	if _, ok := p.addrs[a]; ok {
		return true
	}
	for _, pfx := range p.prefixes {
		if pfx.Contains(a) {
			return true
		}
	}
	return false
}

// domainSet matches a name and all its subdomains, case-insensitively,
// ignoring a trailing dot. An item "*.example.com" or ".example.com" is the
// same as "example.com".
type domainSet map[string]struct{}

func normDomain(s string) string {
	s = strings.TrimPrefix(s, "*.")
	s = strings.TrimPrefix(s, ".")
	return strings.ToLower(trimName(s))
}

func (d domainSet) match(s string) bool {
	if len(d) == 0 || s == "" {
		return false
	}
	s = trimName(s)
	if hasUpper(s) {
		s = strings.ToLower(s)
	}
	for {
		if _, ok := d[s]; ok {
			return true
		}
		i := strings.IndexByte(s, '.')
		if i < 0 {
			return false
		}
		s = s[i+1:]
	}
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}
