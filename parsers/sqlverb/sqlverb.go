// Package sqlverb names the statements a database client sends by their
// first keywords (SELECT, DROP, GRANT…) and counts statements per verb,
// for the MySQL and PostgreSQL parsers; a text of several statements
// counts each, split as the server splits it. The rest of the text — table
// names, values, literals — is never kept: a verb is one of a fixed list
// of constant strings, so counting allocates nothing and its memory does
// not grow with the traffic.
package sqlverb

import (
	"bytes"
	"unsafe"

	"github.com/packetsleuth/packetsleuth/internal/budget"
)

// Prefix is how many bytes of a statement the parsers hold to find its
// verb: enough for leading comments of ordinary clients (ORMs put a
// comment with the caller's name first); past it the verb is Unknown.
const Prefix = 512

// Verbs other than keywords of the list.
const (
	Other   = "OTHER"   // a first word that is not a known keyword
	Unknown = "UNKNOWN" // no word in the bytes held (empty, binary, or comments past Prefix)
)

// verbs are the first keywords named; anything else is Other. The index
// of a verb here is its id in Counts.
var verbs = [...]string{
	Other, Unknown,
	"SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE", "WITH", "VALUES", "TABLE",
	"CREATE", "DROP", "ALTER", "TRUNCATE", "RENAME", "COMMENT",
	"GRANT", "REVOKE", "LOAD", "COPY", "CALL", "DO", "EXECUTE", "EXEC", "PREPARE", "DEALLOCATE",
	"HANDLER", "SET", "RESET", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "USE", "HELP",
	"BEGIN", "START", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "END", "ABORT", "XA",
	"LOCK", "UNLOCK", "FLUSH", "KILL", "SHUTDOWN", "RESTART", "INSTALL", "UNINSTALL", "CLONE",
	"ANALYZE", "OPTIMIZE", "REPAIR", "CHECK", "CHECKSUM", "CHECKPOINT", "VACUUM", "REINDEX", "CLUSTER",
	"CHANGE", "PURGE", "BINLOG", "CACHE", "IMPORT", "SIGNAL", "RESIGNAL", "GET",
	"LISTEN", "NOTIFY", "UNLISTEN", "DECLARE", "FETCH", "MOVE", "CLOSE", "DISCARD", "SECURITY", "REFRESH",
}

// NumVerbs is the number of verbs, Other and Unknown included.
const NumVerbs = len(verbs)

var ids = func() map[string]uint8 {
	m := make(map[string]uint8, NumVerbs)
	for i, v := range verbs {
		m[v] = uint8(i)
	}
	return m
}()

// maxWord is the longest keyword of the list.
const maxWord = 10

// Of returns the verb of statement text q (or of its first Prefix bytes):
// its first word after white space, comments and opening parentheses,
// upper-cased, when it is a keyword of the list. mysql says the text is
// MySQL's (# starts a comment, -- only before white space, a /*! … */
// executable comment is read as code as the server runs it; /*+ … */
// optimizer hints are comments); else PostgreSQL's (block comments nest).
func Of(q []byte, mysql bool) string { return verbs[id(q, mysql, len(q) >= Prefix)] }

// id is the verb id of q's first statement; cut says q is only the start
// of the text, so a word that reaches its end may go on.
func id(q []byte, mysql, cut bool) uint8 {
	l := lexer{q: q, mysql: mysql}
	i := l.skip(0)
	if i >= len(q) {
		return 1
	}
	v, _ := l.verb(i, cut)
	return v
}

// commentEnd returns the index just past the */ that closes a block
// comment whose text (after its /*) is b, or -1. PostgreSQL nests block
// comments (nested): "/* /* */ SELECT */ DROP" runs DROP there, so the
// first */ does not close the comment; MySQL does not nest them.
func commentEnd(b []byte, nested bool) int {
	depth := 1
	for i := 0; i+1 < len(b); i++ {
		switch {
		case b[i] == '*' && b[i+1] == '/':
			if depth--; depth == 0 {
				return i + 2
			}
			i++
		case nested && b[i] == '/' && b[i+1] == '*':
			depth++
			i++
		}
	}
	return -1
}

// maxDatabases bounds the databases a Counts names.
const maxDatabases = 8

// Counts are the statements of one connection: how many per verb, in the
// order each verb first appeared, and the databases switched to (MySQL
// COM_INIT_DB). Its size is bounded: the database names it keeps are paid
// from the memory budget, the rest is fixed.
type Counts struct {
	Total     int
	perVerb   [NumVerbs]uint32
	order     [NumVerbs]uint8
	distinct  int
	Databases []string // at most maxDatabases, first ones
	MoreDBs   int      // database switches to names not kept
	// Unsplit counts the texts whose statements may not all be counted:
	// longer than the bytes held, or split otherwise by a server whose
	// strings take backslashes the other way (MySQL NO_BACKSLASH_ESCAPES,
	// PostgreSQL standard_conforming_strings off).
	Unsplit int
	// DBsLimited says the memory budget refused to keep a database name.
	DBsLimited bool
	acct       *budget.Account
	dbBytes    int64 // paid from acct for Databases
	// Stopped says the reading stopped before the end of the connection
	// (a gap in the client's stream, or a message that cannot be framed).
	Stopped bool
	// Limited says the memory budget refused the counting: nothing was read.
	Limited bool
}

