package dns

import "testing"

func TestSplitName(t *testing.T) {
	for _, c := range []struct{ in, reg, sub, tld string }{
		{"www.example.co.uk", "example.co.uk", "www", "co.uk"},
		{"example.com", "example.com", "", "com"},
		{"a.b.example.com.", "example.com", "a.b", "com"},
		{"WWW.Example.COM", "Example.COM", "WWW", "COM"},
		{"_dmarc.example.org", "example.org", "_dmarc", "org"},
		{"1.0.0.127.in-addr.arpa", "127.in-addr.arpa", "1.0.0", "in-addr.arpa"},
		{"wpad.home", "wpad.home", "", "home"},                       // unlisted TLD: the "*" rule
		{"foo.blogspot.com", "foo.blogspot.com", "", "blogspot.com"}, // private-section suffix
		{"co.uk", "", "", "co.uk"},                                   // the name is an ICANN suffix
		{"com", "", "", "com"},
		{"wpad", "", "", ""}, // single label, not a listed suffix
		{"localhost.", "", "", ""},
		{"", "", "", ""},
		{".", "", "", ""},
		{"a..b", "", "", ""},
		{".example.com", "", "", ""},
		// a dot inside a label (the parser writes it \.) separates nothing
		{`x.evil\.bank.com`, `evil\.bank.com`, "x", "com"},
		{`evil\.bank.com`, `evil\.bank.com`, "", "com"},
		{`a.b.example\.com`, `b.example\.com`, "a", `example\.com`}, // unlisted TLD "example.com"
		{`a\\.example.com`, "example.com", `a\\`, "com"},            // an escaped backslash, then a separator
		{`www.example.com\.`, `example.com\.`, "www", `com\.`},      // the last label ends in a dot
		{`a\.`, "", "", ""},
	} {
		reg, sub, tld := SplitName(c.in)
		if reg != c.reg || sub != c.sub || tld != c.tld {
			t.Errorf("SplitName(%q) = %q, %q, %q; want %q, %q, %q", c.in, reg, sub, tld, c.reg, c.sub, c.tld)
		}
	}
}
