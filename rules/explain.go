package rules

import (
	"strings"
	"sync"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"

	"github.com/packetsleuth/packetsleuth/internal/textsafe"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// What an alert says about why it fired: the rule's output template
// rendered over the event (ECS message), the branches of the condition's
// OR that matched (packetsleuth.alert.matched), and for distinct
// thresholds the values counted (packetsleuth.alert.members).

// maxValueBytes bounds one field value in a rendered output: captured
// strings may be long, the message is one line for an analyst.
const maxValueBytes = 256

// maxMembers bounds the distinct values an alert lists (its count says
// how many there were).
const maxMembers = 20

// outputTemplate is a rule's `output:`, Falco style: text with %field.name
// placeholders (%% is a percent sign).
type outputTemplate struct {
	parts []outputPart
}

type outputPart struct {
	text  string
	field field
	isVar bool
	at    int // the placeholder's byte offset in the template
}

// parseOutput compiles an output template; it returns the first problem
// and its byte offset in src.
func parseOutput(src string) (outputTemplate, int, string) {
	var t outputTemplate
	var text strings.Builder
	for i := 0; i < len(src); {
		c := src[i]
		if c != '%' {
			text.WriteByte(c)
			i++
			continue
		}
		if i+1 < len(src) && src[i+1] == '%' {
			text.WriteByte('%')
			i += 2
			continue
		}
		j := i + 1
		for j < len(src) && isFieldByte(src[j]) {
			j++
		}
		name := strings.TrimRight(src[i+1:j], ".") // a sentence may end after the field
		if name == "" {
			return t, i, "output: % must start a field name (%source.ip) or be doubled (%%)"
		}
		f, msg := lookupField(name)
		if msg != "" {
			return t, i + 1, "output: " + msg
		}
		if text.Len() > 0 {
			t.parts = append(t.parts, outputPart{text: text.String()})
			text.Reset()
		}
		t.parts = append(t.parts, outputPart{field: f, isVar: true, at: i})
		i += 1 + len(name)
	}
	if text.Len() > 0 {
		t.parts = append(t.parts, outputPart{text: text.String()})
	}
	return t, 0, ""
}

func isFieldByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '@'
}

// render fills the template from ev (an alert). Values are data: control characters,
// line breaks and bidi overrides are escaped, and long ones are cut.
func (t *outputTemplate) render(ev *schemas.Event) string {
	var b strings.Builder
	var val []byte
	for _, p := range t.parts {
		if !p.isVar {
			b.WriteString(p.text)
			continue
		}
		val = p.field.appendValue(val[:0], ev)
		switch {
		case len(val) == 0:
			b.WriteString("-")
		case len(val) > maxValueBytes:
			b.WriteString(textsafe.Escape(strings.ToValidUTF8(string(val[:maxValueBytes]), "")) + "…")
		default:
			b.WriteString(textsafe.Escape(string(val)))
		}
	}
	return b.String()
}

// branch is one alternative of a condition's OR, compiled on its own.
type branch struct {
	text    string // as written (normalised by the expression printer)
	program *vm.Program
}

// orBranches finds the alternatives that decide a condition: the operands
// of its top OR, looking through ANDs (in `dns_event and (a or b)` they are
// a and b). Conditions without an OR have none.
func orBranches(src string) []string {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil
	}
	var find func(n ast.Node) []ast.Node
	find = func(n ast.Node) []ast.Node {
		b, ok := n.(*ast.BinaryNode)
		if !ok {
			return nil
		}
		switch b.Operator {
		case "or", "||":
			return append(flattenOr(b.Left), flattenOr(b.Right)...)
		case "and", "&&":
			if l := find(b.Left); l != nil {
				return l
			}
			return find(b.Right)
		}
		return nil
	}
	var out []string
	for _, n := range find(tree.Node) {
		out = append(out, n.String())
	}
	return out
}

func flattenOr(n ast.Node) []ast.Node {
	if b, ok := n.(*ast.BinaryNode); ok && (b.Operator == "or" || b.Operator == "||") {
		return append(flattenOr(b.Left), flattenOr(b.Right)...)
	}
	return []ast.Node{n}
}

// branchSet holds the OR branches of a rule's condition, compiled when
// an alert first asks for them: most rules of a set never alert in a run,
// and compiling every rule's branches at the load was a tenth of it (and
// of its allocation), on the way to the first packet.
type branchSet struct {
	once   sync.Once
	cond   string
	lists  map[string]*NamedList // the set's
	macros map[string]*Macro
	list   []branch
}

func newBranchSet(cond string, lists map[string]*NamedList, macros map[string]*Macro) *branchSet {
	return &branchSet{cond: cond, lists: lists, macros: macros}
}

// get returns the branches, compiling them on its first call (several
// workers may ask at once).
func (b *branchSet) get() []branch {
	if b == nil {
		return nil
	}
	b.once.Do(func() {
		b.list = compileBranches(b.cond, b.lists, b.macros)
		b.lists, b.macros = nil, nil
	})
	return b.list
}

// compileBranches compiles the OR branches of a rule's condition (which
// compiled, so its branches do too; one that does not is left out). The
// set loaded, so none of its macros is bad.
func compileBranches(cond string, lists map[string]*NamedList, macros map[string]*Macro) []branch {
	var out []branch
	for _, text := range orBranches(cond) {
		c := compileCondition(text, lists, macros, nil, "")
		if c.program != nil && len(c.probs) == 0 {
			out = append(out, branch{text: text, program: c.program})
		}
	}
	return out
}

// matchedBranches returns the branches of r that hold for env.
func (e *Evaluator) matchedBranches(r *Rule, env any) []string {
	var out []string
	for _, b := range r.branches.get() {
		if v, err := e.vm.Run(b.program, env); err == nil && v == true {
			out = append(out, b.text)
		}
	}
	return out
}

// output compiles the rule's template (node n), reporting a problem at
// its place in the file.
func (l *loader) output(f *srcFile, n *yaml.Node, r *Rule, src string) {
	if strings.TrimSpace(src) == "" {
		return
	}
	t, off, msg := parseOutput(src)
	if msg != "" {
		e := &Error{File: f.name, RuleID: r.ID, Msg: msg}
		e.Line, e.Column = scalarPos(f, n, off)
		l.add(e)
		return
	}
	r.Output, r.output = src, &t
}
