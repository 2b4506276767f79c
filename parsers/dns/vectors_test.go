package dns

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// hx decodes a hex dump written as space-separated bytes on several lines.
func hx(lines ...string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(strings.Join(lines, " ")), ""))
	if err != nil {
		panic(err)
	}
	return b
}

// vecCompression is a response with a CNAME and an A record, both owner
// names and the CNAME target compressed.
var vecCompression = hx(
	"be ef 81 80 00 01 00 02 00 00 00 00", // 0: ID 0xbeef, QR RD RA, QD 1 AN 2 NS 0 AR 0
	// 12: www.example.com (12 "www", 16 "example", 24 "com", 28 root)
	"03 77 77 77 07 65 78 61 6d 70 6c 65 03 63 6f 6d 00",
	"00 01 00 01", // 29: type A, class IN
	// 33: answer 1
	"c0 0c",             // name -> 12 www.example.com
	"00 05 00 01",       // CNAME IN
	"00 00 0e 10",       // TTL 3600
	"00 06",             // rdlength 6
	"03 77 65 62 c0 10", // 45: "web" then pointer -> 16 example.com
	// 51: answer 2
	"c0 2d",             // name -> 45 web.example.com
	"00 01 00 01",       // A IN
	"00 00 00 3c",       // TTL 60
	"00 04 c0 00 02 01", // 192.0.2.1
)

func TestCompression(t *testing.T) {
	var m Message
	if err := Parse(vecCompression, &m); err != nil {
		t.Fatal(err)
	}
	if m.ID != 0xbeef || !m.Response || m.Opcode != 0 || !m.RecursionDesired || !m.RecursionAvailable || m.Authoritative || m.Truncated {
		t.Errorf("header: %+v", m)
	}
	if got := m.HeaderFlags(); !reflect.DeepEqual(got, []string{"RD", "RA"}) {
		t.Errorf("HeaderFlags = %v", got)
	}
	if len(m.Questions) != 1 || m.Questions[0].Name != "www.example.com" || m.Questions[0].Type != TypeA || m.Questions[0].Class != 1 {
		t.Errorf("questions: %+v", m.Questions)
	}
	want := []struct {
		name, typ, data, target string
		ttl                     uint32
	}{
		{"www.example.com", "CNAME", "web.example.com", "web.example.com", 3600},
		{"web.example.com", "A", "192.0.2.1", "", 60},
	}
	if len(m.Answers) != len(want) {
		t.Fatalf("%d answers", len(m.Answers))
	}
	for i, w := range want {
		rr := m.Answers[i]
		if rr.Name != w.name || TypeName(rr.Type) != w.typ || rr.Data != w.data || rr.Target != w.target || rr.TTL != w.ttl || rr.Class != 1 {
			t.Errorf("answer %d = %+v, want %+v", i, rr, w)
		}
	}
	// Every strict prefix is a short read, never a panic.
	for n := 0; n < len(vecCompression); n++ {
		err := Parse(vecCompression[:n], &m)
		if !errors.Is(err, ErrTruncated) {
			t.Errorf("prefix %d: err %v, want ErrTruncated", n, err)
		}
	}
}

// pointerChain builds a message whose second answer's owner is a chain of n
// pointers, each two bytes before the previous, ending at the question name.
func pointerChain(n int) []byte {
	b := hx("00 02 81 80 00 01 00 02 00 00 00 00",
		"01 61 00 ff 00 00 01") // 12: "a", type 0xff00 class IN
	b = append(b, 0xc0, 0x0c, 0xff, 0x00, 0x00, 0x01, 0, 0, 0, 0) // 19: answer 1 (opaque type)
	b = binary.BigEndian.AppendUint16(b, uint16(2*n))
	prev := 12
	for i := 0; i < n; i++ { // rdata: pointer i at len(b) -> prev
		at := len(b)
		b = binary.BigEndian.AppendUint16(b, 0xc000|uint16(prev))
		prev = at
	}
	b = binary.BigEndian.AppendUint16(b, 0xc000|uint16(prev)) // answer 2 owner
	return append(b, 0xff, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0)
}

