package rules

import (
	"encoding/binary"
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
	// The IPv4 items again as numbers: match reads a dotted quad without
	// netip (several rules ask about the same addresses of every event).
	v4addrs map[uint32]struct{}
	v4nets  []v4net
}

type v4net struct{ base, mask uint32 }

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
	if a := pfx.Addr(); a.Is4() {
		b := a.As4()
		base := binary.BigEndian.Uint32(b[:])
		if !isCIDR {
			if p.v4addrs == nil {
				p.v4addrs = make(map[uint32]struct{})
			}
			p.v4addrs[base] = struct{}{}
		} else {
			p.v4nets = append(p.v4nets, v4net{base: base, mask: ^uint32(0) << (32 - pfx.Bits())}) // /0: shifted out, 0
		}
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
	if p.empty() {
		return false
	}
	return p.matchAddr(parseAddr(s))
}

// parseAddr is s as netip.ParseAddr reads it, the zero Addr (which no set
// matches) if it is not an address; the canonical dotted quad, most
// events' form, is read by hand.
func parseAddr(s string) netip.Addr {
	if v, ok := dottedQuad(s); ok {
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	a, _ := netip.ParseAddr(s)
	return a
}

// empty says whether the set holds no item: it matches nothing, and an
// address need not be read to ask it (the shipped rules' allow-lists are
// empty until a site fills them, and most rules ask one of them of every
// event).
func (p *prefixSet) empty() bool { return len(p.addrs) == 0 && len(p.prefixes) == 0 }

// matchAddr is match of an address parsed by parseAddr: natCall passes
// the address an event's field parsed to once (natEnv).
func (p *prefixSet) matchAddr(a netip.Addr) bool {
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		return p.matchV4(binary.BigEndian.Uint32(b[:]))
	}
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

// matchV4 matches an IPv4 address: its IPv4 items are also in v4addrs
// and v4nets (an IPv4 address is never in an IPv6 prefix).
func (p *prefixSet) matchV4(v uint32) bool {
	if _, ok := p.v4addrs[v]; ok {
		return true
	}
	for _, n := range p.v4nets {
		if v&n.mask == n.base {
			return true
		}
	}
	return false
}

// dottedQuad reads an IPv4 address in its canonical form (four decimal
// fields of 0-255 without leading zeros), ok false for anything else: what
// it accepts netip.ParseAddr accepts as the same address (the rest goes to
// netip).
func dottedQuad(s string) (v uint32, ok bool) {
	if len(s) < len("0.0.0.0") || len(s) > len("255.255.255.255") {
		return 0, false
	}
	fields, n, digits := 0, uint32(0), 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || n > 255 || fields == 4 {
				return 0, false
			}
			v, fields, n, digits = v<<8|n, fields+1, 0, 0
			continue
		}
		c := s[i] - '0'
		if c > 9 || digits == 3 || (digits == 1 && n == 0) {
			return 0, false
		}
		n, digits = n*10+uint32(c), digits+1
	}
	return v, fields == 4
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
