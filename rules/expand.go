package rules

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// Conditions are compiled by expr against schemas.Event (expr.Env) with
// expr.AsBool, so a misspelt field or a type error fails at load. Before
// type checking, the expander below rewrites the tree:
//
//   - a macro name becomes the macro's (expanded) condition;
//   - a list name becomes an array of its items (`destination.port in
//     rare_ports`), except as the right side of `in` for an ip or domain
//     list: `x in list` then calls the list's matcher, as in_list does, so
//     a CIDR or a parent domain matches the way the list's type says;
//   - in_list("name", v), cidr_match(ip, "cidr", ...) become calls of a
//     matcher prepared at load time (CIDRs parsed once, subdomain lookup);
//   - intel_match() becomes `len(threat.enrichments) > 0`, and
//     intel_match("type") an any() over the indicator types;
//   - the other helpers are bound to their Go functions.
//
// Every helper is bound as a constant of a plain func type (func(string)
// bool, func(string) float64, ...) that the expr VM calls directly
// (OpCallTyped), without an argument slice: evaluation stays
// allocation-free unless a helper returns a new string or a float.

// helperFuncs are the one-argument helpers bound directly.
var helperFuncs = map[string]any{
	"is_private":        isPrivate,
	"entropy":           entropy,
	"registered_domain": registeredDomain,
	"label_count":       labelCount,
	"max_label_len":     maxLabelLen,
	"is_set":            isSet,
	"url_decode":        urlDecode,
}

var (
	builtinsOnce  sync.Once
	builtins, fns map[string]bool
)

// builtinNames are expr's own functions (len, lower, any, ...);
// functionNames adds the helpers of rules.
func builtinNames() map[string]bool {
	builtinsOnce.Do(func() {
		builtins, fns = map[string]bool{}, map[string]bool{"in_list": true, "cidr_match": true, "intel_match": true}
		for _, f := range builtin.Builtins {
			builtins[f.Name] = true
			fns[f.Name] = true
		}
		for name := range helperFuncs {
			fns[name] = true
		}
	})
	return builtins
}

func functionNames() map[string]bool {
	builtinNames()
	return fns
}

// reservedNames may not name a list or macro.
func isReserved(name string) bool {
	if _, ok := helperFuncs[name]; ok {
		return true
	}
	switch name {
	case "in_list", "cidr_match", "intel_match", "true", "false", "nil", "not", "and", "or", "in", "matches":
		return true
	}
	return topLevelNames()[name]
}

// exprProblem is an error found while expanding, at a position of the
// source being compiled.
type exprProblem struct {
	loc   file.Location
	msg   string
	field string
}

type expander struct {
	lists  map[string]*NamedList
	macros map[string]*Macro
	bad    map[string]bool // macros that failed to compile on their own
	stack  []string        // macro expansion stack (cycle detection)
	probs  []exprProblem
	calls  []patchedCall
	arrays map[ast.Node]*NamedList          // arrays made of lists, for `in`
	ipSets map[*ast.ConstantNode]*prefixSet // the address matchers bound (natCompiler)
	roots  map[ast.Node]*Macro              // each macro's expansion, by its root (natCompiler)
}

type patchedCall struct {
	loc  file.Location
	name string
}

func (x *expander) problem(n ast.Node, format string, args ...any) {
	x.probs = append(x.probs, exprProblem{loc: n.Location(), msg: fmt.Sprintf(format, args...)})
}