func TestPointerChainCap(t *testing.T) {
	var m Message
	if err := Parse(pointerChain(10), &m); err != nil {
		t.Fatal(err)
	}
	if m.Answers[1].Name != "a" {
		t.Errorf("chained name = %q", m.Answers[1].Name)
	}
	// The owner pointer plus MaxPointers in the chain is one too many.
	err := Parse(pointerChain(MaxPointers), &m)
	if !errors.Is(err, ErrPointerLoop) {
		t.Errorf("long chain: err = %v", err)
	}
	if err := Parse(pointerChain(MaxPointers-1), &m); err != nil {
		t.Errorf("chain at the cap: %v", err)
	}
}

func TestLabelAndNameLimits(t *testing.T) {
	hdr := "00 03 00 00 00 01 00 00 00 00 00 00"
	// 12: length byte 0x40 = 64: prefix bits 01, longer than 63
	long := hx(hdr, "40", strings.Repeat("61 ", 64), "00 00 01 00 01")
	var m Message
	if err := Parse(long, &m); !errors.Is(err, ErrLabelTooLong) {
		t.Errorf("64-byte label: %v", err)
	}
	// 0x80 prefix is reserved
	if err := Parse(hx(hdr, "80 00 00 01 00 01"), &m); !errors.Is(err, ErrBadLabel) {
		t.Errorf("0x80 label: %v", err)
	}
	label := func(n int) string { return "3f " + strings.Repeat("61 ", 63)[:3*63] }
	// labels 63+63+63+61 -> 3*64 + 62 + root = 255 bytes: the longest name
	name255 := label(63) + label(63) + label(63) + "3d " + strings.Repeat("62 ", 61) + "00"
	if err := Parse(hx(hdr, name255, "00 01 00 01"), &m); err != nil {
		t.Fatalf("255-byte name: %v", err)
	}
	if n := m.Questions[0].Name; len(n) != 253 || !strings.HasSuffix(n, "a."+strings.Repeat("b", 61)) {
		t.Errorf("255-byte name decoded as %d chars", len(n))
	}
	// one more byte in the last label: 256
	name256 := label(63) + label(63) + label(63) + "3e " + strings.Repeat("62 ", 62) + "00"
	if err := Parse(hx(hdr, name256, "00 01 00 01"), &m); !errors.Is(err, ErrNameTooLong) {
		t.Errorf("256-byte name: %v", err)
	}
}

func TestTruncated(t *testing.T) {
	var m Message
	// 11 bytes: not even a header
	err := Parse(hx("00 04 81 80 00 01 00 01 00 00 00"), &m)
	var pe *Error
	if !errors.Is(err, ErrTruncated) || !errors.As(err, &pe) || pe.Section != "header" {
		t.Errorf("short header: %v", err)
	}
	// The answer claims 8 bytes of rdata and the message holds 4.
	msg := hx("00 04 81 80 00 01 00 01 00 00 00 00",
		"01 61 00 00 01 00 01",                // 12: "a" A IN
		"c0 0c 00 01 00 01 00 00 00 3c 00 08", // 19: a A IN TTL 60 rdlength 8
		"c0 00 02 01")
	err = Parse(msg, &m)
	if !errors.Is(err, ErrTruncated) || !errors.As(err, &pe) || pe.Section != "answer" || pe.Offset != 19 {
		t.Errorf("short rdata: %v", err)
	}
	if len(m.Questions) != 1 || m.Questions[0].Name != "a" || m.ID != 4 {
		t.Errorf("decoded part not kept: %+v", m)
	}
	if !strings.Contains(err.Error(), "answer at offset 19") {
		t.Errorf("message %q", err)
	}
}

