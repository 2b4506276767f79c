package rules

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

// dottedQuad accepts only what netip.ParseAddr reads as the same IPv4
// address: every string of a dotted-quad alphabet up to 16 bytes long,
// tried at random, and the edges written out.
func TestDottedQuadAsNetip(t *testing.T) {
	check := func(s string) {
		v, ok := dottedQuad(s)
		a, err := netip.ParseAddr(s)
		if !ok {
			if err == nil && a.Is4() && a.String() == s {
				t.Fatalf("%q: refused a canonical address", s)
			}
			return
		}
		if err != nil || !a.Is4() || a.As4() != [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} {
			t.Fatalf("%q: dottedQuad %#x, netip %v %v", s, v, a, err)
		}
	}
	for _, s := range []string{"0.0.0.0", "255.255.255.255", "256.0.0.1", "1.2.3", "1.2.3.4.5", "01.2.3.4",
		"1.2.3.04", "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4 ", "1.2.3.-4", "1000.2.3.4", "1.2.3.4%eth0",
		"::ffff:1.2.3.4", "10.0.0.1", "1.2.3.0400", "192.168.100.200"} {
		check(s)
	}
	rnd := rand.New(rand.NewPCG(4, 4))
	const alphabet = "0123456789.....:/a "
	for range 500000 {
		b := make([]byte, 1+rnd.IntN(16))
		for i := range b {
			b[i] = alphabet[rnd.IntN(len(alphabet))]
		}
		check(string(b))
		check(fmt.Sprintf("%d.%d.%d.%d", rnd.IntN(300), rnd.IntN(300), rnd.IntN(300), rnd.IntN(300)))
	}
}

// With its fast paths (a dotted quad read by hand, an address parsed
// once, IPv4 as a number), a prefix set answers as netip does, for sets of
// IPv4 and IPv6 addresses and prefixes (/0 and /32 too) and addresses of
// both families, mapped ones included.
func TestPrefixSetFastPathAgrees(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 1))
	v4 := func() string {
		return fmt.Sprintf("%d.%d.%d.%d", 10+rnd.IntN(3), rnd.IntN(3), rnd.IntN(256), rnd.IntN(256))
	}
	for round := range 200 {
		p := &prefixSet{}
		for range 1 + rnd.IntN(6) {
			var item string
			switch rnd.IntN(6) {
			case 0:
				item = v4()
			case 1:
				item = fmt.Sprintf("%s/%d", v4(), rnd.IntN(33))
			case 2:
				item = "::ffff:" + v4()
			case 3:
				item = fmt.Sprintf("2001:db8::%x/%d", rnd.IntN(65536), 96+rnd.IntN(33))
			case 4:
				item = fmt.Sprintf("::ffff:%s/%d", v4(), 96+rnd.IntN(33))
			case 5:
				item = "0.0.0.0/0"
			}
			if err := p.add(item); err != nil {
				t.Fatal(item, err)
			}
		}
		for range 2000 {
			s := v4()
			switch rnd.IntN(4) {
			case 0:
				s = "::ffff:" + s
			case 1:
				s = fmt.Sprintf("2001:db8::%x", rnd.IntN(65536))
			}
			want := netipMatch(p, s)
			if got := p.match(s); got != want {
				t.Fatalf("round %d: match(%q) = %v, netip says %v (set %+v)", round, s, got, want, p)
			}
			a, _ := netip.ParseAddr(s)
			if got := p.matchAddr(a); got != want {
				t.Fatalf("round %d: matchAddr(%q) = %v, netip says %v (set %+v)", round, s, got, want, p)
			}
		}
	}
}

// netipMatch is prefixSet.match by netip alone (its items unmapped, as
// add keeps them), without the IPv4 fast paths.
func netipMatch(p *prefixSet, s string) bool {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return false
	}
	a = a.Unmap()
	_, isItem := p.addrs[a]
	return isItem || slices.ContainsFunc(p.prefixes, func(pfx netip.Prefix) bool { return pfx.Contains(a) })
}

func FuzzDottedQuad(f *testing.F) {
	for _, s := range []string{"10.0.0.1", "255.255.255.255", "01.2.3.4", "1.2.3.4.5", "::ffff:1.2.3.4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := dottedQuad(s)
		if !ok {
			return
		}
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() || a.As4() != [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} {
			t.Fatalf("%q: dottedQuad %#x, netip %v %v", s, v, a, err)
		}
	})
}
