package dns

import (
	"strings"

	"golang.org/x/net/publicsuffix"
)

// SplitName splits a query name the way ECS fills dns.question.*:
// registered is the effective TLD plus one label ("example.co.uk"),
// subdomain what comes before it without the joining dot ("www"), and tld
// the effective TLD from the Public Suffix List ("co.uk").
//
// A trailing dot is ignored and the result keeps the case of name (the list
// is matched case-insensitively). A name that is itself a public suffix has
// no registered domain or subdomain; its tld is the name when the suffix is
// on the ICANN part of the list ("co.uk", "com") and empty otherwise, so a
// single-label name such as "wpad" or "localhost" gives three empty strings.
// The root, an empty name, or one with an empty label gives empty strings.
// An escaped dot ("\.") inside a label is not told apart from a separator;
// such names are not registrable anyway.
func SplitName(name string) (registered, subdomain, tld string) {
	n := strings.TrimSuffix(name, ".")
	if n == "" || strings.HasPrefix(n, ".") || strings.Contains(n, "..") {
		return "", "", ""
	}
	lower := n
	for i := 0; i < len(n); i++ {
		if c := n[i]; 'A' <= c && c <= 'Z' {
			lower = strings.ToLower(n) // ASCII only changes no length
			break
		}
	}
	suffix, icann := publicsuffix.PublicSuffix(lower)
	if len(suffix) > len(n) || suffix == "" {
		return "", "", ""
	}
	if len(suffix) == len(n) {
		if icann {
			return "", "", n
		}
		return "", "", ""
	}
	tld = n[len(n)-len(suffix):]
	rest := n[:len(n)-len(suffix)-1] // without the dot before the suffix
	i := strings.LastIndexByte(rest, '.')
	registered = n[i+1:]
	if i > 0 {
		subdomain = n[:i]
	}
	return registered, subdomain, tld
}