// vecECS is a query carrying an OPT record with DO and Client Subnet.
var vecECS = hx(
	"12 34 01 20 00 01 00 00 00 00 00 01",    // ID 0x1234, RD AD, QD 1 AR 1
	"07 65 78 61 6d 70 6c 65 03 63 6f 6d 00", // 12: example.com
	"00 01 00 01",                            // 25: A IN
	// 29: OPT pseudo-record
	"00",          // owner: root
	"00 29",       // type OPT
	"10 00",       // class = UDP payload size 4096
	"00 00 80 00", // ext-rcode 0, version 0, DO=1, Z 0
	"00 0f",       // rdlength 15
	"00 08 00 07", // option 8 (Client Subnet), length 7
	"00 01 18 00", // family 1 (IPv4), source /24, scope /0
	"c6 33 64",    // 198.51.100
	"00 0a 00 00", // option 10 (cookie), empty
)

func TestEDNSClientSubnet(t *testing.T) {
	var m Message
	if err := Parse(vecECS, &m); err != nil {
		t.Fatal(err)
	}
	e := m.EDNS
	if !e.Present || e.UDPSize != 4096 || !e.DO || e.Version != 0 || e.ExtRCode != 0 || e.BadOptions {
		t.Errorf("EDNS = %+v", e)
	}
	if !e.HasECS || e.ECS.Family != 1 || e.ECS.SourcePrefix != 24 || e.ECS.ScopePrefix != 0 || e.ECS.Address != netip.MustParseAddr("198.51.100.0") {
		t.Errorf("ECS = %+v", e.ECS)
	}
	if !reflect.DeepEqual(e.Options, []uint16{8, 10}) {
		t.Errorf("options %v", e.Options)
	}
	if len(m.Additionals) != 0 || m.ARCount != 1 {
		t.Errorf("OPT listed as a record: %+v", m.Additionals)
	}
	if got := m.HeaderFlags(); !reflect.DeepEqual(got, []string{"RD", "AD", "DO"}) {
		t.Errorf("HeaderFlags = %v", got)
	}

	// A response with ext-rcode 1 and header rcode 0 is BADVERS (16).
	resp := append([]byte(nil), vecECS...)
	resp[2] |= 0x80
	resp[34] = 1 // 29 owner, 30 type, 32 class, 34 TTL: ext-rcode
	if err := Parse(resp, &m); err != nil {
		t.Fatal(err)
	}
	if m.RCode != 16 || RCodeName(m.RCode) != "BADVERS" {
		t.Errorf("extended rcode %d %s", m.RCode, RCodeName(m.RCode))
	}

	// ECS for IPv6 whose address holds more bytes than the prefix allows.
	bad := append([]byte(nil), vecECS[:34]...) // through the OPT class
	// TTL, rdlength 10; ECS family 2, source /8, scope 0 with 2 address bytes
	bad = append(bad, hx("00 00 00 00 00 0a", "00 08 00 06 00 02 08 00 20 01")...)
	if err := Parse(bad, &m); err != nil {
		t.Fatal(err)
	}
	if !m.EDNS.HasECS || m.EDNS.ECS.Address.IsValid() || !m.EDNS.BadOptions || m.EDNS.ECS.Family != 2 {
		t.Errorf("bad ECS = %+v", m.EDNS)
	}
}

// vecHTTPS is an HTTPS (type 65) answer in ServiceMode with alpn and hints.
var vecHTTPS = hx(
	"ab cd 81 80 00 01 00 01 00 00 00 00",
	"0a 63 6c 6f 75 64 66 6c 61 72 65 03 63 6f 6d 00", // 12: cloudflare.com
	"00 41 00 01",                         // 28: HTTPS IN
	"c0 0c 00 41 00 01 00 00 01 2c",       // 32: name -> 12, HTTPS IN, TTL 300
	"00 2d",                               // rdlength 45
	"00 01",                               // SvcPriority 1
	"00",                                  // TargetName "." (the owner)
	"00 01 00 06 02 68 33 02 68 32",       // alpn: "h3" "h2"
	"00 04 00 08 68 10 84 e5 68 10 85 e5", // ipv4hint 104.16.132.229, 104.16.133.229
	"00 06 00 10 26 06 47 00 00 00 00 00 00 00 00 00 68 10 84 e5", // ipv6hint 2606:4700::6810:84e5
)

