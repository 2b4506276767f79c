package dhcp

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

var (
	duid6 = pcapgen.DUIDLLT(mac, 0x2a3b4c5d)
	addr6 = netip.MustParseAddr("2001:db8:0:1::1a")
	pfx6  = netip.MustParsePrefix("2001:db8:ff00::/56")
)

func reply6() []byte {
	return pcapgen.DHCP6Message(V6Reply, 0xa1b2c3,
		pcapgen.DHCP6Option{Code: Opt6ClientID, Value: duid6},
		pcapgen.DHCP6Option{Code: Opt6ServerID, Value: pcapgen.DUIDEN(9, []byte{1, 2, 3, 4})},
		pcapgen.IANA(Opt6IANA, 0x0e000c29, 1800, 2880, pcapgen.IAAddr6(addr6, 3600, 7200)),
		pcapgen.IANA(Opt6IAPD, 7, 900, 1400, pcapgen.IAPrefix6(pfx6, 1800, 3600)),
		pcapgen.ClientFQDN6(1, "ws42.corp.example"),
		pcapgen.VendorClass6(311, "MSFT 5.0"),
		pcapgen.DHCP6Option{Code: Opt6ORO, Value: []byte{0, 23, 0, 24, 0, 39}},
	)
}

func TestParse6Reply(t *testing.T) {
	var m Message6
	if err := Parse6(reply6(), &m); err != nil {
		t.Fatal(err)
	}
	if TypeName6(m.Type) != "reply" || m.XID != 0xa1b2c3 || m.Relay != 0 {
		t.Errorf("type %s xid %#x relay %d", TypeName6(m.Type), m.XID, m.Relay)
	}
	if got := string(AppendMAC(nil, DUIDMAC(m.ClientID))); got != "90:b1:1c:99:49:29" || DUIDType(m.ClientID) != "llt" {
		t.Errorf("client mac %q type %s", got, DUIDType(m.ClientID))
	}
	if DUIDType(m.ServerID) != "en" || DUIDMAC(m.ServerID) != nil {
		t.Errorf("server duid %x", m.ServerID)
	}
	if m.IAKind != Opt6IANA || m.IAID != 0x0e000c29 || m.T1 != 1800 || m.T2 != 2880 {
		t.Errorf("ia %d %#x %d %d", m.IAKind, m.IAID, m.T1, m.T2)
	}
	if a := m.IAAddrs(); len(a) != 1 || netip.AddrFrom16(a[0].Addr) != addr6 || a[0].Preferred != 3600 || a[0].Valid != 7200 {
		t.Errorf("addresses %+v", a)
	}
	if m.NPrefixes != 1 || netip.PrefixFrom(netip.AddrFrom16(m.Prefix.Addr), int(m.Prefix.PrefixLen)) != pfx6 || m.Prefix.Valid != 3600 {
		t.Errorf("prefix %+v", m.Prefix)
	}
	if fqdn, err := m.AppendFQDN(nil); err != nil || string(fqdn) != "ws42.corp.example" || m.FQDNFlags != 1 {
		t.Errorf("fqdn %q %v flags %d", fqdn, err, m.FQDNFlags)
	}
	if string(m.VendorClass) != "MSFT 5.0" || m.VendorEnterprise != 311 {
		t.Errorf("vendor %d %q", m.VendorEnterprise, m.VendorClass)
	}
	if fp := string(m.AppendFingerprint(nil)); fp != "23,24,39" {
		t.Errorf("fingerprint %q", fp)
	}
	if !Sniff6(reply6()) {
		t.Error("reply not sniffed")
	}
}

// Relay messages are unwrapped to the message they carry; the innermost
// relay's link and peer addresses are kept.
func TestParse6Relay(t *testing.T) {
	link, peer := netip.MustParseAddr("2001:db8:0:1::"), netip.MustParseAddr("fe80::9ab1:1cff:fe99:4929")
	sol := pcapgen.DHCP6Message(V6Solicit, 0x10203, pcapgen.DHCP6Option{Code: Opt6ClientID, Value: pcapgen.DUIDLL(mac)})
	inner := pcapgen.DHCP6Relay(V6RelayForw, 0, link, peer, sol)
	outer := pcapgen.DHCP6Relay(V6RelayForw, 1, netip.IPv6Unspecified(), link, inner)
	var m Message6
	if err := Parse6(outer, &m); err != nil {
		t.Fatal(err)
	}
	if m.Type != V6Solicit || m.Relay != V6RelayForw || m.Hops != 2 || m.XID != 0x10203 {
		t.Errorf("type %d relay %d hops %d xid %#x", m.Type, m.Relay, m.Hops, m.XID)
	}
	if netip.AddrFrom16(m.LinkAddr) != link || netip.AddrFrom16(m.PeerAddr) != peer {
		t.Errorf("link %v peer %v", netip.AddrFrom16(m.LinkAddr), netip.AddrFrom16(m.PeerAddr))
	}
	if string(AppendMAC(nil, DUIDMAC(m.ClientID))) != "90:b1:1c:99:49:29" || DUIDType(m.ClientID) != "ll" {
		t.Errorf("client duid %x", m.ClientID)
	}
	if !Sniff6(outer) {
		t.Error("relay not sniffed")
	}
}

