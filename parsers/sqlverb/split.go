package sqlverb

import "bytes"

// maxStatements bounds the statements one held text can hold: each needs
// a word and a semicolon.
const maxStatements = Prefix/2 + 1

// lexer reads a query's text as one server does, to find where each of
// its statements ends: a semicolon outside strings, quoted identifiers,
// comments and (PostgreSQL) dollar quotes.
type lexer struct {
	q     []byte
	mysql bool // MySQL's syntax, else PostgreSQL's
	// bs says a backslash escapes the next byte in a plain string ('…',
	// and "…" in MySQL): MySQL's default (not with NO_BACKSLASH_ESCAPES),
	// PostgreSQL's only with standard_conforming_strings off.
	bs bool
	// sawBS says such a string held a backslash: the split then depends on
	// a server setting the sensor does not know.
	sawBS bool
	// exec says the bytes are inside a MySQL executable comment (/*! … */),
	// which the server reads as code: its */ is skipped, not a comment end.
	exec bool
}

// split cuts l.q into statements and puts the verb id of each in ids,
// returning how many. cut says l.q is only the start of the text: a word
// that reaches its end may go on. A text with no statement at all is one
// of verb Unknown.
func (l *lexer) split(ids *[maxStatements]uint8, cut bool) int {
	n := 0
	for i := 0; ; {
		i = l.skip(i)
		if cut && i == len(l.q)-1 && (l.q[i] == '/' || l.q[i] == '-' || l.q[i] == '*') {
			i++ // it may start a comment with the next byte, not held
		}
		if i >= len(l.q) {
			if n == 0 {
				ids[0], n = 1, 1
			}
			return n
		}
		v, j := l.verb(i, cut)
		ids[n] = v
		n++
		i = l.statementEnd(j)
	}
}

// skip returns the index of the first byte from i that is not white space,
// a comment, an opening parenthesis or a semicolon (len(q) if none).
func (l *lexer) skip(i int) int {
	for i < len(l.q) {
		switch c := l.q[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '(' || c == ';':
			i++
		default:
			k := l.comment(i)
			if k == i {
				return i
			}
			i = k
		}
	}
	return i
}

// comment returns the index past the comment (or MySQL executable-comment
// marker) at i, or i when none starts there.
func (l *lexer) comment(i int) int {
	q := l.q
	switch c := q[i]; {
	case c == '#' && l.mysql, c == '-' && l.dashes(i):
		if k := bytes.IndexByte(q[i:], '\n'); k >= 0 {
			return i + k + 1
		}
		return len(q)
	case c == '/' && i+1 < len(q) && q[i+1] == '*':
		if l.mysql && i+2 < len(q) && q[i+2] == '!' {
			// MySQL runs the inside of /*!NNNNN … */: skip the marker and version.
			l.exec = true
			i += 3
			for i < len(q) && q[i] >= '0' && q[i] <= '9' {
				i++
			}
			return i
		}
		end := commentEnd(q[i+2:], !l.mysql)
		if end < 0 {
			return len(q)
		}
		return i + 2 + end
	case c == '*' && l.mysql && l.exec && i+1 < len(q) && q[i+1] == '/':
		l.exec = false // the end of an executable comment
		return i + 2
	}
	return i
}

// dashes says a -- comment starts at i: MySQL wants white space or a
// control byte after the dashes ("1--1" is a subtraction there).
func (l *lexer) dashes(i int) bool {
	q := l.q
	if i+1 >= len(q) || q[i+1] != '-' {
		return false
	}
	return !l.mysql || i+2 == len(q) || q[i+2] <= ' '
}

// verb reads the word at i: it returns its verb id and the index past it.
func (l *lexer) verb(i int, cut bool) (uint8, int) {
	var w [maxWord]byte
	n, other := 0, false
	for ; i < len(l.q) && isWord(l.q[i]); i++ {
		c := l.q[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if (c < 'A' || c > 'Z') && c != '_' || n == maxWord {
			other = true
			continue
		}
		w[n] = c
		n++
	}
	switch {
	case other || n == 0:
		return 0, i // not a keyword
	case i == len(l.q) && cut:
		return 1, i // the word may go on past the bytes held
	}
	if v, ok := ids[string(w[:n])]; ok {
		return v, i
	}
	return 0, i
}

// statementEnd returns the index past the semicolon that ends the
// statement going on at i, or len(q) when the text ends first.
func (l *lexer) statementEnd(i int) int {
	q := l.q
	for i < len(q) {
		c := q[i]
		if quiet[c] {
			i++
			continue
		}
		switch {
		case c == ';':
			return i + 1
		case c == '\'' && !l.mysql && l.escapeString(i):
			i, _ = l.quoteEnd(i+1, c, true) // E'…': backslash escapes whatever the settings
		case c == '\'', c == '"' && l.mysql:
			var bs bool
			i, bs = l.quoteEnd(i+1, c, l.bs)
			l.sawBS = l.sawBS || bs
		case c == '"', c == '`' && l.mysql:
			i, _ = l.quoteEnd(i+1, c, false)
		case c == '$' && !l.mysql && (i == 0 || !isWord(q[i-1])): // a$b is a name
			i = l.dollarEnd(i)
		default:
			if k := l.comment(i); k != i {
				i = k
			} else {
				i++
			}
		}
	}
	return len(q)
}

// quiet are the bytes that neither end a statement nor open a string, a
// quoted name, a comment or a dollar quote: statementEnd passes them by.
var quiet = func() (t [256]bool) {
	for c := range t {
		t[c] = true
	}
	for _, c := range []byte(";'\"`$#-/*") {
		t[c] = false
	}
	return t
}()

// escapeString says the quote at i opens a PostgreSQL E'…' string: an E
// standing alone before it.
func (l *lexer) escapeString(i int) bool {
	q := l.q
	return i > 0 && (q[i-1] == 'E' || q[i-1] == 'e') && (i < 2 || !isWord(q[i-2]))
}

// isWord says c goes on an identifier or a number (PostgreSQL allows $
// after the first byte; bytes past ASCII are letters of UTF-8 names).
func isWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c >= 0x80
}

// quoteEnd returns the index past the quote that closes a string or quoted
// identifier opened before i (a doubled quote stays inside), or len(q),
// and whether a backslash was inside. esc says a backslash escapes the
// next byte.
func (l *lexer) quoteEnd(i int, quote byte, esc bool) (int, bool) {
	q, bs := l.q, false
	for i < len(q) {
		switch q[i] {
		case quote:
			if i+1 < len(q) && q[i+1] == quote {
				i += 2
				continue
			}
			return i + 1, bs
		case '\\':
			bs = true
			if esc {
				i++
			}
		}
		i++
	}
	return len(q), bs
}

// dollarEnd returns the index past a PostgreSQL dollar-quoted string
// starting at i ($tag$ … $tag$), or past the $ when none starts there (a
// parameter such as $1).
func (l *lexer) dollarEnd(i int) int {
	q := l.q
	k := i + 1
	if k < len(q) && q[k] >= '0' && q[k] <= '9' {
		return k
	}
	for k < len(q) && q[k] != '$' && isWord(q[k]) {
		k++
	}
	if k >= len(q) || q[k] != '$' {
		return i + 1
	}
	tag := q[i : k+1]
	if e := bytes.Index(q[k+1:], tag); e >= 0 {
		return k + 1 + e + len(tag)
	}
	return len(q)
}
