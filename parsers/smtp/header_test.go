package smtp

import "testing"

// A malformed value is read leniently, but its RFC 2231 continuations
// are still joined by their numbers, as the mail client that opens the
// attachment joins them: written out of order, they must not hide the
// name's real extension.
func TestDispositionContinuationOrder(t *testing.T) {
	for _, c := range []struct{ v, want string }{
		{`attachment; filename*1="exe"; junk; filename*0="evil."`, "evil.exe"},
		{`attachment; filename*0="a"; junk; filename*2="c"; filename*1="b"`, "abc"},
		{`attachment; filename*1="exe"; filename*0="evil."`, "evil.exe"}, // well formed
	} {
		if _, got := disposition([]byte(c.v)); got != c.want {
			t.Errorf("%s: %q, want %q", c.v, got, c.want)
		}
	}
}
