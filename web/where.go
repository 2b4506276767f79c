package web

import (
	"errors"

	"github.com/packetsleuth/packetsleuth/rules"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/store"
)

// WhereError is the 400 answer to a where expression that does not
// compile: the message, and where it is (1-based column, 0 if unknown),
// for the UI to show at the input.
type WhereError struct {
	Error  string `json:"error"`
	Column int    `json:"column,omitempty"`
	Field  string `json:"field,omitempty"`
}

// whereFilter is a compiled where= expression: the language of the rules
// and of export --where, over the stored ECS document.
type whereFilter struct{ f *rules.Filter }

// where compiles the where parameter (nil when absent).
func (p *params) where() (*whereFilter, *WhereError) {
	src := p.str("where")
	if src == "" {
		return nil, nil
	}
	f, err := rules.CompileFilter(nil, src)
	if err != nil {
		we := &WhereError{Error: "where: " + err.Error()}
		var fe *rules.FilterError
		if errors.As(err, &fe) {
			we.Column, we.Field = fe.Column, fe.Field
		}
		return nil, we
	}
	return &whereFilter{f: f}, nil
}

// match runs the expression on a stored event; an event that does not
// decode, or on which the expression fails, does not match.
func (w *whereFilter) match(it store.Item) bool {
	var ev schemas.Event
	if schemas.Decode(it.JSON, &ev) != nil {
		return false
	}
	ok, err := w.f.Match(&ev)
	return err == nil && ok
}
