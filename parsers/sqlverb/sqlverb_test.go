package sqlverb

import (
	"bytes"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/budget"
)

func TestOf(t *testing.T) {
	for _, c := range []struct {
		q    string
		hash bool
		want string
	}{
		{"select 1", false, "SELECT"},
		{"  \n\tSeLeCt now()", false, "SELECT"},
		{"(SELECT 1) UNION (SELECT 2)", false, "SELECT"},
		{"/* app=shop */ DELETE FROM t", false, "DELETE"},
		{"-- why\nDROP TABLE t", false, "DROP"},
		{"# note\nGRANT ALL ON *.* TO x", true, "GRANT"},
		{"# not a comment in PostgreSQL\nGRANT", false, Other},
		{"/*!40101 SET NAMES utf8 */", true, "SET"},
		{"/*!DROP TABLE t*/", true, "DROP"},
		{"/*!40101 SET x=1 */ -- x", false, Unknown},
		{"LOAD DATA LOCAL INFILE 'x'", true, "LOAD"},
		{"copy t from stdin", false, "COPY"},
		{"with x as (select 1) delete from t", false, "WITH"},
		{"frobnicate the table", false, Other},
		{"SELECTED", false, Other},
		{"ABCDEFGHIJKLMNOP", false, Other},
		{"123", false, Other},
		{"", false, Unknown},
		{"/* never closed", false, Unknown},
		// PostgreSQL nests block comments, MySQL does not: the verb is
		// the one each server runs.
		{"/* /* */ SELECT */ DROP TABLE t", false, "DROP"},
		{"/* /* */ SELECT */ DROP TABLE t", true, "SELECT"},
		{"/*/ DROP */ SELECT", false, "SELECT"},
		{"/* a /* b /* c */ */ */ GRANT ALL", false, "GRANT"},
		{"/* a /* b */", false, Unknown},
		{";;  ", false, Unknown},
		{"show_tables", false, Other},
	} {
		if got := Of([]byte(c.q), c.hash); got != c.want {
			t.Errorf("%q: %s, want %s", c.q, got, c.want)
		}
	}
	// A word cut by the end of the bytes held is not guessed.
	q := []byte(strings.Repeat(" ", Prefix-3) + "DROP")[:Prefix]
	if got := Of(q, false); got != Unknown {
		t.Errorf("cut word: %s", got)
	}
}

// Counting allocates nothing: verbs are constants.
func TestCountsAllocs(t *testing.T) {
	var c Counts
	q := []byte("/* x */ select * from t where a = 'secret'")
	if n := testing.AllocsPerRun(100, func() { c.Add(q, true, false) }); n != 0 {
		t.Errorf("%v allocs per statement", n)
	}
	var got []string
	c.Add([]byte("drop table x"), true, false)
	c.Each(func(v string, n int) { got = append(got, v+":"+string(rune('0'+min(n, 9)))) })
	if strings.Join(got, ",") != "SELECT:9,DROP:1" || c.Total != 102 || c.Count("SELECT") != 101 || c.Count("secret") != 0 {
		t.Errorf("%v total %d", got, c.Total)
	}
}

func TestDatabasesBounded(t *testing.T) {
	var c Counts
	for i := range 20 {
		c.UseDatabase([]byte{'d', byte('a' + i)})
		c.UseDatabase([]byte{'d', byte('a' + i)})
	}
	c.UseDatabase(bytes.Repeat([]byte{'x'}, 1000))
	if len(c.Databases) != maxDatabases || c.MoreDBs != 25 || c.Databases[1] != "db" {
		t.Errorf("%v %d", c.Databases, c.MoreDBs)
	}
}

// The reader gives each message's header and first bytes whatever the
// cuts, and skips what is past Prefix without holding it.
func TestReaderEveryCut(t *testing.T) {
	msg := func(typ byte, body []byte) []byte {
		return append([]byte{typ, byte(len(body) >> 8), byte(len(body))}, body...)
	}
	big := bytes.Repeat([]byte("v"), 5000)
	stream := append(append(append(msg('A', []byte("one")), msg('B', big)...), msg('C', nil)...), msg('D', []byte("four"))...)
	length := func(h []byte) (int, error) { return int(h[1])<<8 | int(h[2]), nil }
	for k := 1; k <= 600; k++ {
		var r Reader
		var got []string
		for b := stream; len(b) > 0; {
			p := min(k, len(b))
			_ = r.Feed(b[:p], 3, length, func(h []byte, n int, pre []byte) {
				got = append(got, string(h[0])+string(pre[:min(len(pre), 4)])+":"+strings.Repeat("+", min(n/1000, 9)))
			})
			b = b[p:]
		}
		if strings.Join(got, ",") != "Aone:,Bvvvv:+++++,C:,Dfour:" {
			t.Fatalf("cut %d: %v", k, got)
		}
	}
}