func (x *expander) Visit(n *ast.Node) {
	switch node := (*n).(type) {
	case *ast.IdentifierNode:
		if m, ok := x.macros[node.Value]; ok {
			x.expandMacro(n, node, m)
			return
		}
		if l, ok := x.lists[node.Value]; ok {
			arr := &ast.ArrayNode{}
			for _, it := range l.Items {
				if l.Type == "port" {
					p := 0
					fmt.Sscan(it, &p)
					arr.Nodes = append(arr.Nodes, &ast.IntegerNode{Value: p})
				} else {
					arr.Nodes = append(arr.Nodes, &ast.StringNode{Value: it})
				}
			}
			relocate(arr, node.Location())
			*n = arr
			if x.arrays == nil {
				x.arrays = map[ast.Node]*NamedList{}
			}
			x.arrays[arr] = l
		}
	case *ast.BinaryNode:
		// The walk is bottom-up: the list on the right is already an array.
		if l := x.arrays[node.Right]; node.Operator == "in" && l != nil && (l.Type == "ip" || l.Type == "domain") {
			call := &ast.CallNode{Callee: &ast.IdentifierNode{}, Arguments: []ast.Node{node.Left}}
			relocate(call.Callee, node.Right.Location())
			call.SetLocation(node.Left.Location()) // where a type error points
			x.bindList(call, fmt.Sprintf("`in` with %s list %q", l.Type, l.Name), l)
			*n = call
		}
	case *ast.CallNode:
		id, ok := node.Callee.(*ast.IdentifierNode)
		if !ok {
			return
		}
		switch id.Value {
		case "in_list":
			x.inList(n, node)
		case "cidr_match":
			x.cidrMatch(n, node)
		case "intel_match":
			x.intelMatch(n, node)
		default:
			fn, ok := helperFuncs[id.Value]
			if !ok {
				if !builtinNames()[id.Value] {
					x.problem(id, "unknown function %q%s", id.Value, suggestName(id.Value, functionNames()))
				}
				return
			}
			if len(node.Arguments) != 1 {
				x.problem(node, "%s takes 1 argument, got %d", id.Value, len(node.Arguments))
				return
			}
			x.bind(node, id.Value, fn)
		}
	}
}

// bind makes node a direct call of fn.
func (x *expander) bind(node *ast.CallNode, name string, fn any) *ast.ConstantNode {
	c := &ast.ConstantNode{Value: fn}
	c.SetLocation(node.Callee.Location())
	node.Callee = c
	x.calls = append(x.calls, patchedCall{loc: node.Location(), name: name})
	return c
}

// bindList makes node a direct call of l's matcher.
func (x *expander) bindList(node *ast.CallNode, name string, l *NamedList) {
	c := x.bind(node, name, l.matcher())
	if l.Type == "ip" {
		x.ipSets[c] = l.ips
	}
}

func (x *expander) expandMacro(n *ast.Node, node *ast.IdentifierNode, m *Macro) {
	for _, s := range x.stack {
		if s == m.Name {
			x.problem(node, "macro cycle: %s -> %s", strings.Join(x.stack, " -> "), m.Name)
			return
		}
	}
	if x.bad[m.Name] {
		x.problem(node, "macro %q is invalid (see its own error)", m.Name)
		return
	}
	if len(x.stack) > 32 {
		x.problem(node, "macros nested deeper than 32")
		return
	}
	tree, err := parser.Parse(m.Condition)
	if err != nil {
		x.problem(node, "macro %q: %v", m.Name, err)
		return
	}
	sub := &expander{lists: x.lists, macros: x.macros, bad: x.bad, ipSets: x.ipSets, roots: x.roots, stack: append(append([]string(nil), x.stack...), m.Name)}
	ast.Walk(&tree.Node, sub)
	if len(sub.probs) > 0 {
		x.problem(node, "macro %q: %s", m.Name, sub.probs[0].msg)
		return
	}
	relocate(tree.Node, node.Location())
	if _, inner := x.roots[tree.Node]; !inner { // a macro that is only another keeps the other's
		x.roots[tree.Node] = m
	}
	*n = tree.Node
}

func (x *expander) listArg(node *ast.CallNode, fn string) *NamedList {
	s, ok := node.Arguments[0].(*ast.StringNode)
	if !ok {
		x.problem(node.Arguments[0], "%s: the first argument must be a list name in quotes", fn)
		return nil
	}
	l, ok := x.lists[s.Value]
	if !ok {
		x.problem(node.Arguments[0], "unknown list %q%s", s.Value, suggestName(s.Value, x.lists))
		return nil
	}
	return l
}