func TestHTTPS(t *testing.T) {
	var m Message
	if err := Parse(vecHTTPS, &m); err != nil {
		t.Fatal(err)
	}
	rr := m.Answers[0]
	want := "1 . alpn=h3,h2 ipv4hint=104.16.132.229,104.16.133.229 ipv6hint=2606:4700::6810:84e5"
	if rr.Type != TypeHTTPS || rr.Data != want || rr.Target != "." || m.BadRData != 0 {
		t.Errorf("HTTPS = %q target %q bad %d", rr.Data, rr.Target, m.BadRData)
	}
}

// vecSOA is an NXDOMAIN with the zone's SOA in the authority section.
var vecSOA = hx(
	"00 07 81 83 00 01 00 00 00 01 00 00",    // QR RD RA rcode 3, QD 1 NS 1
	"03 6e 6f 6e 07 65 78 61 6d 70 6c 65 00", // 12: non.example (16 "example")
	"00 01 00 01",                            // 25: A IN
	"c0 10 00 06 00 01 00 00 0e 10",          // 29: example SOA IN TTL 3600
	"00 20",                                  // rdlength 32
	"02 6e 73 c0 10",                         // mname ns.example
	"04 72 6f 6f 74 c0 10",                   // rname root.example
	"00 00 07 e9",                            // serial 2025
	"00 00 1c 20",                            // refresh 7200
	"00 00 0e 10",                            // retry 3600
	"00 12 75 00",                            // expire 1209600
	"00 00 01 2c",                            // minimum 300
)

func TestSOA(t *testing.T) {
	var m Message
	if err := Parse(vecSOA, &m); err != nil {
		t.Fatal(err)
	}
	if m.RCode != 3 || RCodeName(m.RCode) != "NXDOMAIN" || len(m.Authorities) != 1 {
		t.Fatalf("rcode %d, %d authorities", m.RCode, len(m.Authorities))
	}
	rr := m.Authorities[0]
	if rr.Name != "example" || rr.Data != "ns.example root.example 2025 7200 3600 1209600 300" || rr.Target != "ns.example" {
		t.Errorf("SOA = %+v", rr)
	}
}

// vecTXT is a TXT answer with three character-strings, one holding a
// control byte and a backslash.
var vecTXT = hx(
	"00 08 81 80 00 01 00 01 00 00 00 00",
	"01 74 00 00 10 00 01",          // 12: "t" TXT IN
	"c0 0c 00 10 00 01 00 00 00 3c", // 19: t TXT IN TTL 60
	"00 11",                         // rdlength 17
	"07 76 3d 73 70 66 31 20",       // "v=spf1 "
	"04 2d 61 6c 6c",                // "-all"
	"03 61 01 5c",                   // "a", 0x01, "\"
)

func TestTXT(t *testing.T) {
	var m Message
	if err := Parse(vecTXT, &m); err != nil {
		t.Fatal(err)
	}
	rr := &m.Answers[0]
	if rr.Data != `v=spf1 -alla\001\\` {
		t.Errorf("TXT data %q", rr.Data)
	}
	if got := m.TXT(rr); !reflect.DeepEqual(got, []string{"v=spf1 ", "-all", `a\001\\`}) {
		t.Errorf("TXT strings %q", got)
	}
	// A string running past the rdata is not TXT: RFC 3597 fallback.
	bad := append([]byte(nil), vecTXT...)
	bad[len(bad)-4] = 9
	if err := Parse(bad, &m); err != nil {
		t.Fatal(err)
	}
	if m.BadRData != 1 || !strings.HasPrefix(m.Answers[0].Data, `\# 17 07763d`) || m.TXT(&m.Answers[0]) != nil {
		t.Errorf("bad TXT: %q %d", m.Answers[0].Data, m.BadRData)
	}
}

