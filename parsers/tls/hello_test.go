package tls

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// Builders for hand-made handshake messages.

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

func vec8(b ...[]byte) []byte {
	body := concat(b...)
	return append([]byte{byte(len(body))}, body...)
}

func vec16(b ...[]byte) []byte {
	body := concat(b...)
	return append(u16(uint16(len(body))), body...)
}

func concat(b ...[]byte) []byte {
	var out []byte
	for _, x := range b {
		out = append(out, x...)
	}
	return out
}

func u16s(vs ...uint16) []byte {
	var out []byte
	for _, v := range vs {
		out = binary.BigEndian.AppendUint16(out, v)
	}
	return out
}

func ext(typ uint16, data []byte) []byte { return concat(u16(typ), vec16(data)) }

// greaseHello is a ClientHello with GREASE in every list that allows it:
//
//	version 0x0303, ciphers {0x1a1a, 0x1301, 0x1302, 0xc02f}
//	extensions 0x2a2a, server_name "example.com", 0x0a0a(empty), supported_groups
//	{0x3a3a, x25519, secp256r1}, ec_point_formats {0}, signature_algorithms
//	{0x4a4a?, 0x0403, 0x0804}, ALPN {"h2", "http/1.1"}, supported_versions
//	{0x5a5a, 0x0304, 0x0303}, key_share {0x6a6a, x25519}
func greaseHello() []byte {
	return concat(
		u16(0x0303), make([]byte, 32), vec8([]byte{1, 2, 3}),
		vec16(u16s(0x1a1a, 0x1301, 0x1302, 0xc02f)),
		vec8([]byte{0}),
		vec16(
			ext(0x2a2a, nil),
			ext(ExtServerName, vec16([]byte{0}, vec16([]byte("example.com")))),
			ext(ExtSupportedGroups, vec16(u16s(0x3a3a, 29, 23))),
			ext(ExtECPointFormats, vec8([]byte{0})),
			ext(ExtSignatureAlgorithms, vec16(u16s(0x0403, 0x0804))),
			ext(ExtALPN, vec16(vec8([]byte("h2")), vec8([]byte("http/1.1")))),
			ext(ExtSupportedVersions, vec8(u16s(0x5a5a, 0x0304, 0x0303))),
			ext(ExtKeyShare, vec16(u16(0x6a6a), vec16([]byte{0}), u16(29), vec16(make([]byte, 32)))),
			ext(0x0a0a, []byte{0}),
		),
	)
}

func TestParseClientHelloGREASE(t *testing.T) {
	var h ClientHello
	if err := ParseClientHello(greaseHello(), &h); err != nil {
		t.Fatal(err)
	}
	if h.ServerName != "example.com" || len(h.ALPN) != 2 || h.ALPN[1] != "http/1.1" {
		t.Errorf("SNI %q ALPN %q", h.ServerName, h.ALPN)
	}
	// GREASE stays in the raw lists.
	if !reflect.DeepEqual(h.CipherSuites, []uint16{0x1a1a, 0x1301, 0x1302, 0xc02f}) ||
		!reflect.DeepEqual(h.Extensions, []uint16{0x2a2a, 0, 10, 11, 13, 16, 43, 51, 0x0a0a}) ||
		!reflect.DeepEqual(h.SupportedVersions, []uint16{0x5a5a, 0x0304, 0x0303}) ||
		!reflect.DeepEqual(h.KeyShareGroups, []uint16{0x6a6a, 29}) {
		t.Errorf("lists: %+v", h)
	}
	// JA3 drops GREASE: ciphers 4865-4866-49199, extensions without 0x2a2a/0x0a0a.
	if got, want := string(AppendJA3(nil, &h)), "771,4865-4866-49199,0-10-11-13-16-43-51,29-23,0"; got != want {
		t.Errorf("JA3 %s, want %s", got, want)
	}
	// JA4 by hand: 3 ciphers, 7 extensions, version 1.3 from supported_versions.
	rawB := "1301,1302,c02f"
	rawC := "000a,000b,000d,002b,0033_0403,0804"
	if got, want := string(AppendJA4Raw(nil, &h, JA4TCP)), "t13d0307h2_"+rawB+"_"+rawC; got != want {
		t.Errorf("JA4_r %s, want %s", got, want)
	}
	hb, hc := sha256.Sum256([]byte(rawB)), sha256.Sum256([]byte(rawC))
	want := "t13d0307h2_" + hex.EncodeToString(hb[:])[:12] + "_" + hex.EncodeToString(hc[:])[:12]
	if got := string(AppendJA4(nil, &h, JA4QUIC)); got != "q"+want[1:] {
		t.Errorf("JA4 %s, want q%s", got, want[1:])
	}
}

