// Package yamlsyntax finds the syntax errors of a YAML file with their line
// and column, and recovers past each one so that a loader reports every
// broken entry of a file in one run. yaml.v3, which decodes our files,
// stops at the first syntax error and gives a line only (sometimes the line
// of the enclosing block rather than the bad one); goccy/go-yaml's parser
// says where the error is, so it is asked only once yaml.v3 has failed.
package yamlsyntax

import (
	"bytes"
	"errors"
	"fmt"

	goyaml "github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
)

// Error is one syntax error; Line and Column are 1-based.
type Error struct {
	Line, Column int
	Msg          string
}

// Check returns the syntax errors of data, at most limit, and a copy of data
// in which the entry around each error is blanked: the item of a
// top-level sequence that holds it (one rule, one list…), or the top-level
// key when there is no item. Blanked lines stay as empty lines, so every
// other position is unchanged. Without syntax errors clean is data.
func Check(data []byte, limit int) (clean []byte, errs []Error) {
	orig := bytes.Split(data, []byte("\n"))
	lines := bytes.Split(data, []byte("\n"))
	var last []int // the lines the last error's blanking emptied
	for round := 0; len(errs) < limit && round < 4*limit; round++ {
		_, err := parser.ParseBytes(bytes.Join(lines, []byte("\n")), 0)
		var se *goyaml.SyntaxError
		if err == nil || !errors.As(err, &se) || se.Token == nil || se.Token.Position == nil {
			break
		}
		line := min(max(se.Token.Position.Line, 1), len(lines)) // "at the end" may be past it
		e := Error{Line: line, Column: se.Token.Position.Column, Msg: se.Message}
		if n := len(errs); n > 0 && line < errs[n-1].Line {
			// Blanking the last error's entry revealed an error before
			// it: that one was the cause (an unclosed quote or bracket
			// runs into the next entries and is reported there). The
			// entry blanked for the consequence comes back.
			errs[n-1] = e
			for _, i := range last {
				lines[i] = orig[i]
			}
		} else {
			errs = append(errs, e)
		}
		from, to := entryAround(lines, line-1)
		last = last[:0]
		for i := from; i < to; i++ {
			if len(lines[i]) > 0 {
				last = append(last, i)
				lines[i] = nil
			}
		}
		if len(last) == 0 {
			break // no progress possible
		}
	}
	if len(errs) == 0 {
		return data, nil
	}
	return bytes.Join(lines, []byte("\n")), errs
}

// entryAround returns the lines [from, to) of the entry holding line at
// (0-based): the item of the top-level key's sequence around it, else the
// top-level key's whole block.
func entryAround(lines [][]byte, at int) (from, to int) {
	if at < 0 || at >= len(lines) {
		return 0, 0
	}
	key := at
	for key > 0 && !(topLevel(lines[key]) && !isItem(lines[key])) {
		key--
	}
	item := -1 // indentation of the key's sequence items
	for i := key + 1; i < len(lines); i++ {
		if meaningful(lines[i]) {
			if n, ok := itemIndent(lines[i]); ok {
				item = n
			}
			break
		}
	}
	from = key
	for i := at; item >= 0 && i > key; i-- {
		if n, ok := itemIndent(lines[i]); ok && n == item {
			from = i
			break
		}
	}
	to = len(lines)
	for i := at + 1; i < len(lines); i++ {
		if !meaningful(lines[i]) {
			continue
		}
		if topLevel(lines[i]) && !isItem(lines[i]) || from != key && indent(lines[i]) <= item {
			to = i
			break
		}
	}
	return from, to
}

// meaningful reports a line that is neither blank nor a comment.
func meaningful(l []byte) bool {
	t := bytes.TrimLeft(l, " \t")
	return len(t) > 0 && t[0] != '#'
}

// topLevel reports a meaningful line that starts at column 1.
func topLevel(l []byte) bool {
	return meaningful(l) && l[0] != ' ' && l[0] != '\t'
}

func indent(l []byte) int { return len(l) - len(bytes.TrimLeft(l, " ")) }

func isItem(l []byte) bool {
	_, ok := itemIndent(l)
	return ok
}

// itemIndent returns the indentation of a sequence item line ("  - x").
func itemIndent(l []byte) (int, bool) {
	n := indent(l)
	t := l[n:]
	return n, len(t) > 0 && t[0] == '-' && (len(t) == 1 || t[1] == ' ' || t[1] == '\t' || t[1] == '\r')
}

// Explain returns every syntax error of data as "name:line:column: yaml:
// msg", joined, for a loader whose yaml.v3 decoding failed with err; when
// Check finds none, err itself prefixed with name.
func Explain(name string, data []byte, err error) error {
	_, errs := Check(data, MaxErrors)
	if len(errs) == 0 {
		return fmt.Errorf("%s: %w", name, err)
	}
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = fmt.Errorf("%s:%d:%d: yaml: %s", name, e.Line, e.Column, e.Msg)
	}
	return errors.Join(out...)
}

// MaxErrors is how many syntax errors of one file a loader reports.
const MaxErrors = 20