func (x *expander) inList(n *ast.Node, node *ast.CallNode) {
	if len(node.Arguments) != 2 {
		x.problem(node, "in_list takes 2 arguments (list name, value), got %d", len(node.Arguments))
		return
	}
	l := x.listArg(node, "in_list")
	if l == nil {
		return
	}
	node.Arguments = node.Arguments[1:]
	x.bindList(node, "in_list", l)
}

func (x *expander) cidrMatch(n *ast.Node, node *ast.CallNode) {
	if len(node.Arguments) < 2 {
		x.problem(node, "cidr_match takes an address and at least one CIDR")
		return
	}
	ps := &prefixSet{}
	for _, a := range node.Arguments[1:] {
		s, ok := a.(*ast.StringNode)
		if !ok {
			x.problem(a, "cidr_match: CIDRs must be constant strings (use in_list for a list)")
			return
		}
		if err := ps.add(s.Value); err != nil {
			x.problem(a, "cidr_match: %v", err)
			return
		}
	}
	node.Arguments = node.Arguments[:1]
	x.ipSets[x.bind(node, "cidr_match", ps.match)] = ps
}

func (x *expander) intelMatch(n *ast.Node, node *ast.CallNode) {
	src := "len(threat.enrichments) > 0"
	switch len(node.Arguments) {
	case 0:
	case 1:
		s, ok := node.Arguments[0].(*ast.StringNode)
		if !ok {
			x.problem(node, "intel_match: the indicator type must be a constant string")
			return
		}
		src = fmt.Sprintf("any(threat.enrichments, .indicator.type == %q)", s.Value)
	default:
		x.problem(node, "intel_match takes at most 1 argument (the indicator type)")
		return
	}
	tree, err := parser.Parse(src)
	if err != nil {
		x.problem(node, "intel_match: %v", err)
		return
	}
	relocate(tree.Node, node.Location())
	*n = tree.Node
}

// matcher returns the typed function in_list calls for l.
func (l *NamedList) matcher() any {
	switch l.Type {
	case "port":
		ports := l.ports
		return func(p int) bool { _, ok := ports[p]; return ok }
	case "ip":
		return l.ips.match
	case "domain":
		return l.domains.match
	default:
		strs := l.strs
		return func(s string) bool { _, ok := strs[s]; return ok }
	}
}

type relocator struct{ loc file.Location }

func (r relocator) Visit(n *ast.Node) { (*n).SetLocation(r.loc) }

func relocate(n ast.Node, loc file.Location) { ast.Walk(&n, relocator{loc}) }