func BenchmarkCount(b *testing.B) {
	q := []byte("/* controller=orders */ SELECT id, total FROM orders WHERE customer_id = 42")
	var c Counts
	b.SetBytes(int64(len(q)))
	b.ReportAllocs()
	for b.Loop() {
		c.Add(q, true, false)
	}
}

// Every statement of a text is counted, split where the server splits it:
// not at a semicolon inside a string, a quoted name, a comment or a
// dollar quote, and a MySQL executable comment is code.
func TestAddQuerySplits(t *testing.T) {
	for _, c := range []struct {
		q       string
		mysql   bool
		want    string
		unsplit int
	}{
		{"BEGIN; DROP TABLE audit; COMMIT", false, "BEGIN,DROP,COMMIT", 0},
		{"BEGIN; DROP TABLE audit; COMMIT", true, "BEGIN,DROP,COMMIT", 0},
		{"select 1;", false, "SELECT", 0},
		{"select 1; ;; -- end\n", true, "SELECT", 0},
		{"", false, "UNKNOWN", 0},
		{"select ';drop'; grant all", false, "SELECT,GRANT", 0},
		{`select "a;b"; delete from t`, false, "SELECT,DELETE", 0},
		{"select `a;b`; delete from t", true, "SELECT,DELETE", 0},
		{"select 'it''s; fine'; update t set a=1", false, "SELECT,UPDATE", 0},
		{"select 1 /* ; drop */; insert into t values(1)", false, "SELECT,INSERT", 0},
		{"select 1 -- ; drop\n; revoke all", false, "SELECT,REVOKE", 0},
		{"select 1 # ; drop\n; revoke all", true, "SELECT,REVOKE", 0},
		// PostgreSQL: a # is an operator, nested comments, dollar quotes.
		{"select 1 # 2; drop table t", false, "SELECT,DROP", 0},
		{"select /* /* */ ; */ 1; truncate t", false, "SELECT,TRUNCATE", 0},
		{"select /* /* */ ; drop table t", true, "SELECT,DROP", 0},
		{"do $$ begin perform 1; end $$; drop table t", false, "DO,DROP", 0},
		{"create function f() returns int as $body$ select 1; $body$ language sql; grant all on t to x", false, "CREATE,GRANT", 0},
		{"select $1; drop table t", false, "SELECT,DROP", 0},
		{"select a$b; drop table t", false, "SELECT,DROP", 0},
		{"select $x$ never closed; drop table t", false, "SELECT", 0},
		// MySQL: -- wants a space after it (1--1 is arithmetic).
		{"select 1--1; drop table t", true, "SELECT,DROP", 0},
		{"select 1--1; drop table t", false, "SELECT", 0},
		// MySQL: backslashes escape in strings by default, and a server
		// set otherwise would split the text elsewhere: said.
		{`select 'a\'; drop table t; -- '`, true, "SELECT", 1},
		{`select 'a\\'; drop table t`, true, "SELECT,DROP", 0}, // the same split either way
		{`select 'a\nb'; drop table t`, true, "SELECT,DROP", 0},
		{`select "a\"; drop table t; -- "`, true, "SELECT", 1},
		// PostgreSQL: not in plain strings by default, always in E'…'.
		{`select 'a\'; drop table t; -- '`, false, "SELECT,DROP", 1},
		{`select E'a\'; drop table t; -- '; grant all`, false, "SELECT,GRANT", 0},
		// MySQL executable comments are code, optimizer hints are not.
		{"select 1 /*!; drop table t */; commit", true, "SELECT,DROP,COMMIT", 0},
		{"/*!40101 set x=1*/; /*!40101 drop table t*/", true, "SET,DROP", 0},
		{"select /*+ ; drop */ 1; kill 3", true, "SELECT,KILL", 0},
		{"select 1; /* never closed ; drop", false, "SELECT", 0},
		{"frobnicate; (select 1); with x as (select 1) delete from t", false, "OTHER,SELECT,WITH", 0},
		{"select1; drop table t", true, "OTHER,DROP", 0},
		{"ABCDEFGHIJKLMNOP; drop", true, "OTHER,DROP", 0},
		{"123; drop", true, "OTHER,DROP", 0},
	} {
		var n Counts
		n.AddQuery([]byte(c.q), c.mysql, false)
		var got []string
		for _, v := range n.order[:n.distinct] {
			for range n.perVerb[v] {
				got = append(got, verbs[v])
			}
		}
		if strings.Join(got, ",") != c.want || n.Unsplit != c.unsplit || n.Total != len(got) {
			t.Errorf("%q (mysql %v): %v unsplit %d, want %s unsplit %d", c.q, c.mysql, got, n.Unsplit, c.want, c.unsplit)
		}
	}
}

