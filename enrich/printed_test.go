package enrich

import (
	"net/netip"
	"testing"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// A worker told the addresses an event's source.ip and destination.ip were
// printed from (AddrsPrinted) enriches it as one that parses them: the
// same direction and intel matches for IPv4, IPv6, IPv4-mapped and
// invalid addresses, and an event whose strings are not those told is
// parsed.
func TestAddrsPrintedAsParsed(t *testing.T) {
	p := writeFile(t, t.TempDir(), "l.txt", "198.51.100.0/24\n2001:db8::/32\n")
	s, err := Open(Config{Intel: []string{p}, HomeNet: []string{"10.0.0.0/8"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	told, parsed := s.NewWorker().(*Worker), s.NewWorker().(*Worker)
	addrs := []netip.Addr{
		netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("198.51.100.7"),
		netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("::ffff:10.1.2.3"),
		netip.MustParseAddr("::ffff:198.51.100.7"), {},
	}
	encode := func(ev *schemas.Event) string {
		b, err := schemas.EncodeWithID(nil, ev)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, a := range addrs {
		for _, b := range addrs {
			src, dst := a.String(), b.String()
			want := flow(src, dst)
			parsed.Enrich(want)
			got := flow(src, dst)
			told.AddrsPrinted(a, b, src, dst)
			told.Enrich(got)
			if g, w := encode(got), encode(want); g != w {
				t.Errorf("%v -> %v told:\n%s\nparsed:\n%s", a, b, g, w)
			}
			// Told of other strings than the event's: the event's are read.
			other := flow(dst, src)
			told.AddrsPrinted(a, b, src, dst)
			told.Enrich(other)
			back := flow(dst, src)
			parsed.Enrich(back)
			if g, w := encode(other), encode(back); g != w {
				t.Errorf("%v -> %v told of %v -> %v:\n%s\nparsed:\n%s", b, a, a, b, g, w)
			}
		}
	}
}
