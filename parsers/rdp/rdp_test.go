package rdp

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// run feeds the pieces alternately by direction (client first) and
// returns the session emitted, Switched's bytes and the error that
// stopped it.
func run(t *testing.T, acct *budget.Account, pieces ...[]byte) (*Session, [2][]byte, error) {
	t.Helper()
	var got *Session
	n := 0
	c := NewConn(acct, func(s *Session) { n++; cp := *s; got = &cp })
	var err error
	var sw [2][]byte
	for i, p := range pieces {
		if err = c.Data(parsers.Dir(i%2), p, time.Time{}); err != nil {
			break
		}
	}
	if err == ErrSwitched {
		sw = c.Switched()
		sw = [2][]byte{bytes.Clone(sw[0]), bytes.Clone(sw[1])}
	}
	c.End(time.Time{})
	if n != 1 {
		t.Fatalf("emitted %d times", n)
	}
	return got, sw, err
}

func TestTLSNegotiationSwitches(t *testing.T) {
	hello := pcapgen.ClientHello("rdp.example")
	// The server's confirm and its first TLS bytes in one segment.
	s, sw, err := run(t, nil, pcapgen.RDPRequest("alice", 0xb), append(pcapgen.RDPConfirm(2), 0x16, 3, 3))
	if err != ErrSwitched || !s.TLS || s.Cookie != "alice" || s.Requested != 0xb || s.Selected != 2 {
		t.Fatalf("%v %+v", err, s)
	}
	if !bytes.Equal(sw[parsers.ToClient], []byte{0x16, 3, 3}) || len(sw[parsers.ToServer]) != 0 {
		t.Errorf("switched bytes %q", sw)
	}
	// A client that sends its ClientHello before the confirm arrives: it is
	// held and handed over.
	_, sw, err = run(t, nil, append(pcapgen.RDPRequest("bob", 1), hello...), pcapgen.RDPConfirm(1))
	if err != ErrSwitched || !bytes.Equal(sw[parsers.ToServer], hello) {
		t.Errorf("%v, handed %d bytes", err, len(sw[parsers.ToServer]))
	}
	if got := ProtocolNames(0xb); len(got) != 3 || got[0] != "tls" || got[2] != "credssp_early_user_auth" {
		t.Errorf("names %v", got)
	}
	if ProtocolName(0) != "rdp" || ProtocolName(0x40) != "0x00000040" || FailureName(2) != "ssl_not_allowed_by_server" {
		t.Error(ProtocolName(0), ProtocolName(0x40), FailureName(2))
	}
}

func TestNegotiationFailure(t *testing.T) {
	fail := pcapgen.RDPConfirm(2)
	fail[11] = 3 // RDP_NEG_FAILURE, code 2
	s, _, err := run(t, nil, pcapgen.RDPRequest(`DOM\user`, 1), fail)
	if err != nil || !s.HasFailure || s.Failure != 2 || s.Cookie != `DOM\user` {
		t.Errorf("%v %+v", err, s)
	}
}

// mcs builds an X.224 data frame carrying the H.221 key and one GCC user
// data block, enough of an MCS Connect Initial/Response for the parser.
func mcs(key string, typ uint16, body []byte) []byte {
	blk := binary.LittleEndian.AppendUint16(nil, typ)
	blk = binary.LittleEndian.AppendUint16(blk, uint16(4+len(body)))
	blk = append(blk, body...)
	v := append([]byte{2, 0xf0, 0x80, 0x7f, 0x65}, key...)
	v = append(append(v, byte(len(blk))), blk...)
	n := 4 + len(v)
	return append([]byte{3, 0, byte(n >> 8), byte(n)}, v...)
}

func clientCore(name string, w, h uint16, build uint32) []byte {
	b := binary.LittleEndian.AppendUint32(nil, 0x00080004)
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	b = append(b, 0x01, 0xca, 0x03, 0xaa)          // color depth, SAS sequence
	b = binary.LittleEndian.AppendUint32(b, 1033)  // keyboard
	b = binary.LittleEndian.AppendUint32(b, build) // build
	var nm [32]byte
	for i, r := range name {
		binary.LittleEndian.PutUint16(nm[2*i:], uint16(r))
	}
	return append(b, nm[:]...)
}

// Standard RDP security: the client's MCS frame (split over segments)
// gives its name, build and screen; the server's its encryption.
func TestStandardSecurity(t *testing.T) {
	ci := mcs("Duca", 0xc001, clientCore("FROG-POND", 1152, 864, 6000))
	sr := mcs("McDn", 0x0c02, []byte{2, 0, 0, 0, 3, 0, 0, 0})
	s, _, err := run(t, budget.New(1<<20).NewAccount(), pcapgen.RDPRequest("u", 0), pcapgen.RDPConfirm(0), ci[:7], nil, ci[7:], sr)
	if err != nil || s.TLS || s.ClientName != "FROG-POND" || s.ClientBuild != 6000 || s.KeyboardLayout != 1033 ||
		s.DesktopWidth != 1152 || s.DesktopHeight != 864 || !s.HasEncryption || s.EncryptionMethod != 2 || s.EncryptionLvl != 3 {
		t.Errorf("%v %+v", err, s)
	}
}

