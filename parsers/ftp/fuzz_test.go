package ftp

import (
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// FuzzConn feeds b as both directions: the first byte picks the piece
// size, pieces alternate between directions at each line end. No panic,
// bounded state, every command emitted once, no password kept.
func FuzzConn(f *testing.F) {
	var seed []byte
	for _, ch := range session {
		seed = append(seed, ch.b...)
	}
	f.Add(append([]byte{0}, seed...))
	f.Add(append([]byte{2}, seed...))
	f.Add([]byte("\x00220 x\r\nAUTH TLS\r\n234 ok\r\n\x16\x03\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		step := int(b[0]%16) + 1
		b = b[1:]
		c := NewConn(nil, func(cmd *Command) {
			if cmd.Command == "PASS" && cmd.Arg != "" && cmd.Arg != Redacted {
				t.Fatalf("PASS argument %q kept", cmd.Arg)
			}
		})
		c.OnData = func(cmd *Command) {
			if cmd.Tx == 0 || cmd.ReplyCode != 0 {
				t.Fatalf("data command %s announced numbered %d, after its final reply %d", cmd.Command, cmd.Tx, cmd.ReplyCode)
			}
		}
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
			if len(c.queue) > maxPending || cap(c.lines[0].Held()) > 2*maxLine || cap(c.lines[1].Held()) > 2*maxLine || len(c.held) > maxLine {
				t.Fatal("bounds exceeded")
			}
		}
		c.End(time.Time{})
	})
}

// BenchmarkConn parses a whole control session.
func BenchmarkConn(b *testing.B) {
	size := 0
	for _, ch := range session {
		size += len(ch.b)
	}
	bs := make([][]byte, len(session))
	for i, ch := range session {
		bs[i] = []byte(ch.b)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	emit := func(*Command) {}
	ts := time.Unix(1, 0)
	for b.Loop() {
		c := NewConn(nil, emit)
		for i, ch := range session {
			_ = c.Data(ch.d, bs[i], ts)
		}
		c.End(ts)
	}
}