// vecUnknown has a record of the private type 65280 and an empty one.
var vecUnknown = hx(
	"00 09 81 80 00 01 00 02 00 00 00 00",
	"01 75 00 ff 00 00 01",                         // 12: "u" TYPE65280 IN
	"c0 0c ff 00 00 01 00 00 00 3c 00 03 01 02 ab", // 19: rdata 01 02 ab
	"c0 0c ff 00 00 01 00 00 00 3c 00 00",          // 34: empty rdata
)

func TestUnknownType(t *testing.T) {
	var m Message
	if err := Parse(vecUnknown, &m); err != nil {
		t.Fatal(err)
	}
	if m.Answers[0].Data != `\# 3 0102ab` || m.Answers[1].Data != `\# 0` || m.BadRData != 0 {
		t.Errorf("unknown: %q %q", m.Answers[0].Data, m.Answers[1].Data)
	}
	if TypeName(m.Questions[0].Type) != "TYPE65280" {
		t.Errorf("TypeName %q", TypeName(m.Questions[0].Type))
	}
}

func TestNameEscaping(t *testing.T) {
	var m Message
	// 12: one label "a.b c" then "com": the dot and space are data, not structure
	msg := hx("00 0a 00 00 00 02 00 00 00 00 00 00",
		"05 61 2e 62 20 63 03 63 6f 6d 00 00 01 00 01",
		"00 00 02 00 01",             // 27: the root, NS IN
		"03 5c ff 41 00 00 01 00 01") // 32: "\", 0xff, "A": backslash, high byte, case kept
	if err := Parse(msg, &m); err != nil {
		t.Fatal(err)
	}
	// the last question is beyond QDCOUNT 2 and ignored
	if len(m.Questions) != 2 || m.Questions[0].Name != `a\.b\032c.com` || m.Questions[1].Name != "." {
		t.Errorf("names %+v", m.Questions)
	}
	msg[5] = 3
	if err := Parse(msg, &m); err != nil {
		t.Fatal(err)
	}
	if m.Questions[2].Name != `\\\255A` {
		t.Errorf("escaped %q", m.Questions[2].Name)
	}
}

// ---- records built by a small wire writer ----

type wrr struct {
	name  string
	typ   uint16
	rdata []byte
}

// wname writes a name uncompressed ("" and "." are the root).
func wname(s string) []byte {
	var b []byte
	if s != "" && s != "." {
		for _, l := range strings.Split(s, ".") {
			b = append(b, byte(len(l)))
			b = append(b, l...)
		}
	}
	return append(b, 0)
}

