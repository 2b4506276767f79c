package app

import (
	"fmt"
	"strings"
	"testing"

	phttp "github.com/packetsleuth/packetsleuth/parsers/http"
)

func TestHeaderSelection(t *testing.T) {
	hs := []phttp.Header{
		{Name: "Host", Value: "example.com"},
		{Name: "X-Forwarded-For", Value: "203.0.113.9"},
		{Name: "Authorization", Value: "Basic dXNlcjpwYXNz"},
		{Name: "Proxy-Authorization", Value: "c2VjcmV0"},
		{Name: "Cookie", Value: "session=abc"},
		{Name: "X-Long", Value: strings.Repeat("é", 400)},
	}
	show := func(sel HeaderSelection) string {
		kept, dropped := sel.pick(nil, hs)
		var b strings.Builder
		for _, h := range kept {
			fmt.Fprintf(&b, "%s=%s;", h.Name, h.Value)
		}
		return fmt.Sprintf("%s dropped=%d", b.String(), dropped)
	}
	if got := show(NewHeaderSelection(nil)); got != "x-forwarded-for=203.0.113.9; dropped=5" {
		t.Errorf("default: %s", got)
	}
	if got := show(NewHeaderSelection([]string{"AUTHORIZATION", "proxy-authorization", "cookie"})); got != "authorization=Basic <redacted>;proxy-authorization=<redacted>;cookie=<redacted>; dropped=3" {
		t.Errorf("credentials: %s", got)
	}
	if got := show(NewHeaderSelection([]string{})); got != " dropped=6" {
		t.Errorf("none: %s", got)
	}
	star := NewHeaderSelection([]string{"*"})
	all, _ := star.pick(nil, hs)
	if len(all) != 6 || all[0].Name != "host" || len(all[5].Value) > maxHeaderValueLen || !strings.HasPrefix(all[5].Value, "éé") {
		t.Errorf("all: %d %q", len(all), all)
	}
	many := make([]phttp.Header, 40)
	for i := range many {
		many[i] = phttp.Header{Name: "X-A", Value: "v"}
	}
	if kept, dropped := star.pick(nil, many); len(kept) != maxKeptHeaders || dropped != 8 {
		t.Errorf("cap: %d kept, %d dropped", len(kept), dropped)
	}
}

// A name is matched as strings.EqualFold matches it: a configured name
// with a letter that folds to ASCII (the long s, ſ, folds to s) keeps the
// header spelled with that ASCII letter, although the two differ in length.
func TestHeaderSelectionFoldsUnicodeNames(t *testing.T) {
	sel := NewHeaderSelection([]string{"x-ſid", "server"})
	for _, c := range []struct{ header, want string }{
		{"X-SID", "x-ſid"}, {"x-sid", "x-ſid"}, {"SERVER", "server"}, {"Servers", ""}, {"X-SI", ""},
	} {
		if got := sel.name(c.header); got != c.want {
			t.Errorf("name(%q) = %q, want %q", c.header, got, c.want)
		}
	}
	ascii := NewHeaderSelection([]string{"server"})
	if got := ascii.name("Server"); got != "server" || ascii.folds {
		t.Errorf("ASCII selection: name = %q, folds = %v", got, ascii.folds)
	}
}
