package dhcp

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/parsers"
)

var mac = [6]byte{0x90, 0xb1, 0x1c, 0x99, 0x49, 0x29}

func discover() []byte {
	return pcapgen.DHCPMessage(1, 0x7c0, mac, netip.Addr{},
		pcapgen.DHCPOption{Code: OptMessageType, Value: []byte{1}},
		pcapgen.DHCPOption{Code: OptRequestedIP, Value: []byte{192, 168, 211, 194}},
		pcapgen.DHCPOption{Code: OptHostname, Value: []byte("btest.is.cool")},
		pcapgen.DHCPOption{Code: OptVendorClass, Value: []byte("MSFT 5.0")},
		pcapgen.DHCPOption{Code: OptParamList, Value: []byte{1, 3, 6, 15, 119, 252}},
	)
}

func TestParseDiscover(t *testing.T) {
	var m Message
	if err := Parse(discover(), &m); err != nil {
		t.Fatal(err)
	}
	if m.Op != 1 || m.XID != 0x7c0 || TypeName(m.Type) != "discover" {
		t.Errorf("op %d xid %#x type %s", m.Op, m.XID, TypeName(m.Type))
	}
	if got := string(AppendMAC(nil, m.CHAddr)); got != "90:b1:1c:99:49:29" {
		t.Errorf("mac %s", got)
	}
	if m.RequestedIP != [4]byte{192, 168, 211, 194} || m.Has&HasRequestedIP == 0 {
		t.Errorf("requested %v", m.RequestedIP)
	}
	if string(m.Hostname) != "btest.is.cool" || string(m.VendorClass) != "MSFT 5.0" {
		t.Errorf("hostname %q vendor %q", m.Hostname, m.VendorClass)
	}
	if got := string(m.AppendFingerprint(nil)); got != "1,3,6,15,119,252" {
		t.Errorf("fingerprint %s", got)
	}
}