func TestJA4EdgeCases(t *testing.T) {
	// The spec's ALPN examples, and the empty-list rules.
	for _, tc := range []struct {
		alpn []string
		want string
	}{
		{nil, "00"}, {[]string{""}, "00"}, {[]string{"h"}, "hh"},
		{[]string{"\xab"}, "ab"}, {[]string{"\xab\xcd"}, "ad"}, {[]string{"0\xab"}, "3b"},
		{[]string{"01\xab\xcd"}, "3d"}, {[]string{"0\xab\xcd1"}, "01"}, {[]string{"http/1.1", "h2"}, "h1"},
	} {
		h := ClientHello{Version: 0x0301, ALPN: tc.alpn}
		got := string(AppendJA4(nil, &h, JA4TCP))
		if want := "t10i0000" + tc.want + "_000000000000_000000000000"; got != want {
			t.Errorf("ALPN %q: %s, want %s", tc.alpn, got, want)
		}
	}
	// No signature algorithms: part c hashes the extension list alone (spec example).
	h := ClientHello{Version: 0x0303, Extensions: []uint16{0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015}}
	if got := string(AppendJA4(nil, &h, JA4TCP)); got[len(got)-12:] != "6d807ffa2a79" {
		t.Errorf("JA4 without signature algorithms: %s", got)
	}
	// supported_versions without a usable value gives "00"; legacy only without it.
	h = ClientHello{Version: 0x0303, Extensions: []uint16{ExtSupportedVersions}, SupportedVersions: []uint16{0x0a0a}}
	if got := string(AppendJA4(nil, &h, JA4TCP))[:4]; got != "t00i" {
		t.Errorf("version: %s", got)
	}
	// Counts cap at 99.
	h = ClientHello{Version: 0x0303}
	for i := 0; i < 120; i++ {
		h.CipherSuites = append(h.CipherSuites, uint16(i+1))
	}
	if got := string(AppendJA4(nil, &h, JA4TCP))[:10]; got != "t12i990000" {
		t.Errorf("count cap: %s", got)
	}
}

func TestParseHelloErrors(t *testing.T) {
	body := greaseHello()
	var h ClientHello
	for i := 0; i < len(body); i++ {
		err := ParseClientHello(body[:i], &h)
		if i > 0 && i < len(body) && err == nil && i != 2+32+4+10+2 /* end of the fixed part: no extensions is valid */ {
			t.Errorf("prefix %d parsed without error", i)
		}
		if err != nil && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrMalformed) {
			t.Errorf("prefix %d: untyped error %v", i, err)
		}
	}
	// A session id longer than 32 bytes is malformed.
	bad := concat(u16(0x0303), make([]byte, 32), vec8(make([]byte, 33)), vec16(u16s(1)), vec8([]byte{0}))
	if err := ParseClientHello(bad, &h); !errors.Is(err, ErrMalformed) {
		t.Errorf("long session id: %v", err)
	}
}

func TestParseServerHelloRetryRequest(t *testing.T) {
	hrr := concat(u16(0x0303), helloRetryRandom[:], vec8([]byte{9}), u16(0x1302), []byte{0},
		vec16(ext(ExtSupportedVersions, u16(0x0304)), ext(ExtKeyShare, u16(23))))
	var sh ServerHello
	if err := ParseServerHello(hrr, &sh); err != nil {
		t.Fatal(err)
	}
	if !sh.HelloRetryRequest || sh.SupportedVersion != 0x0304 || sh.KeyShareGroup != 23 || sh.CipherSuite != 0x1302 {
		t.Errorf("%+v", sh)
	}
	if got := string(AppendJA3S(nil, &sh)); got != "771,4866,43-51" {
		t.Errorf("JA3S %s", got)
	}
	hrr[2] ^= 1 // a different random is an ordinary ServerHello
	if err := ParseServerHello(hrr, &sh); err != nil || sh.HelloRetryRequest {
		t.Errorf("not HRR: %v %+v", err, sh)
	}
}

