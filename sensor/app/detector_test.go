package app

import (
	"bytes"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
)

// detect runs a fresh detector over the two directions' bytes, each cut
// into pieces of the given sizes (the rest in one piece), the first
// direction first, and returns what it decided and the most it held.
func detect(first parsers.Dir, a, b []byte, cuts []byte) (proto string, flip bool, held int) {
	return detectOn(nil, first, a, b, cuts)
}

func detectOn(acct *budget.Account, first parsers.Dir, a, b []byte, cuts []byte) (proto string, flip bool, held int) {
	an := New(Config{}, nil, func(*schemas.Event) {}, nil)
	an.UseBudget(acct)
	st := &state{a: an, f: &flow.Flow{}}
	st.det = detector{st: st, canFlip: true}
	dt := &st.det
	ts := time.Unix(0, 0)
	for i, data := range [][]byte{a, b} {
		d := first
		if i == 1 {
			d = first.Reverse()
		}
		for len(data) > 0 {
			n := len(data)
			if len(cuts) > 0 {
				n, cuts = min(n, int(cuts[0])+1), cuts[1:]
			}
			if dt.Data(d, data[:n], ts) != nil {
				break
			}
			held = max(held, len(dt.buf[0])+len(dt.buf[1]))
			data = data[n:]
		}
	}
	dt.End(ts)
	return dt.proto, dt.flip, held
}

func TestDetectorWaitsForEnoughBytes(t *testing.T) {
	hello := []byte{22, 3, 1, 0, 200, 1, 0, 0, 196, 3, 3}
	cases := []struct {
		name      string
		first     parsers.Dir
		a, b      string
		proto     string
		flip      bool
		cutsOfOne bool
	}{
		{"request one byte at a time", parsers.ToServer, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "", "http", false, true},
		{"hello one byte at a time", parsers.ToServer, string(hello), "", "tls", false, true},
		{"request from the responder", parsers.ToClient, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "", "http", true, true},
		{"status line from the originator", parsers.ToServer, "HTTP/1.1 200 OK\r\n\r\n", "", "http", true, false},
		{"hello from the responder", parsers.ToClient, string(hello), "", "tls", true, false},
		{"ssh both ways", parsers.ToServer, "SSH-2.0-OpenSSH_9.6\r\n", "SSH-2.0-OpenSSH_9.2\r\n", "ssh", false, false},
		// The server speaks first; roles are the SSH parser's to decide.
		{"ssh banner one byte at a time", parsers.ToClient, "SSH-2.0-OpenSSH_9.2\r\n", "", "ssh", false, true},
		{"ssh prefix then not", parsers.ToServer, "SSH-2.0", "", "", false, true},
		{"ssh-like word", parsers.ToServer, "SSH-to-you\r\n", "", "", false, false},
		{"too short to tell", parsers.ToServer, "GE", "", "", false, false},
		{"http answer after a banner", parsers.ToClient, "220 smtp ready\r\n", "GET / HTTP/1.1\r\n\r\n", "http", false, false},
		{"smtp greeting one byte at a time", parsers.ToClient, "220 mx.example ready\r\n", "EHLO a.example\r\n", "smtp", false, true},
		{"smtp greeting alone", parsers.ToClient, "220 mx.example ESMTP\r\n", "", "", false, false},
		{"smtp ehlo without greeting", parsers.ToServer, "EHLO a.example\r\n", "", "", false, false},
		{"ftp greeting one byte at a time", parsers.ToClient, "220 FTP Sandbox Ready.\r\n", "USER bob\r\n", "ftp", false, true},
		{"ftp auth tls", parsers.ToClient, "220 ready\r\n", "AUTH TLS\r\n", "ftp", false, false},
	}
	for _, c := range cases {
		var cuts []byte
		if c.cutsOfOne {
			cuts = make([]byte, len(c.a)) // pieces of one byte
		}
		proto, flip, _ := detect(c.first, []byte(c.a), []byte(c.b), cuts)
		if proto != c.proto || flip != c.flip {
			t.Errorf("%s: %q flip=%v, want %q flip=%v", c.name, proto, flip, c.proto, c.flip)
		}
	}
}