func TestParseOfferLease(t *testing.T) {
	b := pcapgen.DHCPMessage(2, 1, mac, netip.MustParseAddr("10.0.0.50"),
		pcapgen.DHCPOption{Code: OptMessageType, Value: []byte{2}},
		pcapgen.DHCPOption{Code: OptServerID, Value: []byte{10, 0, 0, 1}},
		pcapgen.DHCPOption{Code: OptLeaseTime, Value: []byte{0, 1, 0x51, 0x80}},
		pcapgen.DHCPOption{Code: OptRouter, Value: []byte{10, 0, 0, 1, 10, 0, 0, 2}},
		pcapgen.DHCPOption{Code: OptDomain, Value: []byte("corp.example")},
	)
	var m Message
	if err := Parse(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.YIAddr != [4]byte{10, 0, 0, 50} || m.ServerID != [4]byte{10, 0, 0, 1} || m.LeaseTime != 86400 ||
		m.Router != [4]byte{10, 0, 0, 1} || string(m.Domain) != "corp.example" {
		t.Errorf("%+v", m)
	}
}

// With option 52 the options go on in the file field, then in sname
// (RFC 2131 §4.1): options found only there are read.
func TestParseOverload(t *testing.T) {
	b := pcapgen.DHCPOverloaded(1, 9, mac, netip.Addr{},
		[]pcapgen.DHCPOption{{Code: OptMessageType, Value: []byte{3}}},
		[]pcapgen.DHCPOption{{Code: OptHostname, Value: []byte("in-file")}, {Code: OptParamList, Value: []byte{1, 3}}},
		[]pcapgen.DHCPOption{{Code: OptVendorClass, Value: []byte("in-sname")}, {Code: OptHostname, Value: []byte("second")}},
	)
	var m Message
	if err := Parse(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Overload != 3 || string(m.Hostname) != "in-file" || string(m.VendorClass) != "in-sname" || !m.Repeated {
		t.Errorf("overload %d hostname %q vendor %q repeated %v", m.Overload, m.Hostname, m.VendorClass, m.Repeated)
	}
	// Without option 52 the same sname/file bytes are a server name and
	// a boot file, not options.
	b[241], b[242] = 0, 0 // an empty option 52 then a pad: nothing overloaded
	if err := Parse(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Hostname != nil || m.VendorClass != nil {
		t.Errorf("options read from sname/file without overload: %q %q", m.Hostname, m.VendorClass)
	}
}

// Adversarial input: every fault is an error, with what came before kept.
func TestParseHostile(t *testing.T) {
	var m Message
	good := discover()
	for name, tc := range map[string]struct {
		b    []byte
		want error
	}{
		"short":       {good[:239], ErrShort},
		"no cookie":   {append(append([]byte{}, good[:236]...), 0, 0, 0, 0), ErrNoCookie},
		"option cut":  {good[:len(good)-3], ErrTruncated},
		"length only": {append(append([]byte{}, good[:240]...), 53), ErrTruncated},
	} {
		if err := Parse(tc.b, &m); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	// A cut option list keeps the options before the cut.
	_ = Parse(good[:len(good)-3], &m)
	if TypeName(m.Type) != "discover" || string(m.Hostname) != "btest.is.cool" {
		t.Errorf("kept type %d hostname %q", m.Type, m.Hostname)
	}
	// An overload pointing at a file field whose option runs past it.
	b := pcapgen.DHCPOverloaded(1, 9, mac, netip.Addr{}, nil, nil, nil)
	b[108], b[109] = OptHostname, 200
	if err := Parse(b, &m); !errors.Is(err, ErrTruncated) {
		t.Errorf("overlong option in file: %v", err)
	}
	// hlen past 16 is clamped, never read beyond chaddr.
	b = discover()
	b[2] = 255
	if err := Parse(b, &m); err != nil || len(m.CHAddr) != 16 {
		t.Errorf("hlen 255: %v, chaddr %d bytes", err, len(m.CHAddr))
	}
}

func TestSniff(t *testing.T) {
	good := discover()
	for name, tc := range map[string]struct {
		b    []byte
		want parsers.Verdict
	}{
		"discover":  {good, parsers.Yes},
		"short":     {good[:239], parsers.No},
		"bad op":    {append([]byte{3}, good[1:]...), parsers.No},
		"no cookie": {append(append([]byte{}, good[:236]...), 1, 2, 3, 4), parsers.No},
		"dns-ish":   {make([]byte, 300), parsers.No},
	} {
		if got := Sniff(tc.b); got != tc.want {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}
}

func TestTypeName(t *testing.T) {
	if TypeName(5) != "ack" || TypeName(8) != "inform" || TypeName(200) != "200" || TypeName(0) != "0" {
		t.Error(TypeName(5), TypeName(8), TypeName(200), TypeName(0))
	}
}

// Parsing and the fingerprint allocate nothing.
func BenchmarkParse(b *testing.B) {
	msg := discover()
	var m Message
	fp := make([]byte, 0, 64)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Parse(msg, &m); err != nil {
			b.Fatal(err)
		}
		fp = m.AppendFingerprint(fp[:0])
	}
}

func TestParseAllocatesNothing(t *testing.T) {
	msg := discover()
	var m Message
	fp := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { _ = Parse(msg, &m); fp = m.AppendFingerprint(fp[:0]) }); n != 0 {
		t.Errorf("%v allocations per parse", n)
	}
}

// FuzzParse: no panic, slices stay inside the datagram, and Sniff's Yes
// implies the header parses.
func FuzzParse(f *testing.F) {
	f.Add(discover())
	f.Add(pcapgen.DHCPOverloaded(1, 9, mac, netip.Addr{},
		[]pcapgen.DHCPOption{{Code: OptMessageType, Value: []byte{3}}},
		[]pcapgen.DHCPOption{{Code: OptHostname, Value: []byte("x")}}, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Message
		err := Parse(b, &m)
		if Sniff(b) == parsers.Yes && (errors.Is(err, ErrShort) || errors.Is(err, ErrNoCookie)) {
			t.Fatalf("sniffed yes, parse says %v", err)
		}
		for _, s := range [][]byte{m.Hostname, m.Domain, m.VendorClass, m.ClientID, m.ParamList, m.CHAddr} {
			if len(s) > 255 {
				t.Fatalf("option of %d bytes", len(s))
			}
		}
		_ = m.AppendFingerprint(nil)
	})
}