func TestGREASEValues(t *testing.T) {
	n := 0
	for v := 0; v <= 0xffff; v++ {
		if IsGREASE(uint16(v)) {
			n++
			if v&0xff != v>>8 || v&0x0f != 0x0a {
				t.Errorf("%#04x is not GREASE", v)
			}
		}
	}
	if n != 16 {
		t.Errorf("%d GREASE values, want 16", n)
	}
}

// record wraps payload in one TLS record.
func record(typ byte, payload []byte) []byte {
	return concat([]byte{typ, 3, 3}, vec16(payload))
}

func handshakeMsg(typ byte, body []byte) []byte {
	n := len(body)
	return concat([]byte{typ, byte(n >> 16), byte(n >> 8), byte(n)}, body)
}

func collect(cfg Config) (*Conn, *[]*Handshake) {
	var got []*Handshake
	return NewConn(cfg, func(h *Handshake) { got = append(got, h) }), &got
}

func TestZeroLengthRecordsAndFragmentedMessage(t *testing.T) {
	msg := handshakeMsg(1, greaseHello())
	// The ClientHello split over three handshake records, with empty handshake,
	// application data records around and between them.
	stream := concat(record(22, nil), record(22, msg[:3]), record(22, nil), record(22, msg[3:50]),
		record(23, nil), record(22, msg[50:]), record(22, nil))
	c, got := collect(Config{})
	if err := c.Data(parsers.ToServer, stream, time.Time{}); err != nil {
		t.Fatal(err)
	}
	c.End(time.Time{})
	if len(*got) != 1 {
		t.Fatalf("%d handshakes", len(*got))
	}
	h := (*got)[0]
	var direct ClientHello
	if err := ParseClientHello(greaseHello(), &direct); err != nil {
		t.Fatal(err)
	}
	if !h.HasClientHello || h.JA3String != string(AppendJA3(nil, &direct)) || h.ClientHello.ServerName != "example.com" {
		t.Errorf("got %+v", h)
	}
	if len(h.Notes) != 0 {
		t.Errorf("notes %q", h.Notes)
	}
}

func TestHugeLengthsAreBounded(t *testing.T) {
	// A handshake message claiming 16 MiB: rejected at once, nothing buffered.
	c, got := collect(Config{})
	err := c.Data(parsers.ToServer, record(22, []byte{1, 0xff, 0xff, 0xff, 3, 3}), time.Time{})
	if !errors.Is(err, ErrNotTLS) {
		t.Errorf("huge handshake message: %v", err)
	}
	c.End(time.Time{})
	if len(*got) != 1 || len((*got)[0].Notes) == 0 {
		t.Errorf("want one handshake with a note, got %d", len(*got))
	}
	// A record longer than the record-layer maximum.
	c, _ = collect(Config{})
	if err := c.Data(parsers.ToServer, []byte{22, 3, 1, 0xff, 0xff}, time.Time{}); !errors.Is(err, ErrNotTLS) {
		t.Errorf("huge record: %v", err)
	}
	// A Certificate list longer than its message, and an entry past the end.
	if _, err := ParseCertificates([]byte{0xff, 0xff, 0xff, 0, 0}); !errors.Is(err, ErrTruncated) {
		t.Errorf("certificate list: %v", err)
	}
	if _, err := ParseCertificates([]byte{0, 0, 4, 0xff, 0xff, 0xff, 0}); !errors.Is(err, ErrTruncated) {
		t.Errorf("certificate entry: %v", err)
	}
	// Not TLS at all.
	c, got = collect(Config{})
	if err := c.Data(parsers.ToServer, []byte("GET / HTTP/1.1\r\n\r\n"), time.Time{}); !errors.Is(err, ErrNotTLS) {
		t.Errorf("HTTP: %v", err)
	}
	c.End(time.Time{})
	if len(*got) != 0 {
		t.Errorf("emitted for a non-TLS stream")
	}
}