// Adversarial input: every fault is an error, what came before is kept,
// and Sniff6 says no.
func TestParse6Hostile(t *testing.T) {
	good := reply6()
	deep := pcapgen.DHCP6Message(V6Solicit, 1, pcapgen.DHCP6Option{Code: Opt6ClientID, Value: duid6})
	for range MaxRelayHops + 1 {
		deep = pcapgen.DHCP6Relay(V6RelayForw, 0, addr6, addr6, deep)
	}
	noRelayed := []byte{V6RelayForw, 0}
	noRelayed = append(noRelayed, make([]byte, 32)...)
	for name, tc := range map[string]struct {
		b    []byte
		want error
	}{
		"short":          {good[:3], ErrShort6},
		"type 0":         {append([]byte{0}, good[1:]...), ErrType6},
		"type 14":        {append([]byte{14}, good[1:]...), ErrType6},
		"option cut":     {good[:len(good)-3], ErrOption6},
		"relay short":    {noRelayed[:33], ErrShort6},
		"relay no msg":   {noRelayed, ErrNoRelayedMsg},
		"relay too deep": {deep, ErrRelayDepth},
	} {
		var m Message6
		if err := Parse6(tc.b, &m); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
		if Sniff6(tc.b) {
			t.Errorf("%s: sniffed", name)
		}
	}
	var m Message6
	_ = Parse6(good[:len(good)-3], &m)
	if m.Type != V6Reply || DUIDType(m.ClientID) != "llt" || m.NAddrs != 1 {
		t.Errorf("kept type %d client %x addrs %d", m.Type, m.ClientID, m.NAddrs)
	}
	// An IA address shorter than its fixed part, an FQDN label past the end.
	bad := pcapgen.DHCP6Message(V6Reply, 1, pcapgen.IANA(Opt6IANA, 1, 0, 0, pcapgen.DHCP6Option{Code: Opt6IAAddr, Value: make([]byte, 20)}))
	if err := Parse6(bad, &m); !errors.Is(err, ErrOption6) {
		t.Errorf("short IA address: %v", err)
	}
	m.FQDN = []byte{9, 'a'}
	if _, err := m.AppendFQDN(nil); !errors.Is(err, ErrFQDN) {
		t.Errorf("long label: %v", err)
	}
	// Well-formed options but no DUID: not DHCPv6 enough to say yes.
	if Sniff6(pcapgen.DHCP6Message(V6Solicit, 1, pcapgen.DHCP6Option{Code: 8, Value: []byte{0, 0}})) {
		t.Error("sniffed without a DUID")
	}
	// Other protocols' datagrams.
	for name, b := range map[string][]byte{
		"dns query": {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w', 'w', 'w', 0, 0, 1, 0, 1},
		"dhcpv4":    discover(),
		"zeros":     make([]byte, 64),
	} {
		if Sniff6(b) {
			t.Errorf("%s sniffed as DHCPv6", name)
		}
	}
}

func BenchmarkParse6(b *testing.B) {
	msg := reply6()
	var m Message6
	buf := make([]byte, 0, 256)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Parse6(msg, &m); err != nil {
			b.Fatal(err)
		}
		buf, _ = m.AppendFQDN(buf[:0])
		buf = m.AppendFingerprint(buf)
	}
}

func TestParse6AllocatesNothing(t *testing.T) {
	msg := reply6()
	var m Message6
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { _ = Parse6(msg, &m); buf, _ = m.AppendFQDN(buf[:0]) }); n != 0 {
		t.Errorf("%v allocations per parse", n)
	}
}

// FuzzParse6: no panic, kept slices within bounds, Sniff6 implies a clean
// parse.
func FuzzParse6(f *testing.F) {
	f.Add(reply6())
	f.Add(pcapgen.DHCP6Relay(V6RelayRepl, 0, addr6, addr6, reply6()))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Message6
		err := Parse6(b, &m)
		if Sniff6(b) && err != nil {
			t.Fatalf("sniffed yes, parse says %v", err)
		}
		if m.NAddrs > 0 && len(m.IAAddrs()) > MaxIAAddrs || m.Hops > MaxRelayHops {
			t.Fatalf("%d addresses kept, %d hops", len(m.IAAddrs()), m.Hops)
		}
		_, _ = m.AppendFQDN(nil)
		_ = m.AppendFingerprint(nil)
		_ = DUIDMAC(m.ClientID)
	})
}
