package mysql

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/parsers/sqlverb"
)

// session is a login, then commands: a big INSERT (past what is held), a
// LOAD DATA LOCAL whose file the client sends as packets of sequence 2
// and on (not commands), a prepared DROP, a switch of database, a ping.
func session() []parsertestMsg {
	bigInsert := pcapgen.MySQLCommand(comQuery, "INSERT INTO t VALUES ('"+strings.Repeat("secret", 3000)+"')")
	file := append(append([]byte{5, 0, 0, 2}, "a,b\nc"...), 0, 0, 0, 3)
	return []parsertestMsg{
		{parsers.ToClient, greeting}, {parsers.ToServer, response}, {parsers.ToClient, pcapgen.MySQLOK(2)},
		{parsers.ToServer, pcapgen.MySQLCommand(comQuery, "/* ui */ select * from users where name = 'x'")},
		{parsers.ToClient, pcapgen.MySQLOK(1)},
		{parsers.ToServer, bigInsert},
		{parsers.ToServer, pcapgen.MySQLCommand(comQuery, "LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE t")},
		{parsers.ToServer, file},
		{parsers.ToServer, pcapgen.MySQLCommand(comStmtPrepare, "DROP TABLE audit")},
		{parsers.ToServer, pcapgen.MySQLCommand(comInitDB, "billing")},
		{parsers.ToServer, pcapgen.MySQLCommand(0x0e, "")}, // COM_PING
		{parsers.ToServer, pcapgen.MySQLCommand(comQuery, "SELECT 1")},
	}
}

type parsertestMsg struct {
	d parsers.Dir
	b []byte
}

func feed(k int, msgs []parsertestMsg) (logins int, counts *sqlverb.Counts) {
	c := NewConn(nil, func(*Login) { logins++ })
	c.OnStatements(func(_ *Login, s *sqlverb.Counts) { cp := *s; counts = &cp })
	for _, m := range msgs {
		for b := m.b; len(b) > 0; {
			p := min(k, len(b))
			_ = c.Data(m.d, b[:p], time.Time{})
			b = b[p:]
		}
	}
	c.End(time.Time{})
	return
}

func verbs(c *sqlverb.Counts) string {
	var s []string
	c.Each(func(v string, n int) { s = append(s, v+"="+string(rune('0'+n))) })
	return strings.Join(s, ",")
}

func TestStatementsEveryCut(t *testing.T) {
	for _, k := range []int{1, 2, 3, 5, 7, 64, 511, 512, 513, 1500, 1 << 20} {
		logins, c := feed(k, session())
		if logins != 1 || c == nil || verbs(c) != "SELECT=2,INSERT=1,LOAD=1,DROP=1" || c.Total != 5 ||
			len(c.Databases) != 1 || c.Databases[0] != "billing" || c.Stopped {
			t.Fatalf("cut %d: %d logins, %+v", k, logins, c)
		}
	}
}

// Without OnStatements, or after a failed login, nothing is read after the login.
func TestStatementsOnlyAfterSuccess(t *testing.T) {
	msgs := session()
	msgs[2].b = pcapgen.MySQLError(2, 1045, "28000", "Access denied")
	if logins, c := feed(1500, msgs); logins != 1 || c != nil {
		t.Errorf("%d %+v", logins, c)
	}
}

// A gap in the client's stream stops the counting; what was counted is kept.
func TestStatementsGap(t *testing.T) {
	var got *sqlverb.Counts
	c := NewConn(nil, func(*Login) {})
	c.OnStatements(func(_ *Login, s *sqlverb.Counts) { got = s })
	for _, m := range session()[:4] {
		_ = c.Data(m.d, m.b, time.Time{})
	}
	c.Gap(parsers.ToServer, 100, time.Time{})
	_ = c.Data(parsers.ToServer, pcapgen.MySQLCommand(comQuery, "DROP TABLE x"), time.Time{})
	c.End(time.Time{})
	if got == nil || got.Total != 1 || !got.Stopped || got.Count("DROP") != 0 {
		t.Errorf("%+v", got)
	}
}

// Statement text never reaches what the parser hands out.
func TestStatementsNoValues(t *testing.T) {
	_, c := feed(1500, session())
	var all bytes.Buffer
	c.Each(func(v string, _ int) { all.WriteString(v) })
	for _, d := range c.Databases {
		all.WriteString(d)
	}
	if bytes.Contains(all.Bytes(), []byte("secret")) || bytes.Contains(all.Bytes(), []byte("passwd")) || bytes.Contains(all.Bytes(), []byte("users")) {
		t.Errorf("%q", all.String())
	}
}

func BenchmarkStatements(b *testing.B) {
	q := pcapgen.MySQLCommand(comQuery, "/* controller=orders */ SELECT id, total FROM orders WHERE customer_id = 42")
	c := NewConn(nil, func(*Login) {})
	c.OnStatements(func(*Login, *sqlverb.Counts) {})
	_ = c.Data(parsers.ToClient, greeting, time.Time{})
	_ = c.Data(parsers.ToServer, response, time.Time{})
	_ = c.Data(parsers.ToClient, pcapgen.MySQLOK(2), time.Time{})
	b.SetBytes(int64(len(q)))
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Data(parsers.ToServer, q, time.Time{})
	}
}

// A memory budget that refuses the counting says so at the end.
func TestStatementsBudget(t *testing.T) {
	var got *sqlverb.Counts
	b := budget.New(1)
	c := NewConn(b.NewAccount(), func(*Login) {})
	c.OnStatements(func(_ *Login, s *sqlverb.Counts) { got = s })
	for _, m := range session() {
		_ = c.Data(m.d, m.b, time.Time{})
	}
	c.End(time.Time{})
	if got == nil || !got.Limited || got.Total != 0 {
		t.Errorf("%+v", got)
	}
	// and a budget that pays for it gets it back at the end.
	b = budget.New(1 << 20)
	c = NewConn(b.NewAccount(), func(*Login) {})
	c.OnStatements(func(_ *Login, s *sqlverb.Counts) { got = s })
	for _, m := range session() {
		_ = c.Data(m.d, m.b, time.Time{})
	}
	c.End(time.Time{})
	if got.Limited || got.Total != 5 || b.Stats().Used != 0 {
		t.Errorf("%+v %+v", got, b.Stats())
	}
}

// A word cut by the end of the bytes held is not guessed: the held start
// of "EXECUTE" reads as the verb EXEC.
func TestStatementsCutWord(t *testing.T) {
	text := "/*" + strings.Repeat(" ", sqlverb.Prefix-1-2-2-4) + "*/EXECUTE s"
	_, c := feed(1<<20, append(session()[:3], parsertestMsg{parsers.ToServer, pcapgen.MySQLCommand(comQuery, text)}))
	if c == nil || verbs(c) != "UNKNOWN=1" {
		t.Fatalf("%+v", c)
	}
}
