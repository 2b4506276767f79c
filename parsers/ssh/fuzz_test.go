package ssh

import (
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// FuzzConn feeds b as both directions of a connection: the first byte
// picks the piece size, and pieces alternate between the directions at
// each line end. The parser must not panic, must emit exactly once, and
// must not hold more than one packet per direction.
func FuzzConn(f *testing.F) {
	var seed []byte
	for _, ch := range session("SSH-2.0-OpenSSH_9.6", "SSH-2.0-OpenSSH_8.2p1 Ubuntu", 52, 84, 36) {
		seed = append(seed, ch.b...)
	}
	f.Add(append([]byte{0}, seed...))
	f.Add(append([]byte{5}, seed...))
	f.Add([]byte("\x00SSH-1.5-x\nSSH-1.99-y\r\n"))
	f.Add([]byte("\x01junk\r\nSSH-2.0-x\r\n\x00\x00\x00\x0c\x0a\x14"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		step := int(b[0]%16) + 1
		b = b[1:]
		n := 0
		c := NewConn(nil, func(*Session) { n++ })
		d := parsers.ToClient
		for len(b) > 0 {
			k := min(step, len(b))
			if c.Data(d, b[:k], time.Time{}) != nil {
				break
			}
			if b[k-1] == '\n' {
				d = d.Reverse()
			}
			b = b[k:]
			for _, s := range c.s {
				if cap(s.buf) > 4+maxPacket+step {
					t.Fatalf("buffer of %d bytes", cap(s.buf))
				}
			}
		}
		c.End(time.Time{})
		if n != 1 {
			t.Fatalf("emitted %d times", n)
		}
	})
}

// BenchmarkConn parses a whole connection: version lines, both KEXINITs,
// the key exchange, NEWKEYS and encrypted chunks up to the auth outcome.
func BenchmarkConn(b *testing.B) {
	chunks := session("SSH-2.0-OpenSSH_for_Windows_7.7", "SSH-2.0-OpenSSH_7.4", 52, 84, 84, 36)
	size := 0
	for _, ch := range chunks {
		size += len(ch.b)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	emit := func(*Session) {}
	for b.Loop() {
		c := NewConn(nil, emit)
		for _, ch := range chunks {
			_ = c.Data(ch.d, ch.b, time.Time{})
		}
		c.End(time.Time{})
	}
}