func build(id, flags uint16, qname string, qtype uint16, an, ns, ar []wrr) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = binary.BigEndian.AppendUint16(b, flags)
	for _, n := range []int{1, len(an), len(ns), len(ar)} {
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	}
	b = append(b, wname(qname)...)
	b = binary.BigEndian.AppendUint16(b, qtype)
	b = binary.BigEndian.AppendUint16(b, 1)
	for _, sec := range [][]wrr{an, ns, ar} {
		for _, r := range sec {
			b = append(b, wname(r.name)...)
			b = binary.BigEndian.AppendUint16(b, r.typ)
			b = binary.BigEndian.AppendUint16(b, 1)
			b = binary.BigEndian.AppendUint32(b, 300)
			b = binary.BigEndian.AppendUint16(b, uint16(len(r.rdata)))
			b = append(b, r.rdata...)
		}
	}
	return b
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func TestRDataForms(t *testing.T) {
	for _, tc := range []struct {
		typ          uint16
		rdata        []byte
		data, target string
	}{
		{TypeAAAA, hx("20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01"), "2001:db8::1", ""},
		{TypeNS, wname("ns1.example.net"), "ns1.example.net", "ns1.example.net"},
		{TypePTR, wname("host.example"), "host.example", "host.example"},
		{TypeDNAME, wname("other.example"), "other.example", "other.example"},
		{TypeMX, cat(hx("00 0a"), wname("mail.example")), "10 mail.example", "mail.example"},
		{TypeSRV, cat(hx("00 05 00 0a 14 66"), wname("sip.example")), "5 10 5222 sip.example", "sip.example"},
		{TypeSVCB, cat(hx("00 10"), wname("svc.example"),
			hx("00 00 00 04 00 01 00 03"),                // mandatory=alpn,port
			hx("00 01 00 09 08 68 74 74 70 2f 31 2c 31"), // alpn="http/1,1": comma escaped
			hx("00 02 00 00"),                            // no-default-alpn
			hx("00 03 00 02 1f 90"),                      // port 8080
			hx("00 05 00 03 01 02 03"),                   // ech
			hx("00 07 00 07 2f 71 7b 3f 64 6e 73"),       // dohpath "/q{?dns"
			hx("03 e7 00 01 78")),                        // key999 "x"
			`16 svc.example mandatory=alpn,port alpn=http/1\,1 no-default-alpn port=8080 ech=AQID dohpath=/q{?dns key999=x`, "svc.example"},
		{TypeHTTPS, cat(hx("00 00"), wname("alias.example")), "0 alias.example", "alias.example"},
		{TypeCAA, cat(hx("00 05"), []byte("issue"), []byte(`ca.example; "x"`)), `0 issue "ca.example; \"x\""`, ""},
		{TypeDS, hx("ec 45 08 02 ab cd ef 01"), "60485 8 2 ABCDEF01", ""},
		{TypeDNSKEY, hx("01 01 03 0d 01 02 03 04"), "257 3 13 AQIDBA==", ""},
		{TypeRRSIG, cat(hx("00 01 0d 02 00 00 0e 10"),
			hx("67 8a 5c 00"), // expiration 2025-01-17 13:32:48 UTC
			hx("67 78 e7 00"), // inception 2025-01-04 07:45:04 UTC
			hx("30 39"), wname("example"), hx("de ad be ef")),
			"A 13 2 3600 20250117133248 20250104074504 12345 example 3q2+7w==", ""},
		{TypeNSEC, cat(wname("b.example"), hx("00 06 62 01 80 08 00 03"), hx("01 01 40")), // window 0: 1 2 6 15 16 28 46 47; window 1: 257
			"b.example A NS SOA MX TXT AAAA RRSIG NSEC CAA", ""},
		// rdata that does not decode as its type falls back to RFC 3597
		{TypeA, hx("c0 00 02"), `\# 3 c00002`, ""},
		{TypeMX, cat(hx("00 0a"), wname("mail.example"), hx("00")), `\# 17 000a046d61696c076578616d706c650000`, ""},
		{TypeSOA, wname("ns.example"), `\# 12 026e73076578616d706c6500`, ""},
	} {
		msg := build(1, 0x8180, "q.example", tc.typ, []wrr{{"q.example", tc.typ, tc.rdata}}, nil, nil)
		var m Message
		if err := Parse(msg, &m); err != nil {
			t.Errorf("%s: %v", TypeName(tc.typ), err)
			continue
		}
		rr := m.Answers[0]
		if rr.Data != tc.data || rr.Target != tc.target {
			t.Errorf("%s:\n got  %q target %q\n want %q target %q", TypeName(tc.typ), rr.Data, rr.Target, tc.data, tc.target)
		}
		if bad := strings.HasPrefix(tc.data, `\#`); bad != (m.BadRData == 1) {
			t.Errorf("%s: BadRData %d", TypeName(tc.typ), m.BadRData)
		}
	}
}