// replay feeds recorded chunks, each cut by split, and returns the emitted
// handshakes.
func replay(chunks []chunk, split func(b []byte) [][]byte) []*Handshake {
	c, got := collect(Config{})
	for _, ch := range chunks {
		for _, piece := range split(ch.data) {
			if c.Data(ch.dir, piece, time.Time{}) != nil {
				break
			}
		}
	}
	c.End(time.Time{})
	return *got
}

func TestSplitAtEveryByte(t *testing.T) {
	for _, capture := range []string{"tls12-handshake-cert.pcap", "tls13-hello-retry-request.pcap"} {
		recs := transcripts(t, filepath.Join(pcapDir, capture))
		if len(recs) == 0 {
			t.Fatalf("%s: no connections", capture)
		}
		chunks := recs[0].chunks
		whole := replay(chunks, func(b []byte) [][]byte { return [][]byte{b} })
		if len(whole) != 1 || !whole[0].HasServerHello {
			t.Fatalf("%s: %d handshakes", capture, len(whole))
		}
		bytewise := replay(chunks, func(b []byte) [][]byte {
			out := make([][]byte, len(b))
			for i := range b {
				out[i] = b[i : i+1]
			}
			return out
		})
		if !reflect.DeepEqual(whole, bytewise) {
			t.Errorf("%s: byte-by-byte feeding differs", capture)
		}
		// Every two-way split of every chunk.
		for ci := range chunks {
			for k := 1; k < len(chunks[ci].data); k++ {
				got := replay(chunks, func(b []byte) [][]byte {
					if &b[0] == &chunks[ci].data[0] {
						return [][]byte{b[:k], b[k:]}
					}
					return [][]byte{b}
				})
				if !reflect.DeepEqual(whole, got) {
					t.Fatalf("%s: split of chunk %d at %d differs", capture, ci, k)
				}
			}
		}
	}
}

func TestHandshakeSemantics(t *testing.T) {
	one := func(capture string) *Handshake {
		t.Helper()
		res := runCapture(t, filepath.Join(pcapDir, capture), Config{})
		if len(res) != 1 {
			t.Fatalf("%s: %d handshakes", capture, len(res))
		}
		return res[0].h
	}
	// TLS 1.2 full handshake (RSA key exchange, 3 certificates).
	h := one("tls12-handshake-cert.pcap")
	if h.Version != "1.2" || h.VersionProtocol != "tls" || !h.Established || h.Resumed ||
		len(h.Certificates) != 3 || h.Certificates[0].SubjectCommonName != "*.taleo.net" || h.Curve != "" {
		t.Errorf("tls1.2: %+v", h)
	}
	if h.Cipher != CipherSuiteName(h.CipherSuite) || h.Cipher[:4] != "TLS_" {
		t.Errorf("cipher %q", h.Cipher)
	}
	leaf := h.Certificates[0]
	if len(leaf.SHA1) != 40 || len(leaf.SHA256) != 64 || len(leaf.MD5) != 32 || leaf.PublicKeyAlgorithm != "RSA" || leaf.PublicKeySize != 2048 || leaf.Version != 3 {
		t.Errorf("leaf %+v", leaf)
	}
	// TLS 1.3 with a HelloRetryRequest.
	h = one("tls13-hello-retry-request.pcap")
	if !h.HelloRetryRequest || h.Version != "1.3" || !h.Established || h.RetryJA3 == "" || h.ServerHello.HelloRetryRequest {
		t.Errorf("hrr: %+v", h)
	}
	// TLS 1.3 without HRR: the group comes from key_share.
	h = one("tls13-cid-ipv4.pcap")
	if h.Version != "1.3" || !h.Established || h.Curve != "x25519" || h.Certificates != nil {
		t.Errorf("tls1.3: %+v", h)
	}
	// A certificate crypto/x509 refuses: an error on it, hashes still there.
	h = one("corrupt-tls-der-incomplete-content.pcap")
	if len(h.Certificates) == 0 || h.Certificates[0].Err == nil || h.Certificates[0].SHA256 == "" || h.Established {
		t.Errorf("corrupt DER: %+v", h)
	}
}