func suggestName[V any](name string, m map[string]V) string {
	best, bestD := "", 3
	for k := range m {
		if d := editDistance(k, name); d < bestD || d == bestD && k < best {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// compiled is the result of compiling one condition.
type compiled struct {
	program *vm.Program
	native  func(*natEnv) bool // the same condition as Go code, if it can be (native.go)
	nat     natCompiler        // what compiled native, for compilePinned
	probs   []exprProblem
}

// pin returns the datasets c's condition pins (datasetsOf; nil: none).
// Pinned to one, c's native code is compiled again without its dataset
// terms (compilePinned): it is then judged on events of that dataset only.
func (c *compiled) pin() []string {
	ds := datasetsOf(c.program.Node())
	if len(ds) == 1 && c.native != nil {
		c.native = c.nat.compilePinned(c.program.Node(), ds[0])
	}
	return ds
}

// compileCondition expands and type-checks src as a boolean expression.
func compileCondition(src string, lists map[string]*NamedList, macros map[string]*Macro, bad map[string]bool, self string) compiled {
	x := &expander{lists: lists, macros: macros, bad: bad, ipSets: map[*ast.ConstantNode]*prefixSet{}, roots: map[ast.Node]*Macro{}}
	if self != "" {
		x.stack = []string{self}
	}
	program, err := expr.Compile(src,
		expr.Env(schemas.Event{}),
		expr.AsBool(),
		expr.DisableBuiltin("now"), // wall clock: replay must not depend on it
		expr.Patch(x),
		expr.Patch(regexpPatcher{roots: x.roots}), // after x: it needs the expanded tree's types
		expr.Patch(inPatcher{roots: x.roots}),
	)
	if len(x.probs) > 0 {
		return compiled{probs: x.probs}
	}
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			p := exprProblem{loc: fe.Location, msg: fe.Message}
			p.field = fieldAt(src, fe.From)
			if strings.HasPrefix(p.msg, "unknown name") || strings.Contains(p.msg, "has no field") {
				if p.field != "" {
					p.msg = fmt.Sprintf("unknown field %q%s", p.field, suggest(p.field))
				}
			} else if strings.Contains(p.msg, "to call function ") {
				for _, c := range x.calls {
					if c.loc.From <= fe.From && fe.From <= c.loc.To+len(src) {
						p.msg = strings.Replace(p.msg, "to call function ", "to call "+c.name, 1)
						break
					}
				}
			}
			return compiled{probs: []exprProblem{p}}
		}
		return compiled{probs: []exprProblem{{msg: err.Error()}}}
	}
	nc := natCompiler{ipSets: x.ipSets, macros: x.roots}
	return compiled{program: program, native: nc.compileNative(program.Node()), nat: nc}
}

// fieldAt returns the dotted name around rune offset off of src.
func fieldAt(src string, off int) string {
	r := []rune(src)
	if off < 0 || off >= len(r) {
		return ""
	}
	isID := func(c rune) bool {
		return c == '.' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	i, j := off, off
	for i > 0 && isID(r[i-1]) {
		i--
	}
	for j < len(r) && isID(r[j]) {
		j++
	}
	return strings.Trim(string(r[i:j]), ".")
}

// datasetsOf returns the event.dataset values a condition pins, or nil if
// the rule must run on every event. A conjunction is pinned if any side is;
// a disjunction if both are.
func datasetsOf(n ast.Node) []string {
	s, ok := pins(n)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func pins(n ast.Node) (map[string]bool, bool) {
	b, ok := n.(*ast.BinaryNode)
	if !ok {
		return nil, false
	}
	switch b.Operator {
	case "and", "&&":
		l, lok := pins(b.Left)
		r, rok := pins(b.Right)
		switch {
		case lok && rok:
			out := map[string]bool{}
			for k := range l {
				if r[k] {
					out[k] = true
				}
			}
			return out, true
		case lok:
			return l, true
		case rok:
			return r, true
		}
		return nil, false
	case "or", "||":
		l, lok := pins(b.Left)
		r, rok := pins(b.Right)
		if !lok || !rok {
			return nil, false
		}
		for k := range r {
			l[k] = true
		}
		return l, true
	case "==":
		if ds, ok := datasetIs(b); ok {
			return map[string]bool{ds: true}, true
		}
	case "in":
		if !isDatasetField(b.Left) {
			return nil, false
		}
		out := map[string]bool{}
		switch r := b.Right.(type) {
		case *ast.ArrayNode:
			for _, e := range r.Nodes {
				s, ok := e.(*ast.StringNode)
				if !ok {
					return nil, false
				}
				out[s.Value] = true
			}
			return out, true
		case *ast.ConstantNode:
			v := reflect.ValueOf(r.Value)
			if v.Kind() != reflect.Map || v.Type().Key().Kind() != reflect.String {
				return nil, false
			}
			for _, k := range v.MapKeys() {
				out[k.String()] = true
			}
			return out, true
		}
	}
	return nil, false
}

// datasetIs returns ds when b is `event.dataset == "ds"` (either way round).
func datasetIs(b *ast.BinaryNode) (string, bool) {
	if b.Operator != "==" {
		return "", false
	}
	if isDatasetField(b.Left) {
		if s, ok := b.Right.(*ast.StringNode); ok {
			return s.Value, true
		}
	}
	if isDatasetField(b.Right) {
		if s, ok := b.Left.(*ast.StringNode); ok {
			return s.Value, true
		}
	}
	return "", false
}

func isDatasetField(n ast.Node) bool {
	m, ok := n.(*ast.MemberNode)
	if !ok {
		return false
	}
	p, ok := m.Property.(*ast.StringNode)
	if !ok || p.Value != "dataset" {
		return false
	}
	id, ok := m.Node.(*ast.IdentifierNode)
	return ok && id.Value == "event"
}
