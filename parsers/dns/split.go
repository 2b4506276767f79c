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
// A dot inside a label (written "\." by the parser) is part of the label,
// not a separator: the wire's labels may hold any byte, and a name such as
// "x.evil\.bank.com" must not read as a name of bank.com.
func SplitName(name string) (registered, subdomain, tld string) {
	s := SplitNameAt(name)
	return name[s.Registered:s.End], name[:s.Subdomain], name[s.TLD:s.End]
}

// NameSplit is SplitName's answer as offsets into the name: registered is
// name[Registered:End], subdomain name[:Subdomain], tld name[TLD:End].
type NameSplit struct{ Registered, Subdomain, TLD, End int32 }

// SplitNameAt is SplitName as offsets, so a caller can keep the answer
// without the strings.
func SplitNameAt(name string) NameSplit {
	n, m := name, labelDots(name) // m: where the labels of n end
	if strings.HasSuffix(m, ".") {
		n, m = n[:len(n)-1], m[:len(m)-1]
	}
	if m == "" || strings.HasPrefix(m, ".") || strings.Contains(m, "..") {
		return NameSplit{}
	}
	for i := 0; i < len(m); i++ {
		if c := m[i]; 'A' <= c && c <= 'Z' {
			m = strings.ToLower(m) // ASCII only changes no length
			break
		}
	}
	end := int32(len(n))
	suffix, icann := publicsuffix.PublicSuffix(m)
	if len(suffix) > len(n) || suffix == "" {
		return NameSplit{}
	}
	if len(suffix) == len(n) {
		if icann {
			return NameSplit{Registered: end, End: end}
		}
		return NameSplit{}
	}
	rest := m[:len(m)-len(suffix)-1] // without the dot before the suffix
	i := strings.LastIndexByte(rest, '.')
	s := NameSplit{Registered: int32(i + 1), TLD: end - int32(len(suffix)), End: end}
	if i > 0 {
		s.Subdomain = int32(i)
	}
	return s
}

// labelDots returns name with each escaped dot ("\.") made '_': its
// length, with a dot only where a label ends.
func labelDots(name string) string {
	if !strings.Contains(name, `\.`) {
		return name
	}
	b := []byte(name)
	for i := 0; i < len(b)-1; i++ {
		if b[i] == '\\' {
			i++ // the escaped byte (or the first digit of \DDD)
			if b[i] == '.' {
				b[i] = '_'
			}
		}
	}
	return string(b)
}
