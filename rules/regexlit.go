package rules

import (
	"reflect"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"
	"github.com/packetsleuth/packetsleuth/internal/ahocorasick"
)

// A rule's `x matches "re"` runs as a regexpMatcher: the cheapest test that
// gives the regexp's answer. A regexp that is one plain literal is a
// substring test; otherwise, when every match of the regexp must contain
// one of a set of literals, an Aho-Corasick pass over the text (ASCII case
// folded) rules out most texts before the regexp runs. Texts with a byte
// outside ASCII always go to the regexp: Unicode case folding maps a few
// non-ASCII letters onto ASCII ones (the Kelvin sign onto k), which the
// literal set does not model.
type regexpMatcher struct {
	re      *regexp.Regexp
	literal string // the regexp is this literal, case-sensitive, unanchored
	pre     *ahocorasick.Matcher
}

// regexpPatcher rewrites `s matches "re"` on a string s into a call of
// re's regexpMatcher. It runs after the expander, on a type-checked tree;
// roots are the expander's macro roots (replaceWith).
type regexpPatcher struct{ roots map[ast.Node]*Macro }

func (p regexpPatcher) Visit(n *ast.Node) {
	b, ok := (*n).(*ast.BinaryNode)
	if !ok || b.Operator != "matches" || b.Left.Type() != reflect.TypeFor[string]() {
		return
	}
	pat, ok := b.Right.(*ast.StringNode)
	if !ok {
		return
	}
	m := newRegexpMatcher(pat.Value)
	if m == nil {
		return
	}
	call := &ast.CallNode{Callee: &ast.ConstantNode{Value: m.match}, Arguments: []ast.Node{b.Left}}
	replaceWith(n, call, p.roots)
}

// maxLitSet bounds the literal sets the analysis multiplies out.
const maxLitSet = 64

// newRegexpMatcher returns the matcher of pattern, or nil when it has
// nothing cheaper than the regexp itself (or does not compile: the
// condition's compiler reports that).
func newRegexpMatcher(pattern string) *regexpMatcher {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil
	}
	tree, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	tree = tree.Simplify()
	// (the regexp reads a bad UTF-8 byte as U+FFFD, a substring test not)
	if tree.Op == syntax.OpLiteral && tree.Flags&syntax.FoldCase == 0 && !slices.Contains(tree.Rune, utf8.RuneError) {
		return &regexpMatcher{re: re, literal: string(tree.Rune)}
	}
	lits := literalsOf(tree).best()
	if lits == nil || slices.Contains(lits, "") {
		return nil
	}
	return &regexpMatcher{re: re, pre: ahocorasick.New(lits)}
}

// match is the regexp's MatchString.
func (m *regexpMatcher) match(s string) bool {
	if m.pre == nil {
		return strings.Contains(s, m.literal)
	}
	if isASCII(s) && !m.pre.Contains(s) {
		return false
	}
	return m.re.MatchString(s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// litInfo is what the analysis knows of a regexp, on ASCII texts with
// ASCII case folded (literals are kept in lower case). Nil sets are
// unknown.
type litInfo struct {
	exact    []string // the regexp matches exactly these strings
	required []string // every match contains one of these
}

// best is the literal set every match contains, or nil.
func (li litInfo) best() []string {
	if li.exact != nil && !slices.Contains(li.exact, "") {
		return li.exact
	}
	return li.required
}

// betterSet returns the more selective of two required sets: the one whose
// least selective literal scores higher, then the one with fewer literals.
func betterSet(a, b []string) []string {
	if slices.Contains(a, "") {
		a = nil
	}
	if slices.Contains(b, "") {
		b = nil
	}
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	ma, mb := minScore(a), minScore(b)
	if ma != mb {
		if ma > mb {
			return a
		}
		return b
	}
	if len(b) < len(a) {
		return b
	}
	return a
}

// minScore is the selectivity of a set's least selective literal: its
// length, punctuation and other bytes counting three times a letter or a
// digit (in URLs and headers "'" is rarer than "or").
func minScore(set []string) int {
	n := -1
	for _, s := range set {
		score := 0
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
				score++
			default:
				score += 3
			}
		}
		if n < 0 || score < n {
			n = score
		}
	}
	return n
}

func literalsOf(re *syntax.Regexp) litInfo {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return litInfo{exact: []string{""}}
	case syntax.OpLiteral:
		var b strings.Builder
		for _, r := range re.Rune {
			if r >= utf8.RuneSelf { // folding may map it onto ASCII: unknown
				return litInfo{}
			}
			b.WriteByte(lowerByte(byte(r)))
		}
		return litInfo{exact: []string{b.String()}}
	case syntax.OpCharClass:
		// on ASCII text only the class's ASCII members can match
		var set []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], min(re.Rune[i+1], utf8.RuneSelf-1)
			for r := lo; r <= hi; r++ {
				if s := string(rune(lowerByte(byte(r)))); !slices.Contains(set, s) {
					set = append(set, s)
				}
				if len(set) > 8 {
					return litInfo{}
				}
			}
		}
		if set == nil {
			return litInfo{}
		}
		return litInfo{exact: set}
	case syntax.OpCapture:
		return literalsOf(re.Sub[0])
	case syntax.OpQuest:
		sub := literalsOf(re.Sub[0])
		if sub.exact == nil || len(sub.exact) >= maxLitSet {
			return litInfo{}
		}
		return litInfo{exact: union(sub.exact, []string{""})}
	case syntax.OpPlus:
		return litInfo{required: literalsOf(re.Sub[0]).best()}
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return litInfo{required: literalsOf(re.Sub[0]).best()}
		}
		return litInfo{}
	case syntax.OpConcat:
		return concatLiterals(re.Sub)
	case syntax.OpAlternate:
		var out litInfo
		exact := true
		for _, sub := range re.Sub {
			li := literalsOf(sub)
			exact = exact && li.exact != nil
			out.exact = union(out.exact, li.exact)
			b := li.best()
			if b == nil {
				return litInfo{}
			}
			out.required = union(out.required, b)
		}
		if !exact || len(out.exact) > maxLitSet {
			out.exact = nil
		}
		return out
	}
	return litInfo{} // any character, star: nothing known
}

// concatLiterals multiplies out runs of exactly known parts (while the
// product stays small) and keeps the best required set of the runs and the
// other parts.
func concatLiterals(subs []*syntax.Regexp) litInfo {
	var required []string
	run, whole := []string{""}, true
	for _, sub := range subs {
		li := literalsOf(sub)
		if li.exact != nil && len(run)*len(li.exact) <= maxLitSet {
			run = product(run, li.exact)
			continue
		}
		whole = false
		required = betterSet(required, run)
		required = betterSet(required, li.best())
		run = []string{""}
		if li.exact != nil {
			run = li.exact
		}
	}
	required = betterSet(required, run)
	if whole {
		return litInfo{exact: run, required: required}
	}
	return litInfo{required: required}
}

func product(a, b []string) []string {
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			if s := x + y; !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

func union(a, b []string) []string {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}

func lowerByte(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}
