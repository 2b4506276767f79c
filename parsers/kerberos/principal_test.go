package kerberos

import "testing"

// Principal's display form tells the components apart whatever they hold:
// two different name lists never show the same.
func TestPrincipalEscapes(t *testing.T) {
	for _, c := range []struct {
		names []string
		want  string
	}{
		{[]string{"krbtgt", "CORP.LOCAL"}, "krbtgt/CORP.LOCAL"},
		{[]string{"krbtgt/CORP.LOCAL"}, `krbtgt\/CORP.LOCAL`},
		{[]string{"robin"}, "robin"},
		{[]string{"robin@EVIL"}, `robin\@EVIL`},
		{[]string{`a\`, "b"}, `a\\/b`},
		{[]string{`a\/b`}, `a\\\/b`},
		{nil, ""},
	} {
		if got := Principal(c.names); got != c.want {
			t.Errorf("Principal(%q) = %q, want %q", c.names, got, c.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { Principal([]string{"HTTP", "dc1.corp.local"}) }); n > 1 {
		t.Errorf("%v allocations for a name without escapes", n)
	}
}
