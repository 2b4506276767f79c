package rules

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/expr-lang/expr/vm"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// Filter is a condition over one event outside a rule: `export --where`,
// searches of history. It is the rules' language, with their helpers
// (in_list, cidr_match, …), lists and macros.
type Filter struct {
	program *vm.Program
	vm      vm.VM
}

// FilterError is a problem in a filter, placed as rule errors are.
type FilterError struct {
	Column int    // 1-based, in runes; 0 if unknown
	Field  string // the field concerned, if any
	Msg    string
}

func (e *FilterError) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("column %d: %s", e.Column, e.Msg)
	}
	return e.Msg
}

var shippedSet = sync.OnceValues(func() (*Set, error) {
	set, errs := LoadDefault()
	return set, errors.Join(errs...)
})

// CompileFilter compiles src with the lists and macros of set (nil: the
// shipped rulesets). Problems are *FilterError values (joined).
func CompileFilter(set *Set, src string) (*Filter, error) {
	if set == nil {
		var err error
		if set, err = shippedSet(); err != nil {
			return nil, err
		}
	}
	if strings.TrimSpace(src) == "" {
		return nil, &FilterError{Msg: "empty expression"}
	}
	c := compileCondition(src, set.lists, set.macros, nil, "")
	if len(c.probs) > 0 {
		errs := make([]error, len(c.probs))
		for i, p := range c.probs {
			e := &FilterError{Field: p.field, Msg: p.msg}
			if p.loc.From > 0 || p.loc.To > 0 {
				e.Column = p.loc.From + 1
			}
			errs[i] = e
		}
		return nil, errors.Join(errs...)
	}
	return &Filter{program: c.program}, nil
}

// Match runs the filter on ev. A Filter is not safe for concurrent use.
func (f *Filter) Match(ev *schemas.Event) (bool, error) {
	out, err := f.vm.Run(f.program, *ev)
	if err != nil {
		return false, err
	}
	return out == true, nil
}
