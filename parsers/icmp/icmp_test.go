package icmp

import (
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"testing"
)

// random returns n bytes that look random (SHA-256 blocks).
func random(n int) []byte {
	var out []byte
	for i := 0; len(out) < n; i++ {
		s := sha256.Sum256(binary.BigEndian.AppendUint32(nil, uint32(i)))
		out = append(out, s[:]...)
	}
	return out[:n]
}

func TestRandomness(t *testing.T) {
	linuxPing := make([]byte, 1000) // ping -s 1000: 0x08, 0x09, … after the timestamp
	for i := range linuxPing {
		linuxPing[i] = byte(i + 8)
	}
	windowsPing := []byte("abcdefghijklmnopqrstuvwabcdefghi")
	zeros := make([]byte, 1400)
	for _, c := range []struct {
		name     string
		b        []byte
		min, max float64
	}{
		{"linux pattern", linuxPing, 0, 0.5},
		{"windows pattern", windowsPing, 0, 1.5},
		{"zeros", zeros, 0, 0},
		{"random 1000", random(1000), 7.5, 8},
		{"random 256", random(256), 6.8, 8},
		{"random 64", random(64), 5, 6},
		{"text", []byte("the quick brown fox jumps over the lazy dog and keeps running through the night until dawn"), 3.5, 5},
		{"one byte", []byte{7}, 0, 0},
	} {
		if r := Randomness(c.b); r < c.min || r > c.max {
			t.Errorf("%s: %.2f, want %.1f..%.1f", c.name, r, c.min, c.max)
		}
	}
	if n := testing.AllocsPerRun(10, func() { Randomness(linuxPing) }); n != 0 {
		t.Errorf("%v allocs", n)
	}
}

func TestNames(t *testing.T) {
	for _, c := range []struct {
		v6              bool
		typ, code       uint8
		typName, coName string
	}{
		{false, 3, 3, "destination_unreachable", "port_unreachable"},
		{false, 3, 13, "destination_unreachable", "communication_administratively_prohibited"},
		{false, 3, 99, "destination_unreachable", "code_99"},
		{false, 11, 0, "time_exceeded", "ttl_exceeded_in_transit"},
		{false, 8, 0, "echo_request", ""},
		{false, 8, 5, "echo_request", "code_5"},
		{false, 77, 0, "type_77", ""},
		{true, 1, 4, "destination_unreachable", "port_unreachable"},
		{true, 2, 0, "packet_too_big", ""},
		{true, 135, 0, "neighbor_solicitation", ""},
		{true, 3, 1, "time_exceeded", "fragment_reassembly_time_exceeded"},
	} {
		if a, b := TypeName(c.v6, c.typ), CodeName(c.v6, c.typ, c.code); a != c.typName || b != c.coName {
			t.Errorf("%v %d/%d: %s %s", c.v6, c.typ, c.code, a, b)
		}
	}
}

// quote4 is an error body (4 unused bytes) quoting an IPv4 header with
// ihl words and the first bytes of its transport.
func quote4(ihl int, proto byte, frag uint16, transport []byte) []byte {
	ip := make([]byte, ihl*4)
	ip[0] = 0x40 | byte(ihl)
	binary.BigEndian.PutUint16(ip[6:], frag)
	ip[9] = proto
	copy(ip[12:], []byte{10, 0, 0, 1})
	copy(ip[16:], []byte{192, 0, 2, 9})
	return append(append(make([]byte, 4), ip...), transport...)
}

func TestParseQuoted(t *testing.T) {
	ports := []byte{0xd4, 0x31, 0, 53, 0, 9, 0, 0}
	q, ok := ParseQuoted(false, quote4(5, 17, 0, ports))
	want := Quoted{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("192.0.2.9"), Proto: 17, SrcPort: 54321, DstPort: 53}
	if !ok || q != want {
		t.Errorf("udp: %v %+v", ok, q)
	}
	// IP options are skipped; a quoted echo gives its type and code.
	if q, ok := ParseQuoted(false, quote4(7, 1, 0, []byte{8, 0, 1, 2})); !ok || q.Proto != 1 || q.SrcPort != 8 || q.DstPort != 0 {
		t.Errorf("options+icmp: %v %+v", ok, q)
	}
	for name, b := range map[string][]byte{
		"later fragment":   quote4(5, 17, 100, ports),
		"ports cut":        quote4(5, 6, 0, ports[:3]),
		"ihl too small":    quote4(5, 17, 0, ports)[:4+4],
		"not ipv4":         append(make([]byte, 4), make([]byte, 28)...),
		"no quote":         {0, 0},
		"ipv6 in icmpv4":   append(make([]byte, 4), append([]byte{0x60}, make([]byte, 47)...)...),
		"ihl beyond quote": quote4(15, 17, 0, nil)[:4+40],
	} {
		if _, ok := ParseQuoted(false, b); ok {
			t.Errorf("%s: read", name)
		}
	}
	// IPv6 with a hop-by-hop header and a first fragment header before TCP.
	ip6 := make([]byte, 40)
	ip6[0], ip6[6] = 0x60, 0
	copy(ip6[8:], netip.MustParseAddr("2001:db8::1").AsSlice())
	copy(ip6[24:], netip.MustParseAddr("2001:db8::2").AsSlice())
	hbh := []byte{44, 0, 1, 4, 0, 0, 0, 0}
	frag := []byte{6, 0, 0, 1, 0, 0, 0, 7}
	body := append(append(append(append(make([]byte, 4), ip6...), hbh...), frag...), 0x01, 0xbb, 0xc3, 0x50)
	q, ok = ParseQuoted(true, body)
	if !ok || q.Proto != 6 || q.SrcPort != 443 || q.DstPort != 50000 || q.Dst != netip.MustParseAddr("2001:db8::2") {
		t.Errorf("v6: %v %+v", ok, q)
	}
	frag[3] = 0x10 // a later fragment: no ports
	if _, ok := ParseQuoted(true, append(append(append(append(make([]byte, 4), ip6...), hbh...), frag...), 1, 2, 3, 4)); ok {
		t.Error("v6 later fragment read")
	}
}

func FuzzQuoted(f *testing.F) {
	f.Add(false, quote4(5, 17, 0, []byte{1, 2, 3, 4}))
	f.Add(true, append(make([]byte, 4), append([]byte{0x60, 0, 0, 0, 0, 8, 0, 64}, make([]byte, 40)...)...))
	f.Fuzz(func(t *testing.T, v6 bool, b []byte) {
		if q, ok := ParseQuoted(v6, b); ok && (q.Src.Is4() == v6 || !q.Dst.IsValid()) {
			t.Fatalf("%+v", q)
		}
		if r := Randomness(b); r < 0 || r > 8.0001 {
			t.Fatalf("randomness %v", r)
		}
		_ = EchoPayload(b)
	})
}

func BenchmarkEcho(b *testing.B) {
	body := append([]byte{0, 1, 0, 1}, random(1400)...)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		Randomness(EchoPayload(body))
	}
}

func BenchmarkQuoted(b *testing.B) {
	body := quote4(5, 17, 0, []byte{0xd4, 0x31, 0, 53, 0, 9, 0, 0})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		ParseQuoted(false, body)
	}
}
