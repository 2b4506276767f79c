// Package homenet is the one definition of the networks a sensor defends.
// The enricher derives network.direction from it and the rules see it as
// the list home_networks, so both always agree (enrich.home_net,
// --home-net).
package homenet

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Default is the home network when none is configured: the private ranges
// (RFC 1918 and IPv6 unique local addresses), as Suricata's HOME_NET.
// Loopback and link-local addresses are not in it: they never cross the
// network a sensor watches.
var Default = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"}

// Or returns entries, or Default when entries configure nothing.
func Or(entries []string) []string {
	for _, e := range entries {
		if strings.TrimSpace(strings.ReplaceAll(e, ",", "")) != "" {
			return entries
		}
	}
	return Default
}

// Set is a parsed home network.
type Set []netip.Prefix

// Parse reads CIDRs and single addresses (single addresses become /32 or
// /128; IPv4-mapped IPv6 forms are unmapped). An entry may hold several
// separated by commas, as the --home-net flag does. what names the setting
// in errors (e.g. "enrich.home_net").
func Parse(what string, entries []string) (Set, error) {
	var out Set
	var errs []error
	for i, entry := range entries {
		for s := range strings.SplitSeq(entry, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			p, err := parseOne(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s[%d]: bad CIDR %q", what, i, s))
				continue
			}
			out = append(out, p)
		}
	}
	return out, errors.Join(errs...)
}

func parseOne(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, err
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		if p.Addr().Zone() != "" {
			return p, errors.New("zone")
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a.Zone() != "" {
		return netip.Prefix{}, errors.New("zone")
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Contains reports whether a is in the home network.
func (s Set) Contains(a netip.Addr) bool {
	for _, p := range s {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Direction is ECS network.direction seen from the home network.
func (s Set) Direction(src, dst netip.Addr) string {
	sh, dh := s.Contains(src), s.Contains(dst)
	switch {
	case sh && dh:
		return "internal"
	case sh:
		return "outbound"
	case dh:
		return "inbound"
	}
	return "external"
}

// Strings returns the prefixes as list items.
func (s Set) Strings() []string {
	out := make([]string, len(s))
	for i, p := range s {
		out[i] = p.String()
	}
	return out
}