func TestSniff(t *testing.T) {
	ch := record(22, handshakeMsg(1, greaseHello()))
	if Sniff(ch) != parsers.Yes {
		t.Error("ClientHello not sniffed")
	}
	// Every prefix shorter than 6 bytes asks for more.
	for i := range 6 {
		if v := Sniff(ch[:i]); v != parsers.More {
			t.Errorf("Sniff(%x) = %v, want More", ch[:i], v)
		}
	}
	for _, b := range [][]byte{record(22, handshakeMsg(2, nil)), record(23, []byte{1, 2, 3, 4}),
		[]byte("GET / HTTP/1.1\r\n"), {22, 3, 5, 0, 10, 1}, {22, 3, 1, 0xff, 0xff, 1}, {22, 2}, {22, 3, 1, 0, 2}} {
		if v := Sniff(b); v != parsers.No {
			t.Errorf("Sniff(%x) = %v, want No", b, v)
		}
	}
}

// Records whose payload the parser does not read (application data, and
// all records once a direction is encrypted) are skipped as they arrive,
// not buffered; an incomplete one at the end is still noted with its size.
func TestUnreadRecordsAreNotBuffered(t *testing.T) {
	c, _ := collect(Config{})
	feed := func(b []byte, piece int) {
		t.Helper()
		for len(b) > 0 {
			k := min(piece, len(b))
			if err := c.Data(parsers.ToServer, b[:k], time.Time{}); err != nil {
				t.Fatal(err)
			}
			b = b[k:]
		}
	}
	feed(record(22, handshakeMsg(1, greaseHello())), 7) // clear text: buffered
	if cap(c.dirs[0].rec) == 0 {
		t.Fatal("a clear-text handshake record cut in pieces was not buffered")
	}
	c.dirs[0].rec = nil
	c.dirs[0].encrypted = true // as a TLS 1.3 ServerHello does
	big := make([]byte, 16000)
	feed(record(23, big), 1460)
	feed(record(22, big[:900]), 100) // an encrypted handshake record
	feed(record(21, big[:26]), 3)    // an encrypted alert
	// Room for a header cut in pieces only.
	if cap(c.dirs[0].rec) > 2*recordHeaderLen {
		t.Fatalf("skipped records were buffered: %d bytes", cap(c.dirs[0].rec))
	}
	if n := len(c.h.Alerts); n != 1 || !c.h.Alerts[0].Encrypted {
		t.Fatalf("alerts %+v", c.h.Alerts)
	}
	feed(record(23, big)[:1000], 300) // cut short
	c.End(time.Time{})
	if want := "1000 bytes of an incomplete record or message to_server at end"; !slices.Contains(c.h.Notes, want) {
		t.Fatalf("notes %q, want %q", c.h.Notes, want)
	}
}

// helloWith is a ClientHello with greaseHello's JA3 lists (version,
// ciphers, extension types, groups, point formats) and the given values
// of what only JA4 reads.
func helloWith(sigAlgs, versions []uint16, alpn []string) []byte {
	return helloCiphers([]uint16{0x1a1a, 0x1301, 0x1302, 0xc02f}, []uint16{29, 23}, sigAlgs, versions, alpn)
}

// helloCiphers is helloWith with the given ciphers and groups.
func helloCiphers(ciphers, groups, sigAlgs, versions []uint16, alpn []string) []byte {
	var protos [][]byte
	for _, p := range alpn {
		protos = append(protos, vec8([]byte(p)))
	}
	return concat(
		u16(0x0303), make([]byte, 32), vec8(nil),
		vec16(u16s(ciphers...)),
		vec8([]byte{0}),
		vec16(
			ext(ExtServerName, vec16([]byte{0}, vec16([]byte("example.com")))),
			ext(ExtSupportedGroups, vec16(u16s(groups...))),
			ext(ExtECPointFormats, vec8([]byte{0})),
			ext(ExtSignatureAlgorithms, vec16(u16s(sigAlgs...))),
			ext(ExtALPN, vec16(protos...)),
			ext(ExtSupportedVersions, vec8(u16s(versions...))),
		),
	)
}