// Add counts one statement of verb id v.
func (c *Counts) add(v uint8) {
	if c.perVerb[v] == 0 {
		c.order[c.distinct] = v
		c.distinct++
	}
	c.perVerb[v]++
	c.Total++
}

// Add counts one statement whose text is q (a prepared statement: the
// servers refuse several there); cut says q is only its start (the message
// was longer than what was held). mysql says the text is MySQL's.
func (c *Counts) Add(q []byte, mysql, cut bool) { c.add(id(q, mysql, cut)) }

// AddQuery counts every statement of a text that may hold several (MySQL
// COM_QUERY, PostgreSQL Query), each by its verb: "BEGIN; DROP TABLE t;
// COMMIT" is three. When q is only the start of the text (cut), or the
// server's setting for backslashes in strings changes where statements
// end, some may be missing: Unsplit counts the text.
func (c *Counts) AddQuery(q []byte, mysql, cut bool) {
	if len(q) > Prefix {
		// the statement ids are held for Prefix bytes of text
		q, cut = q[:Prefix], true
	}
	var v [maxStatements]uint8
	l := lexer{q: q, mysql: mysql, bs: mysql}
	n := l.split(&v, cut)
	for _, id := range v[:n] {
		c.add(id)
	}
	if cut {
		c.Unsplit++
		return
	}
	if l.sawBS {
		var w [maxStatements]uint8
		other := lexer{q: q, mysql: mysql, bs: !mysql}
		if m := other.split(&w, false); !bytes.Equal(v[:n], w[:m]) {
			c.Unsplit++
		}
	}
}

// dbNameCost is what a kept database name costs beyond its bytes.
const dbNameCost = int64(unsafe.Sizeof(""))

// UseDatabase records a switch to database name (at most 256 bytes of it
// kept), paid from the budget of the Follow that started the counting.
func (c *Counts) UseDatabase(name []byte) {
	name = name[:min(len(name), 256)]
	for _, d := range c.Databases {
		if d == string(name) {
			return
		}
	}
	if len(c.Databases) == maxDatabases {
		c.MoreDBs++
		return
	}
	cost := dbNameCost + int64(len(name))
	if !c.acct.Reserve(budget.Parsers, cost) {
		c.DBsLimited = true
		c.MoreDBs++
		return
	}
	c.dbBytes += cost
	c.Databases = append(c.Databases, string(name))
}

// Each calls f for every verb counted, in the order they first appeared.
func (c *Counts) Each(f func(verb string, n int)) {
	for _, v := range c.order[:c.distinct] {
		f(verbs[v], int(c.perVerb[v]))
	}
}

// Count returns the statements of verb counted.
func (c *Counts) Count(verb string) int {
	v, ok := ids[verb]
	if !ok {
		return 0
	}
	return int(c.perVerb[v])
}

// Any says whether anything was counted.
func (c *Counts) Any() bool { return c.Total > 0 || len(c.Databases) > 0 }

// Reader cuts one direction of a connection into messages of a
// length-prefixed framing and hands each message's header and its first
// Prefix bytes to a callback: the rest of a message — however large, a
// LOAD DATA or COPY stream — is skipped without being held. Its buffer is
// fixed, so a connection's statements cost nothing more than the Reader.
type Reader struct {
	hdr  [8]byte
	nh   int
	buf  [Prefix]byte
	nb   int
	n    int // the current message's payload length
	left int // payload bytes still to come (with nh == hdrLen)
}

// Feed reads b. hdrLen is the header size (at most 8); length returns the
// payload size a header announces, or an error that stops the reading;
// msg receives each whole message's header, payload size and first bytes
// (valid during the call).
func (r *Reader) Feed(b []byte, hdrLen int, length func(h []byte) (int, error), msg func(h []byte, n int, prefix []byte)) error {
	for len(b) > 0 {
		if r.nh < hdrLen {
			k := copy(r.hdr[r.nh:hdrLen], b)
			r.nh += k
			b = b[k:]
			if r.nh < hdrLen {
				return nil
			}
			n, err := length(r.hdr[:hdrLen])
			if err != nil {
				return err
			}
			r.n, r.left, r.nb = n, n, 0
		}
		k := min(r.left, len(b))
		r.nb += copy(r.buf[r.nb:], b[:k])
		r.left -= k
		b = b[k:]
		if r.left == 0 {
			r.nh = 0
			msg(r.hdr[:hdrLen], r.n, r.buf[:r.nb])
		}
	}
	return nil
}