// A text longer than the bytes held is never taken as whole: the
// statements in the bytes held are counted, and the text is unsplit (a
// DROP may follow out of sight).
func TestAddQueryCut(t *testing.T) {
	q := []byte("select '" + strings.Repeat("x", Prefix) + "'; drop table t")[:Prefix]
	var c Counts
	c.AddQuery(q, true, true)
	if c.Total != 1 || c.Count("SELECT") != 1 || c.Unsplit != 1 {
		t.Errorf("%+v", c)
	}
	// The end of the held bytes in a statement's verb: UNKNOWN.
	c = Counts{}
	c.AddQuery([]byte("select 1; dro"), false, true)
	if c.Total != 2 || c.Count("SELECT") != 1 || c.Count(Unknown) != 1 || c.Unsplit != 1 {
		t.Errorf("%+v", c)
	}
	// Between statements: nothing more counted, but unsplit.
	c = Counts{}
	c.AddQuery([]byte("select 1;  "), false, true)
	if c.Total != 1 || c.Unsplit != 1 {
		t.Errorf("%+v", c)
	}
}

// A caller that passes more than Prefix bytes of text gets the first
// Prefix counted, and the text unsplit: its statements are not all held.
func TestAddQueryLongerThanPrefix(t *testing.T) {
	var c Counts
	c.AddQuery([]byte(strings.Repeat("x;", Prefix)), true, false)
	if c.Total != Prefix/2 || c.Unsplit != 1 {
		t.Errorf("%+v", c)
	}
}

// Counting a text of many statements allocates nothing.
func TestAddQueryAllocs(t *testing.T) {
	var c Counts
	q := []byte(`BEGIN; UPDATE t SET a = 'x\'y;'; /* ; */ DROP TABLE audit; COMMIT`)
	if n := testing.AllocsPerRun(100, func() { c.AddQuery(q, true, false) }); n != 0 {
		t.Errorf("%v allocs per text", n)
	}
}

// The database names kept are paid from the memory budget, given back at
// the end; a refusal keeps the name out and says so.
func TestDatabasesBudget(t *testing.T) {
	b := budget.New(int64(followCost) + 40)
	var got *Counts
	var f Follow[struct{}]
	f.OnStatements(func(_ *struct{}, c *Counts) { cp := *c; got = &cp })
	f.Start(b.NewAccount(), func([]byte, int, []byte) {})
	f.Counts().UseDatabase([]byte("billing"))
	used := b.Stats().Used
	f.Counts().UseDatabase([]byte(strings.Repeat("y", 100)))
	f.Flush(&struct{}{})
	if used != followCost+dbNameCost+7 || got == nil || !got.DBsLimited || got.MoreDBs != 1 ||
		len(got.Databases) != 1 || b.Stats().Used != 0 {
		t.Errorf("used %d, %+v, after %+v", used, got, b.Stats())
	}
}

func BenchmarkAddQuery(b *testing.B) {
	q := []byte("BEGIN; /* controller=orders */ UPDATE orders SET total = 'a;b' WHERE id = 42; COMMIT")
	var c Counts
	b.SetBytes(int64(len(q)))
	b.ReportAllocs()
	for b.Loop() {
		c.AddQuery(q, true, false)
	}
}

// Whatever the text: at most one statement per two bytes, and what the
// bytes held say never changes with what follows them (the server reads
// left to right): each statement of a cut text but its last has the verb
// the whole text gives it, and a cut text never has more statements.
func FuzzAddQuery(f *testing.F) {
	f.Add([]byte("BEGIN; DROP TABLE audit; COMMIT"), uint16(9), true)
	f.Add([]byte(`select 'a\'; drop table t; -- '`), uint16(20), false)
	f.Add([]byte("do $x$ begin; end $x$; /* /* */ ; */ grant all"), uint16(30), false)
	f.Add([]byte("select 1--1; /*!40101 drop table t*/; # x\n kill 1"), uint16(12), true)
	f.Fuzz(func(t *testing.T, q []byte, k uint16, mysql bool) {
		q = q[:min(len(q), Prefix)]
		var whole [maxStatements]uint8
		l := lexer{q: q, mysql: mysql, bs: mysql}
		n := l.split(&whole, false)
		if n < 1 || n > len(q)/2+1 {
			t.Fatalf("%d statements in %d bytes", n, len(q))
		}
		var part [maxStatements]uint8
		p := lexer{q: q[:int(k)%(len(q)+1)], mysql: mysql, bs: mysql}
		m := p.split(&part, true)
		if m > n || !bytes.Equal(part[:m-1], whole[:m-1]) {
			t.Fatalf("%d bytes of %q: %v, whole %v", len(p.q), q, part[:m], whole[:n])
		}
		var c Counts
		c.AddQuery(q, mysql, false)
		if c.Total != n || c.Unsplit > 1 {
			t.Fatalf("%+v", c)
		}
	})
}
