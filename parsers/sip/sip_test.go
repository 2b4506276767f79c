package sip

import (
	"bytes"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
)

var invite = []byte("INVITE sip:bob@example.com SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1\r\nVia: SIP/2.0/UDP 192.0.2.1\r\n" +
	"From: \"Alice\" <sip:alice@example.com;transport=udp>;tag=1928\r\nTo: sip:bob@example.com\r\n" +
	"Call-ID: a84b4c76e66710\r\nCSeq: 314159 INVITE\r\nContact: <sip:alice@192.0.2.10>\r\n" +
	"User-Agent: softphone/1.0\r\nContent-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n")

func TestParse(t *testing.T) {
	var m Message
	if err := Parse(invite, false, &m); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string][2]string{
		"method":  {string(m.Method), "INVITE"},
		"uri":     {string(m.URI), "sip:bob@example.com"},
		"from":    {string(Addr(m.From)), "sip:alice@example.com;transport=udp"},
		"to":      {string(Addr(m.To)), "sip:bob@example.com"},
		"contact": {string(Addr(m.Contact)), "sip:alice@192.0.2.10"},
		"via":     {string(m.Via), "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1"},
		"cseq":    {string(CSeqMethod(m.CSeq)), "INVITE"},
		"ua":      {string(m.UserAgent), "softphone/1.0"},
	} {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
	if m.Len != len(invite) || m.RepeatedHeaders {
		t.Errorf("len %d of %d, repeated %v", m.Len, len(invite), m.RepeatedHeaders)
	}
	resp := []byte("SIP/2.0 401 Unauthorized\r\ni: x\r\nCSeq: 2 REGISTER\r\n\r\n")
	if err := Parse(resp, true, &m); err != nil || m.Status != 401 || string(m.Reason) != "Unauthorized" || string(m.CallID) != "x" {
		t.Errorf("%v %+v", err, m)
	}
}

func TestParseHostile(t *testing.T) {
	var m Message
	if err := Parse(invite[:len(invite)-2], false, &m); err != ErrIncomplete {
		t.Errorf("cut body on a stream: %v", err)
	}
	if err := Parse(invite[:len(invite)-2], true, &m); err != nil || !m.TruncatedBody {
		t.Errorf("cut body in a datagram: %v %v", err, m.TruncatedBody)
	}
	if err := Parse([]byte("GET / HTTP/1.1\r\n\r\n"), true, &m); err != ErrNotSIP {
		t.Errorf("http: %v", err)
	}
	twice := bytes.Replace(invite, []byte("Call-ID: a84b4c76e66710\r\n"), []byte("Call-ID: a\r\ni: b\r\n"), 1)
	if err := Parse(twice, false, &m); err != nil || string(m.CallID) != "a" || !m.RepeatedHeaders {
		t.Errorf("repeated call-id: %v %q", err, m.CallID)
	}
	huge := bytes.Replace(invite, []byte("Content-Length: 4"), []byte("Content-Length: 999999"), 1)
	if err := Parse(huge, false, &m); err != ErrNotSIP {
		t.Errorf("huge body: %v", err)
	}
}

func TestSniff(t *testing.T) {
	line := bytes.IndexByte(invite, '\n')
	for i := range line {
		if _, v := Sniff(invite[:i]); v != parsers.More {
			t.Fatalf("prefix %q: %v", invite[:i], v)
		}
	}
	for name, c := range map[string]struct {
		b    string
		want parsers.Verdict
	}{
		"invite":              {string(invite), parsers.Yes},
		"status":              {"SIP/2.0 180 Ringing\r\n", parsers.Yes},
		"http options":        {"OPTIONS * HTTP/1.1\r\n", parsers.No},
		"http options prefix": {"OPTIONS /x", parsers.No},
		"bad code":            {"SIP/2.0 2x0 OK\r\n", parsers.No},
		"bad version":         {"INVITE sip:a SIP/3.0\r\n", parsers.No},
		"http":                {"HTTP/1.1 200 OK\r\n", parsers.No},
	} {
		if _, v := Sniff([]byte(c.b)); v != c.want {
			t.Errorf("%s: %v, want %v", name, v, c.want)
		}
	}
}

// TCP: messages cut anywhere and glued together (with keep-alive CRLFs)
// come out whole, each once.
func TestConnEveryCut(t *testing.T) {
	stream := append(append(bytes.Clone(invite), "\r\n\r\n"...), invite...)
	for k := 1; k <= len(stream); k += 7 {
		var got []string
		c := NewConn(budget.New(1<<20).NewAccount(), func(_ parsers.Dir, m *Message, _ time.Time) { got = append(got, string(m.CallID)) })
		for b := stream; len(b) > 0; {
			n := min(k, len(b))
			if err := c.Data(parsers.ToServer, b[:n], time.Time{}); err != nil {
				t.Fatal(err)
			}
			b = b[n:]
		}
		c.End(time.Time{})
		if len(got) != 2 || got[0] != "a84b4c76e66710" {
			t.Fatalf("cut %d: %v", k, got)
		}
	}
}

func TestConnBounds(t *testing.T) {
	c := NewConn(budget.New(100).NewAccount(), func(parsers.Dir, *Message, time.Time) {})
	_ = c.Data(parsers.ToServer, invite[:50], time.Time{})
	_ = c.Data(parsers.ToServer, invite[50:], time.Time{})
	if !c.Limited {
		t.Error("budget refusal not marked")
	}
	c = NewConn(nil, func(parsers.Dir, *Message, time.Time) {})
	big := append([]byte("INVITE sip:a SIP/2.0\r\n"), bytes.Repeat([]byte("X-Pad: 0123456789\r\n"), 4000)...)
	_ = c.Data(parsers.ToServer, big, time.Time{})
	if c.Errors != 1 || len(c.buf[0].B) != 0 {
		t.Errorf("over-long headers: %d errors, %d bytes held", c.Errors, len(c.buf[0].B))
	}
}

func BenchmarkParse(b *testing.B) {
	var m Message
	b.SetBytes(int64(len(invite)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Parse(invite, true, &m); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(invite, byte(5))
	f.Add([]byte("SIP/2.0 200 OK\r\nl: 2\r\n\r\nab"), byte(1))
	f.Fuzz(func(t *testing.T, b []byte, k byte) {
		var m Message
		if Parse(b, true, &m) == nil && (m.Len > len(b) || m.Len < 0) {
			t.Fatalf("length %d of %d", m.Len, len(b))
		}
		n := 0
		c := NewConn(nil, func(parsers.Dir, *Message, time.Time) { n++ })
		step := int(k%32) + 1
		for len(b) > 0 {
			s := min(step, len(b))
			_ = c.Data(parsers.ToServer, b[:s], time.Time{})
			b = b[s:]
			if len(c.buf[0].B) > maxMessage {
				t.Fatalf("holding %d bytes", len(c.buf[0].B))
			}
		}
		c.End(time.Time{})
	})
}

// BenchmarkSniff judges the first bytes of a stream that is not SIP (an
// HTTP request, the usual case) and of one that is.
func BenchmarkSniff(b *testing.B) {
	for _, c := range []struct{ name, in string }{
		{"http", "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n\r\n"},
		{"sip", string(invite)},
	} {
		b.Run(c.name, func(b *testing.B) {
			in := []byte(c.in)
			b.ReportAllocs()
			for b.Loop() {
				Sniff(in)
			}
		})
	}
}
