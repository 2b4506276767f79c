package rules

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"
)

// Patterns whose literal analysis has a case of its own, and texts around
// their literals: case changes, non-ASCII letters that fold onto ASCII ones
// (the Kelvin sign onto k, the long s onto s), bad UTF-8.
var (
	litPatterns = []string{
		`(?i)\b(sqlmap|nikto|masscan)\b`,
		`(?i)(union(\s|\+|%20)+select)|('|%27)(\s|\+)*(or|and)(\s|\+)+[0-9a-z]+=|\b(sleep|benchmark)\(`,
		`(?i)((\.|%2e)(\.|%2e)(/|\\|%2f)|/etc/(passwd|shadow))`,
		`^[a-zA-Z][a-zA-Z0-9+.-]*://[^/@:]+:[^/@]*@`,
		`admin`, `(?i)admin`, `^/admin`, `\x{FFFD}`, `x?y+z{2,3}`, `[kK]ey`, `(?i)ke(y|ys)$`, `a.b`, `(?s)a.*b|c`,
		`(?i)straße`, `[^a]bc`, `(ab|cd)*ef`, `(?i)k`, `(?i)\x{212A}`, ``,
	}
	litTexts = []string{
		"", "/", "/index.html?lang=en", "sqlmap/1.7", "Mozilla SQLMAP", "xsqlmapx", "nikto", "NIKT0",
		"/p?id=1' OR 1=1", "/p?id=1%27+or+a=", "/p?id=1 UNION  SELECT", "/p?id=1 union/**/select", "sleep(5)",
		"/a/../b", "/a/%2E%2e%2F", "/ETC/passwd", "http://u:p@h/", "HTTP://h/", "ftp://a:@b",
		"admin", "/admin/x", "ADMIN", "x/admin", "\xff", "a\xffb", "yzz", "xyyzzz", "Key", "KEY", "\u212Aey", "kes", "KEYS",
		"a\nb", "aXb", "acb", "STRASSE", "straße", "STRAẞE", "bc", "abc", "xbc", "abcdef", "ef", "ſqlmap", "\u212A",
	}
)

// Every matcher answers as the regexp does.
func TestRegexpMatcherAgreesWithRegexp(t *testing.T) {
	for _, p := range litPatterns {
		re := regexp.MustCompile(p)
		m := newRegexpMatcher(p)
		if m == nil {
			continue
		}
		for _, s := range litTexts {
			if got, want := m.match(s), re.MatchString(s); got != want {
				t.Errorf("%q on %q: %v, the regexp says %v", p, s, got, want)
			}
		}
	}
}

// The shipped rules' regexps on URLs and user agents (every HTTP event
// runs them) get a literal prefilter that an ordinary URL or user agent
// does not pass; and the literals are the ones that matter.
func TestShippedRegexpsArePrefiltered(t *testing.T) {
	set, errs := LoadDefault()
	if errs != nil {
		t.Fatal(errs)
	}
	n := 0
	for _, r := range set.rules {
		for _, p := range regexpsOf(r.Condition) {
			if !strings.Contains(r.Condition, "url.original matches") && !strings.Contains(r.Condition, "user_agent.original matches") {
				continue
			}
			n++
			m := newRegexpMatcher(p)
			if m == nil || m.pre == nil {
				t.Errorf("rule %s: %q has no prefilter", r.ID, p)
				continue
			}
			// an ordinary URL or user agent is ruled out before the regexp runs
			for _, s := range []string{"/index.html?lang=en&page=2", "Mozilla/5.0 (X11; Linux x86_64; rv:135.0) Gecko/20100101 Firefox/135.0"} {
				if m.pre.Contains(s) {
					t.Errorf("rule %s: %q: the prefilter passes %q", r.ID, p, s)
				}
			}
		}
	}
	if n < 5 {
		t.Errorf("only %d regexps on URLs and user agents in the shipped rules", n)
	}
	for _, c := range []struct{ p, want string }{
		{`(?i)\b(sqlmap|nikto)\b`, "nikto sqlmap"},
		{`(?i)('|%27)(\s)*(or|and)`, "%27 '"}, // punctuation beats a longer run of letters
		{`x+(?i:Ab)c?`, "ab abc"},
		{`abc.*`, "abc"},
		{`(?i)[Kk]ey`, "key"},
	} {
		tree, err := syntax.Parse(c.p, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		lits := literalsOf(tree.Simplify()).best()
		slices.Sort(lits)
		if strings.Join(lits, " ") != c.want {
			t.Errorf("%q: literals %q, want %q", c.p, lits, c.want)
		}
	}
}

// regexpsOf returns the patterns of `matches` in a condition's source.
func regexpsOf(cond string) []string {
	var out []string
	for _, part := range strings.Split(cond, "matches")[1:] {
		part = strings.TrimSpace(part)
		if part == "" || part[0] != '`' {
			continue
		}
		if end := strings.IndexByte(part[1:], '`'); end >= 0 {
			out = append(out, part[1:1+end])
		}
	}
	return out
}

func FuzzRegexpMatcher(f *testing.F) {
	for i, p := range litPatterns {
		f.Add(p, litTexts[i%len(litTexts)])
	}
	f.Fuzz(func(t *testing.T, p, s string) {
		re, err := regexp.Compile(p)
		if err != nil || len(p) > 200 {
			return
		}
		if m := newRegexpMatcher(p); m != nil {
			if got, want := m.match(s), re.MatchString(s); got != want {
				t.Fatalf("%q on %q: %v, the regexp says %v", p, s, got, want)
			}
		}
	})
}
