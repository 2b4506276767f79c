package tls

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// helloBodies returns the handshake message bodies of type typ found in the
// shared captures' clear-text records (fuzz seeds).
func helloBodies(t testing.TB, typ byte) [][]byte {
	var out [][]byte
	for _, capture := range []string{"tls12-handshake-cert.pcap", "tls13-hello-retry-request.pcap", "tls-browsers-x509.pcapng"} {
		for _, r := range transcripts(t, filepath.Join(pcapDir, capture)) {
			for _, ch := range r.chunks {
				b := ch.data
				for len(b) >= 9 && b[0] == 22 {
					n := int(b[3])<<8 | int(b[4])
					if len(b) < 5+n {
						break
					}
					m := b[5 : 5+n]
					if len(m) >= 4 && m[0] == typ {
						l := int(m[1])<<16 | int(m[2])<<8 | int(m[3])
						if l <= len(m)-4 {
							out = append(out, m[4:4+l])
						}
					}
					b = b[5+n:]
				}
			}
		}
	}
	return out
}

func FuzzClientHello(f *testing.F) {
	f.Add(greaseHello())
	for _, b := range helloBodies(f, 1) {
		f.Add(b)
	}
	var h ClientHello
	var buf []byte
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := ParseClientHello(b, &h); err != nil {
			return
		}
		buf = AppendJA3(buf[:0], &h)
		buf = AppendJA4(buf[:0], &h, JA4TCP)
		if len(buf) != 36 {
			t.Fatalf("JA4 %q has length %d", buf, len(buf))
		}
		buf = AppendJA4Raw(buf[:0], &h, JA4QUIC)
	})
}

func FuzzServerHello(f *testing.F) {
	for _, b := range helloBodies(f, 2) {
		f.Add(b)
	}
	f.Add(concat(u16(0x0303), helloRetryRandom[:], vec8(nil), u16(0x1301), []byte{0}, vec16(ext(ExtSupportedVersions, u16(0x0304)))))
	var h ServerHello
	f.Fuzz(func(t *testing.T, b []byte) {
		if ParseServerHello(b, &h) == nil {
			_ = AppendJA3S(nil, &h)
		}
	})
}

// FuzzConn feeds a whole client stream and a whole server stream, each cut in
// two, alternating; the first byte of the input chooses the cut points.
func FuzzConn(f *testing.F) {
	for _, capture := range []string{"tls12-handshake-cert.pcap", "tls13-hello-retry-request.pcap"} {
		for _, r := range transcripts(f, filepath.Join(pcapDir, capture)) {
			var cs, ss []byte
			for _, ch := range r.chunks {
				if ch.dir == parsers.ToServer {
					cs = append(cs, ch.data...)
				} else {
					ss = append(ss, ch.data...)
				}
			}
			f.Add(uint16(len(cs)/2), cs, ss)
		}
	}
	f.Add(uint16(3), record(22, handshakeMsg(1, greaseHello())), []byte{21, 3, 3, 0, 2, 2, 40})
	pool := new(Pool) // across inputs: its kept strings are other inputs'
	f.Fuzz(func(t *testing.T, cut uint16, client, server []byte) {
		k := int(cut)
		kc, ks := min(k, len(client)), min(k, len(server))
		parts := []struct {
			d parsers.Dir
			b []byte
		}{
			{parsers.ToServer, client[:kc]}, {parsers.ToClient, server[:ks]},
			{parsers.ToServer, client[kc:]}, {parsers.ToClient, server[ks:]},
		}
		// The same parts fed whole and a byte at a time give the same
		// Handshake: buffering and skipping records do not depend on how
		// the bytes are cut.
		var got [2]*Handshake
		for i, bytewise := range []bool{false, true} {
			emitted := 0
			c := NewConn(Config{}, func(h *Handshake) { emitted++; got[i] = h })
		feed:
			for _, p := range parts {
				pieces := [][]byte{p.b}
				if bytewise {
					pieces = pieces[:0]
					for j := range p.b {
						pieces = append(pieces, p.b[j:j+1])
					}
				}
				for _, b := range pieces {
					if c.Data(p.d, b, time.Time{}) != nil {
						break feed
					}
				}
			}
			c.End(time.Time{})
			c.End(time.Time{})
			if emitted > 1 {
				t.Fatalf("emitted %d times", emitted)
			}
		}
		if !reflect.DeepEqual(got[0], got[1]) {
			t.Fatalf("fed whole:\n%+v\nfed a byte at a time:\n%+v", got[0], got[1])
		}
		// Through a Pool, with the strings it keeps, the same Handshake.
		var pooled string
		c := NewConn(Config{Pool: pool}, func(h *Handshake) { pooled = snapshot(t, h) })
		for _, p := range parts {
			if c.Data(p.d, p.b, time.Time{}) != nil {
				break
			}
		}
		c.End(time.Time{})
		c.Release()
		want := ""
		if got[0] != nil {
			want = snapshot(t, got[0])
		}
		if pooled != want {
			t.Fatalf("through a Pool:\n%s\nwithout:\n%s", pooled, want)
		}
	})
}

func BenchmarkClientHelloJA3JA4(b *testing.B) {
	bodies := helloBodies(b, 1)
	body := greaseHello()
	if len(bodies) > 0 {
		body = bodies[len(bodies)-1]
	}
	var h ClientHello
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := ParseClientHello(body, &h); err != nil {
			b.Fatal(err)
		}
		buf = AppendJA3(buf[:0], &h)
		buf = AppendMD5Hex(buf, buf)
		buf = AppendJA4(buf[:0], &h, JA4TCP)
		buf = AppendJA4Raw(buf[:0], &h, JA4TCP)
	}
}

func BenchmarkConnTLS12(b *testing.B) {
	recs := transcripts(b, filepath.Join(pcapDir, "tls12-handshake-cert.pcap"))
	chunks := recs[0].chunks
	n := 0
	for _, c := range chunks {
		n += len(c.data)
	}
	b.ReportAllocs()
	b.SetBytes(int64(n))
	for b.Loop() {
		c := NewConn(Config{}, func(*Handshake) {})
		for _, ch := range chunks {
			_ = c.Data(ch.dir, ch.data, time.Time{})
		}
		c.End(time.Time{})
	}
}

func TestClientHelloReuseDoesNotAllocate(t *testing.T) {
	body := greaseHello()
	var h ClientHello
	buf := make([]byte, 0, 4096)
	allocs := testing.AllocsPerRun(100, func() {
		_ = ParseClientHello(body, &h)
		buf = AppendJA3(buf[:0], &h)
		buf = AppendJA4(buf[:0], &h, JA4TCP)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per ClientHello parse + JA3 + JA4 with reuse", allocs)
	}
}
