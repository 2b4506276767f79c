package sqlverb

import (
	"bytes"
	"strings"
	"testing"
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
