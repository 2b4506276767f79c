package sigma

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// A Sigma condition: selection names joined by and, or, not and
// parentheses, and "1 of X*", "all of X*", "1 of them", "all of them".
// It is translated into an expression over the selections' expressions.

type condParser struct {
	toks []string
	pos  int
	sel  map[string]string // selection name -> expression
}

func tokenize(s string) []string {
	s = strings.NewReplacer("(", " ( ", ")", " ) ").Replace(s)
	return strings.Fields(s)
}

// translateCondition returns the expression of cond.
func translateCondition(cond string, sel map[string]string) (string, error) {
	if strings.Contains(cond, "|") {
		return "", fmt.Errorf("aggregation conditions (%q) are not supported: write a correlation rule", cond)
	}
	p := &condParser{toks: tokenize(cond), sel: sel}
	x, err := p.or()
	if err != nil {
		return "", err
	}
	if p.pos < len(p.toks) {
		return "", fmt.Errorf("condition: unexpected %q", p.toks[p.pos])
	}
	return x, nil
}

func (p *condParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *condParser) or() (string, error) {
	x, err := p.and()
	if err != nil {
		return "", err
	}
	for strings.EqualFold(p.peek(), "or") {
		p.pos++
		y, err := p.and()
		if err != nil {
			return "", err
		}
		x = x + " or " + y
	}
	return x, nil
}

func (p *condParser) and() (string, error) {
	x, err := p.not()
	if err != nil {
		return "", err
	}
	for strings.EqualFold(p.peek(), "and") {
		p.pos++
		y, err := p.not()
		if err != nil {
			return "", err
		}
		x = x + " and " + y
	}
	return x, nil
}

func (p *condParser) not() (string, error) {
	if strings.EqualFold(p.peek(), "not") {
		p.pos++
		x, err := p.not()
		if err != nil {
			return "", err
		}
		return "not " + x, nil
	}
	return p.atom()
}

func (p *condParser) atom() (string, error) {
	t := p.peek()
	switch {
	case t == "":
		return "", fmt.Errorf("condition ends too early")
	case t == "(":
		p.pos++
		x, err := p.or()
		if err != nil {
			return "", err
		}
		if p.peek() != ")" {
			return "", fmt.Errorf("condition: missing )")
		}
		p.pos++
		return "(" + x + ")", nil
	case t == "1" || strings.EqualFold(t, "all") || strings.EqualFold(t, "any"):
		if p.pos+2 >= len(p.toks) || !strings.EqualFold(p.toks[p.pos+1], "of") {
			return "", fmt.Errorf("condition: %q needs \"of NAME\"", t)
		}
		pat := p.toks[p.pos+2]
		p.pos += 3
		var names []string
		for n := range p.sel {
			if ok, _ := path.Match(pat, n); ok || pat == "them" && !strings.HasPrefix(n, "_") {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			return "", fmt.Errorf("condition: %q matches no selection", pat)
		}
		sort.Strings(names)
		op := " or "
		if strings.EqualFold(t, "all") {
			op = " and "
		}
		parts := make([]string, len(names))
		for i, n := range names {
			parts[i] = p.sel[n]
		}
		return "(" + strings.Join(parts, op) + ")", nil
	default:
		x, ok := p.sel[t]
		if !ok {
			return "", fmt.Errorf("condition: unknown selection %q", t)
		}
		p.pos++
		return x, nil
	}
}