// The bytes held draw on the memory budget and go back to it once the
// protocol is decided; when the budget refuses, detection decides on what it
// holds instead of holding more.
func TestDetectorDrawsOnTheBudget(t *testing.T) {
	b := budget.New(1 << 30)
	acct := b.NewAccount()
	req := []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if proto, _, _ := detectOn(acct, parsers.ToServer, req, nil, make([]byte, len(req))); proto != "http" {
		t.Fatalf("detected %q", proto)
	}
	if used := b.Stats().Pools[budget.Parsers].Used; used != 0 {
		t.Errorf("%d bytes still reserved after the decision", used)
	}
	spent := budget.New(1) // smaller than an account's first chunk: refuses all
	if proto, _, held := detectOn(spent.NewAccount(), parsers.ToServer, req, nil, make([]byte, len(req))); proto != "" || held != 0 {
		t.Errorf("with the budget spent: detected %q holding %d bytes", proto, held)
	}
	if spent.Stats().Pools[budget.Parsers].Denied == 0 {
		t.Error("no refusal counted")
	}
}

// However the first bytes are cut, the detector decides the same, and it
// holds a bounded number of bytes.
func FuzzDetector(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\n\r\n"), []byte{0, 1, 2}, false)
	f.Add([]byte{22, 3, 1, 0, 200, 1, 0, 0, 196, 3, 3}, []byte{}, []byte{0, 0, 0, 0}, true)
	f.Add([]byte("SSH-2.0-x\r\n"), []byte("HTTP/1.0 404 x\r\n"), []byte{5}, true)
	f.Fuzz(func(t *testing.T, a, b, cuts []byte, responderFirst bool) {
		first := parsers.ToServer
		if responderFirst {
			first = parsers.ToClient
		}
		proto, flip, held := detect(first, a, b, cuts)
		if held > 2*detectCap+2*256 {
			t.Fatalf("held %d bytes", held)
		}
		if len(a) >= detectCap || len(b) >= detectCap || len(cuts) >= maxRuns/2 {
			return // the cut decides where the cap falls
		}
		wp, wf, _ := detect(first, a, b, nil)
		if proto != wp || flip != wf {
			t.Fatalf("cut %v: %q flip=%v; whole: %q flip=%v", cuts, proto, flip, wp, wf)
		}
	})
}

// A long one-way transfer the sniffers do not know holds neither its bytes
// nor a growing list of pieces while the other direction is silent; when
// that direction speaks, it is still judged.
func TestDetectorForgetsALongUnknownDirection(t *testing.T) {
	b := budget.New(1 << 30)
	an := New(Config{}, nil, func(*schemas.Event) {}, nil)
	an.UseBudget(b.NewAccount())
	st := &state{a: an, f: &flow.Flow{}}
	st.det = detector{st: st, canFlip: true}
	dt := &st.det
	ts := time.Unix(0, 0)
	junk := bytes.Repeat([]byte{0xee}, 100)
	for range 10000 {
		if err := dt.Data(parsers.ToClient, junk, ts); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(dt.buf[0]) + len(dt.buf[1]); n != 0 || len(dt.runs) > 3 || dt.parser != nil || dt.dead {
		t.Fatalf("holding %d bytes in %d pieces (parser %v, dead %v)", n, len(dt.runs), dt.parser, dt.dead)
	}
	if used := b.Stats().Pools[budget.Parsers].Used; used != 0 {
		t.Errorf("%d bytes reserved for nothing held", used)
	}
	if err := dt.Data(parsers.ToServer, []byte("GET / HTTP/1.1\r\n\r\n"), ts); err != nil {
		t.Fatal(err)
	}
	if dt.proto != "http" || dt.flip {
		t.Errorf("then a request: %q flip=%v", dt.proto, dt.flip)
	}
}