// Hostile starts: never a Yes on a prefix, never on a frame whose parts
// disagree, and a budget that refuses stops the parser with a mark.
func TestSniff(t *testing.T) {
	req := pcapgen.RDPRequest("alice", 3)
	for i := range req {
		if v := Sniff(req[:i]); v != parsers.More {
			t.Fatalf("prefix of %d bytes: %v", i, v)
		}
	}
	if Sniff(req) != parsers.Yes {
		t.Fatal("whole request not recognised")
	}
	bad := func(f func(b []byte)) []byte { b := bytes.Clone(req); f(b); return b }
	for name, b := range map[string][]byte{
		"tls":          pcapgen.ClientHello("x"),
		"li mismatch":  bad(func(b []byte) { b[4]++ }),
		"confirm":      pcapgen.RDPConfirm(1),
		"dst ref":      bad(func(b []byte) { b[6] = 1 }),
		"no crlf":      bad(func(b []byte) { b[len(b)-9] = 'x' }),
		"neg req type": bad(func(b []byte) { b[len(b)-8] = 2 }),
		"http":         []byte("GET / HTTP/1.1\r\n\r\n"),
	} {
		if v := Sniff(b); v != parsers.No {
			t.Errorf("%s: %v", name, v)
		}
	}
	// A request longer than maxRequest is not held for.
	if Sniff([]byte{3, 0, 0x10, 0, 0xfb, 0xe0}) != parsers.No {
		t.Error("4096-byte request accepted")
	}
}

func TestBudgetRefused(t *testing.T) {
	acct := budget.New(1).NewAccount()
	req := pcapgen.RDPRequest("alice", 3)
	s, _, _ := run(t, acct, req[:5], nil, req[5:])
	if !s.MemoryLimited {
		t.Errorf("%+v", s)
	}
}

func BenchmarkConn(b *testing.B) {
	req, conf := pcapgen.RDPRequest("alice", 3), append(pcapgen.RDPConfirm(2), 0x16, 3, 3)
	b.SetBytes(int64(len(req) + len(conf)))
	b.ReportAllocs()
	for b.Loop() {
		c := NewConn(nil, func(*Session) {})
		_ = c.Data(parsers.ToServer, req, time.Time{})
		if c.Data(parsers.ToClient, conf, time.Time{}) == ErrSwitched {
			c.Switched()
		}
		c.End(time.Time{})
	}
}

// FuzzConn: no panic, exactly one emission, bounded holding, whatever the
// bytes and however they are cut.
func FuzzConn(f *testing.F) {
	ci := mcs("Duca", 0xc001, clientCore("X", 800, 600, 1))
	f.Add([]byte{0}, append(pcapgen.RDPRequest("a", 0), ci...), pcapgen.RDPConfirm(0))
	f.Add([]byte{3}, pcapgen.RDPRequest("a", 3), pcapgen.RDPConfirm(2))
	f.Fuzz(func(t *testing.T, step []byte, cl, sv []byte) {
		k := 1
		if len(step) > 0 {
			k = int(step[0]%32) + 1
		}
		n := 0
		c := NewConn(nil, func(*Session) { n++ })
		var err error
		for (len(cl) > 0 || len(sv) > 0) && err == nil {
			for d, b := range []*[]byte{&cl, &sv} {
				m := min(k, len(*b))
				if m > 0 && err == nil {
					err = c.Data(parsers.Dir(d), (*b)[:m], time.Time{})
					*b = (*b)[m:]
				}
			}
			for _, s := range c.s {
				if cap(s.buf) > 2*maxFrame || cap(s.rest) > 2*maxFrame {
					t.Fatalf("holding %d/%d bytes", cap(s.buf), cap(s.rest))
				}
			}
		}
		if err == ErrSwitched {
			c.Switched()
		}
		c.End(time.Time{})
		if n != 1 {
			t.Fatalf("emitted %d times", n)
		}
	})
}

// However the two streams are cut, the session is the same.
func TestEveryCut(t *testing.T) {
	cl := append(pcapgen.RDPRequest("u", 0), mcs("Duca", 0xc001, clientCore("FROG-POND", 1152, 864, 6000))...)
	sv := append(pcapgen.RDPConfirm(0), mcs("McDn", 0x0c02, []byte{2, 0, 0, 0, 3, 0, 0, 0})...)
	for k := 1; k <= len(sv); k++ {
		var got *Session
		c := NewConn(nil, func(s *Session) { cp := *s; got = &cp })
		// The request goes first, as the server answers it.
		req := len(pcapgen.RDPRequest("u", 0))
		for i := 0; i < req; i += k {
			if err := c.Data(parsers.ToServer, cl[i:min(i+k, req)], time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		a, b := cl[req:], sv
		for len(a) > 0 || len(b) > 0 {
			for d, p := range []*[]byte{&a, &b} {
				m := min(k, len(*p))
				if err := c.Data(parsers.Dir(d), (*p)[:m], time.Time{}); err != nil {
					t.Fatalf("cut %d: %v", k, err)
				}
				*p = (*p)[m:]
			}
		}
		c.End(time.Time{})
		if got == nil || got.ClientName != "FROG-POND" || got.EncryptionLvl != 3 || !got.Confirmed {
			t.Fatalf("cut %d: %+v", k, got)
		}
	}
}
