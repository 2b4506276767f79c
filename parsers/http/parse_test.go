package http

import (
	"strings"
	"testing"
)

// The token table holds exactly RFC 9110's tchar: ALPHA, DIGIT and
// "!#$%&'*+-.^_`|~".
func TestTokenChars(t *testing.T) {
	const punct = "!#$%&'*+-.^_`|~"
	for c := 0; c < 256; c++ {
		want := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(punct, byte(c)) >= 0
		if tchar(byte(c)) != want {
			t.Errorf("tchar(%#x) = %v", c, !want)
		}
	}
}

// NameIs answers as strings.EqualFold on ASCII names.
func TestNameIs(t *testing.T) {
	for _, c := range []struct {
		name, want string
		is         bool
	}{
		{"Content-Type", "Content-Type", true},
		{"content-TYPE", "Content-Type", true},
		{"Content-Typ", "Content-Type", false},
		{"Content-Types", "Content-Type", false},
		{"Content-Length", "Content-Type", false},
		{"Host", "host", true},
		{"Hosu", "Host", false},
	} {
		if got := NameIs(c.name, c.want); got != c.is || got != strings.EqualFold(c.name, c.want) {
			t.Errorf("NameIs(%q, %q) = %v", c.name, c.want, got)
		}
	}
}