// Every JA4 is ja4Len characters, and a Conn with a Pool gives the
// fingerprints a Conn without one gives, for ClientHellos that share
// their JA3 string and differ in what only JA4 reads, or that differ in
// their JA3 lists (a GREASE value only, which JA3 leaves out: the same
// fingerprints), met again.
func TestFingerprintsThroughPoolMemo(t *testing.T) {
	hellos := [][]byte{
		helloWith([]uint16{0x0403, 0x0804}, []uint16{0x0304, 0x0303}, []string{"h2", "http/1.1"}),
		helloWith([]uint16{0x0804, 0x0403}, []uint16{0x0304, 0x0303}, []string{"h2", "http/1.1"}),
		helloWith([]uint16{0x0403, 0x0804}, []uint16{0x0303}, []string{"h2", "http/1.1"}),
		helloWith([]uint16{0x0403, 0x0804}, []uint16{0x0304, 0x0303}, []string{"http/1.1", "h2"}),
		helloWith([]uint16{0x0403, 0x0804}, []uint16{0x0304, 0x0303}, []string{"h3"}),
		helloWith([]uint16{0x0403, 0x0804}, []uint16{0x0304, 0x0303}, []string{""}),
		helloWith([]uint16{0x0403, 0x0804}, []uint16{0x0304, 0x0303}, nil),
		greaseHello(),
		helloCiphers([]uint16{0x1301, 0x1302, 0xc02f}, []uint16{29, 23}, []uint16{0x0403}, nil, nil),
		helloCiphers([]uint16{0x1301, 0x2a2a, 0x1302, 0xc02f}, []uint16{29, 23}, []uint16{0x0403}, nil, nil), // the one before's
		helloCiphers([]uint16{0x1301, 0x1302}, []uint16{0xc02f, 29, 23}, []uint16{0x0403}, nil, nil),
		helloCiphers([]uint16{0x1301, 0x1302}, []uint16{29, 23}, []uint16{0x0403}, nil, nil),
	}
	fps := func(cfg Config, body []byte) string {
		var got []string // a pooled Handshake is valid during the call only
		c := NewConn(cfg, func(h *Handshake) {
			got = append(got, strings.Join([]string{h.JA3String, h.JA3, h.JA4, h.JA4R}, " "))
			if len(h.JA4) != ja4Len {
				t.Errorf("JA4 %q: %d characters", h.JA4, len(h.JA4))
			}
		})
		c.Data(parsers.ToServer, record(22, handshakeMsg(1, body)), time.Time{})
		c.End(time.Time{})
		if len(got) != 1 {
			t.Fatalf("%d handshakes", len(got))
		}
		return got[0]
	}
	pool := &Pool{}
	seen := map[string]bool{}
	for round := range 2 {
		for i, body := range hellos {
			want := fps(Config{}, body)
			if got := fps(Config{Pool: pool}, body); got != want {
				t.Errorf("round %d, hello %d: through the Pool\n%s\nwithout:\n%s", round, i, got, want)
			}
			seen[want] = true
		}
	}
	if len(seen) != len(hellos)-2 { // an empty first ALPN value reads as none: "00"; a GREASE cipher is left out
		t.Errorf("%d fingerprint sets for %d hellos", len(seen), len(hellos))
	}
}

// appendU16s keeps a list's big-endian values up to the limit, after
// those dst holds, and says whether it dropped any or b's length was odd:
// as a value-at-a-time append would, for every length, limit and start.
func TestAppendU16sAsOneAtATime(t *testing.T) {
	b := make([]byte, 13)
	for i := range b {
		b[i] = byte(0x11 * (i + 1))
	}
	for n := range len(b) + 1 {
		for limit := range 9 {
			for held := range 3 {
				want := make([]uint16, held)
				cut := n%2 != 0
				for i := 0; i+1 < n; i += 2 {
					if len(want) >= limit {
						cut = true
						break
					}
					want = append(want, uint16(b[i])<<8|uint16(b[i+1]))
				}
				got, gotCut := appendU16s(make([]uint16, held), b[:n], limit)
				if !slices.Equal(got, want) || gotCut != cut {
					t.Fatalf("%d bytes, limit %d, %d held: %x %v, want %x %v", n, limit, held, got, gotCut, want, cut)
				}
			}
		}
	}
}
