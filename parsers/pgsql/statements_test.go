package pgsql

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/parsers/sqlverb"
)

// session is a login, then a simple query, a COPY whose data (past what
// is held) is skipped, an extended-protocol batch (Parse of a DELETE,
// Bind, Execute, Sync) and a multi-statement query (each statement counted).
func session() []msg {
	copyData := pcapgen.PgMessage('d', bytes.Repeat([]byte("secret\t1\n"), 2000))
	bind := pcapgen.PgMessage('B', []byte("s1\x00s1\x00\x00\x00\x00\x01\x00\x00\x00\x06secret\x00\x00"))
	return []msg{
		{D: parsers.ToServer, B: startup}, {D: parsers.ToClient, B: pcapgen.PgAuth(5, 1, 2, 3, 4)},
		{D: parsers.ToServer, B: pcapgen.PgMessage('p', []byte("md5secret\x00"))}, {D: parsers.ToClient, B: ok},
		{D: parsers.ToServer, B: pcapgen.PgQuery("select * from rules where sid = 2021701;")},
		{D: parsers.ToClient, B: pcapgen.PgMessage('C', []byte("SELECT 1\x00"))},
		{D: parsers.ToServer, B: pcapgen.PgQuery("COPY t FROM STDIN")},
		{D: parsers.ToServer, B: copyData},
		{D: parsers.ToServer, B: pcapgen.PgMessage('c', nil)},
		{D: parsers.ToServer, B: append(append(append(pcapgen.PgParse("s1", "  DELETE FROM t WHERE id = $1"), bind...),
			pcapgen.PgMessage('E', []byte("s1\x00\x00\x00\x00\x00"))...), pcapgen.PgMessage('S', nil)...)},
		{D: parsers.ToServer, B: pcapgen.PgQuery("BEGIN; DROP TABLE audit; COMMIT")},
		{D: parsers.ToServer, B: pcapgen.PgMessage('X', nil)},
	}
}

func feed(k int, msgs []msg) (logins int, counts *sqlverb.Counts) {
	c := NewConn(nil, func(*Login) { logins++ })
	c.OnStatements(func(_ *Login, s *sqlverb.Counts) { cp := *s; counts = &cp })
	for _, m := range msgs {
		for b := m.B; len(b) > 0; {
			p := min(k, len(b))
			_ = c.Data(m.D, b[:p], time.Time{})
			b = b[p:]
		}
	}
	c.End(time.Time{})
	return
}

func TestStatementsEveryCut(t *testing.T) {
	for _, k := range []int{1, 2, 4, 5, 6, 9, 100, 512, 1500, 1 << 20} {
		logins, c := feed(k, session())
		var got []string
		if c != nil {
			c.Each(func(v string, n int) { got = append(got, v+"="+string(rune('0'+n))) })
		}
		if logins != 1 || c == nil || strings.Join(got, ",") != "SELECT=1,COPY=1,DELETE=1,BEGIN=1,DROP=1,COMMIT=1" || c.Total != 6 || c.Stopped || c.Unsplit != 0 {
			t.Fatalf("cut %d: %d logins, %v %+v", k, logins, got, c)
		}
	}
}

func TestStatementsOnlyAfterSuccess(t *testing.T) {
	msgs := session()
	msgs[3].B = pcapgen.PgError("28P01", "bad password")
	if logins, c := feed(1500, msgs); logins != 1 || c != nil {
		t.Errorf("%d %+v", logins, c)
	}
}

// A message whose length field is impossible stops the counting.
func TestStatementsBadFrame(t *testing.T) {
	msgs := append(session()[:5], msg{D: parsers.ToServer, B: []byte{'Q', 0, 0, 0, 2}}, msg{D: parsers.ToServer, B: pcapgen.PgQuery("DROP TABLE t")})
	_, c := feed(1500, msgs)
	if c == nil || c.Total != 1 || !c.Stopped || c.Count("DROP") != 0 {
		t.Errorf("%+v", c)
	}
}

func BenchmarkStatements(b *testing.B) {
	q := pcapgen.PgQuery("/* controller=orders */ SELECT id, total FROM orders WHERE customer_id = 42")
	c := NewConn(nil, func(*Login) {})
	c.OnStatements(func(*Login, *sqlverb.Counts) {})
	_ = c.Data(parsers.ToServer, startup, time.Time{})
	_ = c.Data(parsers.ToClient, ok, time.Time{})
	b.SetBytes(int64(len(q)))
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Data(parsers.ToServer, q, time.Time{})
	}
}

// A word cut by the end of the bytes held is not guessed, after a Parse's
// statement name too: the held start of "EXECUTE" reads as the verb EXEC.
func TestStatementsCutWord(t *testing.T) {
	text := "/*" + strings.Repeat(" ", sqlverb.Prefix-3-2-2-4) + "*/EXECUTE s"
	_, c := feed(1<<20, append(session()[:4], msg{D: parsers.ToServer, B: pcapgen.PgParse("s1", text)}))
	if c == nil || c.Total != 1 || c.Count(sqlverb.Unknown) != 1 {
		t.Fatalf("%+v", c)
	}
}
