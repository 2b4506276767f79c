package pgsql

import (
	"bytes"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/internal/parsertest"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/parsers/sqlverb"
)

func run(t testing.TB, acct *budget.Account, k int, msgs ...msg) (*Login, error) {
	return parsertest.Run(t, func(emit func(*Login)) parsers.StreamParser { return NewConn(acct, emit) }, k, msgs...)
}

type msg = parsertest.Msg

var (
	startup = pcapgen.PgStartup("user", "alice", "database", "shop", "application_name", "psql")
	sasl    = pcapgen.PgAuth(10, []byte("SCRAM-SHA-256-PLUS\x00SCRAM-SHA-256\x00\x00")...)
	ok      = append(append(pcapgen.PgAuth(0), pcapgen.PgMessage('S', []byte("server_version\x0016.2\x00"))...), pcapgen.PgMessage('Z', []byte{'I'})...)
)

func TestLoginEveryCut(t *testing.T) {
	for k := 1; k <= len(startup); k++ {
		l, err := run(t, nil, k, msg{D: parsers.ToServer, B: pcapgen.PgSSLRequest()}, msg{D: parsers.ToClient, B: []byte{'N'}},
			msg{D: parsers.ToServer, B: startup}, msg{D: parsers.ToClient, B: sasl},
			msg{D: parsers.ToServer, B: pcapgen.PgMessage('p', []byte("SCRAM-SHA-256\x00secret"))},
			msg{D: parsers.ToClient, B: pcapgen.PgAuth(12)}, msg{D: parsers.ToClient, B: ok})
		if err != nil || l.User != "alice" || l.Database != "shop" || l.Application != "psql" || !l.SSLRequested ||
			l.Result != "success" || l.ServerVersion != "16.2" || len(l.AuthMethods) != 2 || l.AuthMethods[1] != "SCRAM-SHA-256" {
			t.Fatalf("cut %d: %v %+v", k, err, l)
		}
	}
}

func TestFailure(t *testing.T) {
	l, err := run(t, nil, 1500, msg{D: parsers.ToServer, B: startup}, msg{D: parsers.ToClient, B: pcapgen.PgAuth(5, 1, 2, 3, 4)},
		msg{D: parsers.ToServer, B: pcapgen.PgMessage('p', []byte("md5secret\x00"))}, msg{D: parsers.ToClient, B: pcapgen.PgError("28P01", "bad password")})
	if err != nil || l.Result != "failure" || l.SQLState != "28P01" || l.ErrorMessage != "bad password" || l.Severity != "FATAL" || l.AuthMethods[0] != "md5" {
		t.Errorf("%v %+v", err, l)
	}
}

func TestSSLAcceptedSwitches(t *testing.T) {
	c := NewConn(nil, func(*Login) {})
	_ = c.Data(parsers.ToServer, pcapgen.PgSSLRequest(), time.Time{})
	err := c.Data(parsers.ToClient, []byte{'S', 0x16, 3}, time.Time{})
	if err != ErrSwitched || !bytes.Equal(c.Switched()[parsers.ToClient], []byte{0x16, 3}) {
		t.Errorf("%v", err)
	}
}

func TestSniff(t *testing.T) {
	for i := range startup {
		if v := Sniff(startup[:i]); v != parsers.More {
			t.Fatalf("prefix %d: %v", i, v)
		}
	}
	if Sniff(startup) != parsers.Yes || Sniff(pcapgen.PgSSLRequest()) != parsers.Yes {
		t.Fatal("start not recognised")
	}
	bad := func(i int, c byte) []byte { b := bytes.Clone(startup); b[i] = c; return b }
	for name, b := range map[string][]byte{
		"protocol 2":   bad(5, 2),
		"control char": bad(9, 1),
		"no end":       bad(len(startup)-1, 'x'),
		"ssl length":   {0, 0, 0, 9, 0x04, 0xd2, 0x16, 0x2f, 0},
		"tls":          pcapgen.ClientHello("x"),
		"server":       ok,
	} {
		if v := Sniff(b); v != parsers.No {
			t.Errorf("%s: %v", name, v)
		}
	}
}

func TestHostile(t *testing.T) {
	if _, err := run(t, nil, 1500, msg{D: parsers.ToServer, B: startup}, msg{D: parsers.ToClient, B: []byte{'R', 0x7f, 0, 0, 0}}); err != ErrNotPgSQL {
		t.Errorf("huge message: %v", err)
	}
	if _, err := run(t, nil, 1500, msg{D: parsers.ToServer, B: pcapgen.PgSSLRequest()}, msg{D: parsers.ToClient, B: []byte{'X'}}); err != ErrNotPgSQL {
		t.Errorf("bad SSL answer: %v", err)
	}
	l, err := run(t, budget.New(1).NewAccount(), 3, msg{D: parsers.ToServer, B: startup})
	if err != nil || !l.Limited {
		t.Errorf("%v %+v", err, l)
	}
}

func BenchmarkLogin(b *testing.B) {
	md5 := pcapgen.PgAuth(5, 1, 2, 3, 4)
	b.SetBytes(int64(len(startup) + len(md5) + len(ok)))
	b.ReportAllocs()
	for b.Loop() {
		c := NewConn(nil, func(*Login) {})
		_ = c.Data(parsers.ToServer, startup, time.Time{})
		_ = c.Data(parsers.ToClient, md5, time.Time{})
		_ = c.Data(parsers.ToClient, ok, time.Time{})
	}
}

func FuzzConn(f *testing.F) {
	f.Add(byte(3), startup, append(sasl, ok...))
	f.Add(byte(200), pcapgen.PgSSLRequest(), []byte("N"))
	f.Add(byte(7), startup, append(bytes.Clone(ok), pcapgen.PgQuery("/* x */ drop table t")...))
	f.Add(byte(11), startup, append(bytes.Clone(ok), pcapgen.PgQuery("begin; do $f$ select 1; $f$; drop table t; commit")...))
	f.Fuzz(func(t *testing.T, k byte, cl, sv []byte) {
		var stmts *sqlverb.Counts
		l, _ := parsertest.Run(t, func(emit func(*Login)) parsers.StreamParser {
			c := NewConn(nil, emit)
			c.OnStatements(func(_ *Login, s *sqlverb.Counts) { stmts = s })
			return c
		}, int(k%64)+1, msg{D: parsers.ToServer, B: cl}, msg{D: parsers.ToClient, B: sv}, msg{D: parsers.ToServer, B: cl}, msg{D: parsers.ToClient, B: sv})
		if len(l.ErrorMessage) > 256 || len(l.AuthMethods) > 8 || len(l.Notes) > 8 {
			t.Fatalf("unbounded: %+v", l)
		}
		if stmts != nil && stmts.Total > len(cl) {
			t.Fatalf("unbounded statements: %+v", stmts)
		}
	})
}
