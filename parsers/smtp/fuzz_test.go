package smtp

import (
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// FuzzConn feeds b as both directions of a connection: the first byte
// picks the piece size, and pieces alternate between the directions at
// each line end. The parser must not panic, must emit at least once, and
// must hold no more than its bounds.
func FuzzConn(f *testing.F) {
	var seed []byte
	for _, ch := range session {
		seed = append(seed, ch.b...)
	}
	f.Add(append([]byte{0}, seed...))
	f.Add(append([]byte{3}, seed...))
	f.Add([]byte("\x00220 x\r\nEHLO a\r\nSTARTTLS\r\n220 go\r\n\x16\x03\x01"))
	f.Add([]byte("\x01220 x\r\nBDAT 5 LAST\r\nabcde250 ok\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		step := int(b[0]%16) + 1
		b = b[1:]
		n := 0
		c := NewConn(Config{}, nil, func(tx *Transaction) {
			n++
			if len(tx.RcptTo) > maxRcpt || len(tx.Attachments) > maxAttachments || len(tx.Notes) > maxNotes {
				t.Fatalf("unbounded transaction: %d rcpt, %d attachments", len(tx.RcptTo), len(tx.Attachments))
			}
		})
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
			if cap(c.msg.field.B) > maxField || cap(c.lines[0].Held()) > 2*maxLine || cap(c.lines[1].Held()) > 2*maxLine ||
				len(c.held.B) > maxTLSHeld || len(c.pending) > maxPending || len(c.msg.bounds) > maxDepth {
				t.Fatalf("bounds exceeded")
			}
		}
		c.End(time.Time{})
		if n == 0 {
			t.Fatal("nothing emitted")
		}
	})
}

// BenchmarkConn parses a whole pipelined session with a MIME message of
// two attachments (quoted-printable and base64).
func BenchmarkConn(b *testing.B) {
	size := 0
	for _, ch := range session {
		size += len(ch.b)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	emit := func(*Transaction) {}
	ts := time.Unix(1, 0)
	for b.Loop() {
		c := NewConn(Config{}, nil, emit)
		for _, ch := range session {
			_ = c.Data(ch.d, []byte(ch.b), ts)
		}
		c.End(ts)
	}
}

// BenchmarkAttachment streams a message with a 1 MiB base64 attachment:
// the cost of the MIME reader per byte of mail.
func BenchmarkAttachment(b *testing.B) {
	body := make([]byte, 0, 1<<21)
	body = append(body, "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Disposition: attachment; filename=a.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n"...)
	for len(body) < 1<<20 {
		body = append(body, "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n"...)
	}
	body = append(body, "--x--\r\n.\r\n"...)
	head := [][]byte{[]byte("220 x\r\n"), []byte("EHLO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"), []byte("250 a\r\n250 b\r\n250 c\r\n354 d\r\n")}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	emit := func(*Transaction) {}
	ts := time.Unix(1, 0)
	for b.Loop() {
		c := NewConn(Config{}, nil, emit)
		_ = c.Data(parsers.ToClient, head[0], ts)
		_ = c.Data(parsers.ToServer, head[1], ts)
		_ = c.Data(parsers.ToClient, head[2], ts)
		for off := 0; off < len(body); off += 1460 {
			_ = c.Data(parsers.ToServer, body[off:min(off+1460, len(body))], ts)
		}
		c.End(ts)
	}
}
