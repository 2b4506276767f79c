package kerberos

import "testing"

// Principal's display form tells the components apart whatever they hold:
// two different name lists never show the same. An '@' is escaped only in
// the whole principal (PrincipalAt), where a realm follows.
func TestPrincipalEscapes(t *testing.T) {
	for _, c := range []struct {
		names      []string
		want, full string
	}{
		{[]string{"krbtgt", "CORP.LOCAL"}, "krbtgt/CORP.LOCAL", "krbtgt/CORP.LOCAL@R"},
		{[]string{"krbtgt/CORP.LOCAL"}, `krbtgt\/CORP.LOCAL`, `krbtgt\/CORP.LOCAL@R`},
		{[]string{"robin"}, "robin", "robin@R"},
		{[]string{"robin@EVIL"}, "robin@EVIL", `robin\@EVIL@R`},
		{[]string{`a\`, "b"}, `a\\/b`, `a\\/b@R`},
		{[]string{`a\/b`}, `a\\\/b`, `a\\\/b@R`},
		{nil, "", "@R"},
	} {
		if got := Principal(c.names); got != c.want {
			t.Errorf("Principal(%q) = %q, want %q", c.names, got, c.want)
		}
		if got := PrincipalAt(c.names, "R"); got != c.full {
			t.Errorf("PrincipalAt(%q, R) = %q, want %q", c.names, got, c.full)
		}
	}
	if n := testing.AllocsPerRun(100, func() { Principal([]string{"HTTP", "dc1.corp.local"}) }); n > 1 {
		t.Errorf("%v allocations for a name without escapes", n)
	}
}
