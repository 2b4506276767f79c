package flow

import (
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// History gives every history's string, cached or not, from several
// workers at once, with histories that share cache slots; a cached one
// costs no allocation.
func TestHistoryCached(t *testing.T) {
	want := func(s tcpState) string {
		var b strings.Builder
		if s.bits&flipped != 0 {
			b.WriteByte('^')
		}
		for i := range s.nhistory {
			l := s.history >> (4 * i) & 0xf
			if l >= 8 {
				b.WriteString(strings.ToLower(string(histLetters[l&7])))
			} else {
				b.WriteByte(histLetters[l])
			}
		}
		return b.String()
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			var f Flow
			for range 20000 {
				n := uint8(r.IntN(maxHistory + 1))
				f.tcp = tcpState{nhistory: n}
				for i := range n {
					f.tcp.history |= uint64(r.IntN(16)) << (4 * i)
				}
				if r.IntN(2) == 0 {
					f.tcp.bits |= flipped
				}
				for range 2 { // a miss, then (usually) a hit
					if got := f.History(); got != want(f.tcp) {
						t.Errorf("History of %+v = %q, want %q", f.tcp, got, want(f.tcp))
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	f := Flow{tcp: tcpState{history: 0xba3290, nhistory: 6}}
	if got := f.History(); got != "ShADad" {
		t.Errorf("History = %q, want ShADad", got)
	}
	if n := testing.AllocsPerRun(100, func() { f.History() }); n != 0 {
		t.Errorf("a cached history costs %v allocations", n)
	}
}

// Every set of TCP flags has its letters, in Zeek's order.
func TestTCPFlagStrings(t *testing.T) {
	for f := range 256 {
		var b strings.Builder
		for i, c := range "FSRPAUEC" {
			if f&(1<<i) != 0 {
				b.WriteRune(c)
			}
		}
		if got := tcpFlagString(uint8(f)); got != b.String() {
			t.Errorf("flags %#x: %q, want %q", f, got, b.String())
		}
	}
}

// Addresses kept from an earlier event give the fields a fresh
// FillNetwork gives, cut from the worker's Texts without allocating;
// after Reverse the flow's new Addrs name the other side first. Each fill
// returns the addresses it printed source.ip and destination.ip from.
func TestFillNetworkFromKeptAddrs(t *testing.T) {
	p := decode.Packet{
		Timestamp: time.Unix(1700000000, 0), Src: netip.MustParseAddr("10.1.0.10"), Dst: netip.MustParseAddr("192.0.2.80"),
		SrcPort: 40000, DstPort: 443, Proto: decode.ProtoTCP, IPVersion: 4, TCPFlags: decode.ACK,
	}
	tab := NewTable(Config{CommunityIDSeed: 3}, func(*Flow) {})
	f, _ := tab.Update(&p)
	var addrs Addrs
	var texts Texts
	var fresh, kept schemas.Event
	FillNetwork(&fresh, f)
	if src, dst := FillNetworkFrom(&kept, f, &addrs, &texts); src != p.Src || dst != p.Dst {
		t.Errorf("printed from %v, %v; want %v, %v", src, dst, p.Src, p.Dst)
	}
	if fresh.Source != kept.Source || fresh.Destination != kept.Destination || fresh.Network != kept.Network ||
		strings.Join(fresh.Related.IP, ",") != strings.Join(kept.Related.IP, ",") {
		t.Errorf("kept addrs: %+v %+v %+v, fresh %+v %+v %+v", kept.Source, kept.Destination, kept.Network, fresh.Source, fresh.Destination, fresh.Network)
	}
	// Two strings of a block in a run of events per allocation at most
	// (a block holds about 36 events' strings).
	if n := testing.AllocsPerRun(100, func() { FillNetworkFrom(&kept, f, &addrs, &texts) }); n > 0.05 {
		t.Errorf("FillNetworkFrom with kept addrs: %v allocations an event", n)
	}
	before := addrs
	f.Reverse()
	for _, c := range []struct {
		name  string
		addrs Addrs
	}{{"new addrs", Addrs{}}, {"addrs kept from before Reverse", before}} {
		var rev schemas.Event
		a := c.addrs
		src, dst := FillNetworkFrom(&rev, f, &a, &texts)
		if rev.Source.IP != "192.0.2.80" || rev.Destination.IP != "10.1.0.10" || rev.Source.Port != 443 ||
			rev.Network.CommunityID != fresh.Network.CommunityID {
			t.Errorf("reversed, %s: source %+v destination %+v community_id %q (before %q)", c.name, rev.Source, rev.Destination, rev.Network.CommunityID, fresh.Network.CommunityID)
		}
		if src.String() != rev.Source.IP || dst.String() != rev.Destination.IP {
			t.Errorf("reversed, %s: printed from %v, %v; fields %q, %q", c.name, src, dst, rev.Source.IP, rev.Destination.IP)
		}
		var ended schemas.Event
		a = c.addrs
		if src2, dst2 := f.FillEventFrom(&ended, nil, &a, &texts); src2 != src || dst2 != dst {
			t.Errorf("reversed, %s: FillEventFrom printed from %v, %v; FillNetworkFrom from %v, %v", c.name, src2, dst2, src, dst)
		}
	}
}

// appendAddrString writes an address as netip.Addr.String does: every
// value of each byte of an IPv4 address (the others random), after text
// already in the buffer, and the addresses it hands to netip (IPv6, an
// IPv4-mapped one, none).
func TestAppendAddrStringAsNetip(t *testing.T) {
	rnd := rand.New(rand.NewPCG(9, 10))
	check := func(a netip.Addr) {
		t.Helper()
		prefix := []byte("x")
		if got := appendAddrString(prefix, a); string(got) != "x"+a.String() {
			t.Fatalf("%v: appendAddrString = %q", a, got)
		}
	}
	for pos := range 4 {
		for v := range 256 {
			var ip [4]byte
			for i := range ip {
				ip[i] = byte(rnd.IntN(256))
			}
			ip[pos] = byte(v)
			check(netip.AddrFrom4(ip))
		}
	}
	for _, s := range []string{"0.0.0.0", "255.255.255.255", "10.0.0.1", "1.10.100.255", "2001:db8::1", "::ffff:192.0.2.1", "::"} {
		check(netip.MustParseAddr(s))
	}
	check(netip.Addr{})
}