func TestSectionCap(t *testing.T) {
	var an []wrr
	for i := 0; i < MaxRRsPerSection+44; i++ {
		an = append(an, wrr{"a.example", TypeA, []byte{10, 0, byte(i >> 8), byte(i)}})
	}
	opt := wrr{"", TypeOPT, nil}
	msg := build(7, 0x8180, "a.example", TypeA, an, nil, []wrr{{"x.example", TypeA, []byte{1, 2, 3, 4}}, opt})
	var m Message
	if err := Parse(msg, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Answers) != MaxRRsPerSection || !m.Capped || m.SkippedRRs != 44 || int(m.ANCount) != MaxRRsPerSection+44 {
		t.Errorf("answers %d capped %v skipped %d", len(m.Answers), m.Capped, m.SkippedRRs)
	}
	if m.Answers[255].Data != "10.0.0.255" {
		t.Errorf("last decoded %q", m.Answers[255].Data)
	}
	// sections after the cap are still decoded, EDNS still found
	if len(m.Additionals) != 1 || m.Additionals[0].Data != "1.2.3.4" || !m.EDNS.Present || m.EDNS.UDPSize != 1 {
		t.Errorf("after cap: %+v %+v", m.Additionals, m.EDNS)
	}
}

func TestReuseLeavesNoState(t *testing.T) {
	msgs := [][]byte{vecHTTPS, vecTXT, vecECS, vecSOA, vecCompression, vecUnknown}
	var reused Message
	for round := 0; round < 2; round++ {
		for _, b := range msgs {
			var fresh Message
			errF := Parse(b, &fresh)
			errR := Parse(b, &reused)
			if (errF == nil) != (errR == nil) || !sameMessage(&fresh, &reused) {
				t.Errorf("reused message differs:\n%+v\n%+v", fresh, reused)
			}
		}
	}
}

// sameMessage compares the exported view of two messages.
func sameMessage(a, b *Message) bool {
	norm := func(m *Message) Message {
		c := Message{}
		m.CopyTo(&c)
		c.cache, c.ncach = [8]nameCache{}, 0
		for _, s := range []*[]RR{&c.Answers, &c.Authorities, &c.Additionals} {
			for i := range *s {
				(*s)[i].name, (*s)[i].data, (*s)[i].target = span{}, span{}, span{}
			}
			if len(*s) == 0 {
				*s = nil
			}
		}
		for i := range c.Questions {
			c.Questions[i].name = span{}
		}
		if len(c.Questions) == 0 {
			c.Questions = nil
		}
		if len(c.EDNS.Options) == 0 {
			c.EDNS.Options = nil
		}
		if len(c.txt) == 0 {
			c.txt = nil
		}
		return c
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func TestNames(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{TypeName(1), "A"}, {TypeName(28), "AAAA"}, {TypeName(65), "HTTPS"}, {TypeName(64), "SVCB"},
		{TypeName(252), "AXFR"}, {TypeName(255), "ANY"}, {TypeName(257), "CAA"}, {TypeName(123), "TYPE123"},
		{ClassName(1), "IN"}, {ClassName(3), "CH"}, {ClassName(255), "ANY"}, {ClassName(9), "CLASS9"},
		{RCodeName(0), "NOERROR"}, {RCodeName(2), "SERVFAIL"}, {RCodeName(3), "NXDOMAIN"}, {RCodeName(5), "REFUSED"},
		{RCodeName(12), "RCODE12"}, {RCodeName(23), "BADCOOKIE"}, {RCodeName(24), "RCODE24"}, {RCodeName(4095), "RCODE4095"},
		{OpcodeName(0), "QUERY"}, {OpcodeName(2), "STATUS"}, {OpcodeName(4), "NOTIFY"}, {OpcodeName(5), "UPDATE"}, {OpcodeName(3), "OPCODE3"},
		{string(AppendTypeName([]byte("x"), 99)), "xSPF"}, {string(AppendTypeName(nil, 9999)), "TYPE9999"},
	} {
		if c.got != c.want {
			t.Errorf("got %q want %q", c.got, c.want)
		}
	}
	m := Message{Authoritative: true, Truncated: true, RecursionDesired: true, RecursionAvailable: true, AuthenticData: true, CheckingDisabled: true}
	m.EDNS.DO = true
	if got := m.HeaderFlags(); !reflect.DeepEqual(got, []string{"AA", "TC", "RD", "RA", "AD", "CD", "DO"}) {
		t.Errorf("all flags %v", got)
	}
	if got := (&Message{}).HeaderFlags(); len(got) != 0 {
		t.Errorf("no flags %v", got)
	}
}
