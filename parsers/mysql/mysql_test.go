package mysql

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
	greeting = pcapgen.MySQLGreeting("8.0.36", "caching_sha2_password")
	response = pcapgen.MySQLLoginResponse("admin", "shop", "mysql_native_password", "libmysql")
)

func TestLoginEveryCut(t *testing.T) {
	for k := 1; k <= len(response); k++ {
		l, err := run(t, nil, k, msg{D: parsers.ToClient, B: greeting}, msg{D: parsers.ToServer, B: response},
			msg{D: parsers.ToClient, B: pcapgen.MySQLError(2, 1045, "28000", "Access denied")})
		if err != nil || l.ServerVersion != "8.0.36" || l.User != "admin" || l.Database != "shop" || l.Client != "libmysql" ||
			l.ClientPlugin != "mysql_native_password" || l.ServerPlugin != "caching_sha2_password" ||
			l.Result != "failure" || l.ErrorCode != 1045 || l.SQLState != "28000" || l.ErrorMessage != "Access denied" {
			t.Fatalf("cut %d: %v %+v", k, err, l)
		}
	}
}

func TestAuthSwitchThenOK(t *testing.T) {
	sw := []byte{4, 0, 0, 2, 0xfe, 'x', 0, 1} // auth switch to plugin "x"
	sw[0] = byte(len(sw) - 4)
	l, err := run(t, nil, 1500, msg{D: parsers.ToClient, B: greeting}, msg{D: parsers.ToServer, B: response},
		msg{D: parsers.ToClient, B: sw}, msg{D: parsers.ToServer, B: []byte{1, 0, 0, 3, 0}}, msg{D: parsers.ToClient, B: pcapgen.MySQLOK(4)})
	if err != nil || l.SwitchPlugin != "x" || l.Result != "success" {
		t.Errorf("%v %+v", err, l)
	}
}

func TestSSLRequestSwitches(t *testing.T) {
	hello := pcapgen.ClientHello("db.example")
	var sw [2][]byte
	c := NewConn(nil, func(*Login) {})
	_ = c.Data(parsers.ToClient, greeting, time.Time{})
	err := c.Data(parsers.ToServer, append(pcapgen.MySQLSSLRequest(), hello...), time.Time{})
	if err == ErrSwitched {
		sw = c.Switched()
	}
	if err != ErrSwitched || !bytes.Equal(sw[parsers.ToServer], hello) || !c.login.TLS {
		t.Errorf("%v, %d bytes handed over", err, len(sw[parsers.ToServer]))
	}
}

// The password hash in the response is never in the login.
func TestNoSecret(t *testing.T) {
	r := bytes.Clone(response)
	i := bytes.Index(r, []byte("admin\x00")) + 7
	copy(r[i:i+20], "SECRETHASHSECRETHASH")
	l, _ := run(t, nil, 1500, msg{D: parsers.ToClient, B: greeting}, msg{D: parsers.ToServer, B: r})
	if bytes.Contains([]byte(l.User+l.Database+l.Client+l.ClientPlugin), []byte("SECRET")) || l.User != "admin" {
		t.Errorf("%+v", l)
	}
}

func TestSniff(t *testing.T) {
	for i := range greeting {
		if v := Sniff(greeting[:i]); v != parsers.More {
			t.Fatalf("prefix %d: %v", i, v)
		}
	}
	if Sniff(greeting) != parsers.Yes {
		t.Fatal("greeting not recognised")
	}
	bad := func(i int, c byte) []byte { b := bytes.Clone(greeting); b[i] = c; return b }
	for name, b := range map[string][]byte{
		"seq 1":        bad(3, 1),
		"protocol 9":   bad(4, 9),
		"control char": bad(6, 1),
		"no filler":    bad(4+1+6+1+4+8, 1),
		"http":         []byte("HTTP/1.1 200 OK\r\n\r\n"),
		"client first": response,
	} {
		if v := Sniff(b); v != parsers.No {
			t.Errorf("%s: %v", name, v)
		}
	}
}

func TestHostile(t *testing.T) {
	// A packet longer than maxPacket stops the parser.
	l, err := run(t, nil, 1500, msg{D: parsers.ToClient, B: greeting}, msg{D: parsers.ToServer, B: []byte{0xff, 0xff, 0xff, 1}})
	if err != ErrNotMySQL || len(l.Notes) == 0 {
		t.Errorf("%v %+v", err, l)
	}
	// A budget that refuses a split packet is marked, not fatal.
	l, err = run(t, budget.New(1).NewAccount(), 3, msg{D: parsers.ToClient, B: greeting})
	if err != nil || !l.Limited {
		t.Errorf("%v %+v", err, l)
	}
	// A response shorter than its fixed part.
	if _, err := run(t, nil, 1500, msg{D: parsers.ToClient, B: greeting}, msg{D: parsers.ToServer, B: []byte{2, 0, 0, 1, 0, 0}}); err != ErrNotMySQL {
		t.Errorf("short response: %v", err)
	}
}

func BenchmarkLogin(b *testing.B) {
	ok := pcapgen.MySQLOK(2)
	b.SetBytes(int64(len(greeting) + len(response) + len(ok)))
	b.ReportAllocs()
	for b.Loop() {
		c := NewConn(nil, func(*Login) {})
		_ = c.Data(parsers.ToClient, greeting, time.Time{})
		_ = c.Data(parsers.ToServer, response, time.Time{})
		_ = c.Data(parsers.ToClient, ok, time.Time{})
	}
}

func FuzzConn(f *testing.F) {
	f.Add(byte(3), greeting, response)
	f.Add(byte(200), greeting, pcapgen.MySQLSSLRequest())
	f.Add(byte(5), append(greeting, pcapgen.MySQLOK(2)...), append(bytes.Clone(response), pcapgen.MySQLCommand(comQuery, "/*!4 DROP x")...))
	f.Add(byte(9), append(greeting, pcapgen.MySQLOK(2)...), append(bytes.Clone(response), pcapgen.MySQLCommand(comQuery, "BEGIN; DROP TABLE `a;` /*!; KILL 1*/; COMMIT")...))
	f.Fuzz(func(t *testing.T, k byte, sv, cl []byte) {
		step := int(k%64) + 1
		var stmts *sqlverb.Counts
		l, _ := parsertest.Run(t, func(emit func(*Login)) parsers.StreamParser {
			c := NewConn(nil, emit)
			c.OnStatements(func(_ *Login, s *sqlverb.Counts) { stmts = s })
			return c
		}, step, msg{D: parsers.ToClient, B: sv}, msg{D: parsers.ToServer, B: cl}, msg{D: parsers.ToClient, B: sv}, msg{D: parsers.ToServer, B: cl})
		if len(l.ErrorMessage) > 256 || len(l.User) > 256 || len(l.Notes) > 8 {
			t.Fatalf("unbounded: %+v", l)
		}
		if stmts != nil && (len(stmts.Databases) > 8 || stmts.Total > len(cl)) {
			t.Fatalf("unbounded statements: %+v", stmts)
		}
	})
}
