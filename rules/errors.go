package rules

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
)

// Error is one problem found while loading rules, with its position.
// Load returns every Error it finds, not only the first.
type Error struct {
	File   string // file name as given to Load (or the OS path)
	Line   int    // 1-based; 0 if unknown
	Column int    // 1-based; 0 if unknown
	RuleID string // the rule concerned, "" for file, list and macro errors
	Field  string // the ECS field concerned (e.g. "dns.question.nme"), if any
	Msg    string
	Err    error // the underlying error (yaml, expr), if any
}

func (e *Error) Error() string {
	s := e.File
	if e.Line > 0 {
		s += ":" + strconv.Itoa(e.Line)
		if e.Column > 0 {
			s += ":" + strconv.Itoa(e.Column)
		}
	}
	if e.RuleID != "" {
		s += ": rule " + e.RuleID
	}
	return s + ": " + e.Msg
}

// Unwrap returns the underlying yaml or expr error.
func (e *Error) Unwrap() error { return e.Err }

// WriteErrors prints errs one per line, the way `sensor rules validate`
// shows them.
func WriteErrors(w io.Writer, errs []error) {
	for _, err := range errs {
		fmt.Fprintln(w, err)
	}
}

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlErrLine splits "yaml: line 12: msg" into 12 and msg.
func yamlErrLine(s string) (int, string) {
	if m := yamlLineRE.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n, m[2]
	}
	return 0, s
}
