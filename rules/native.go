package rules

import (
	"cmp"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"
)

// A condition whose checked tree uses only field reads, literals,
// comparisons, boolean and integer arithmetic, string operators, len and
// the typed helper calls the expander binds is also compiled to Go
// closures (compileNative): one indirect call per node and a field read at
// a fixed offset, where the expr VM pushes every value through an `any`
// and reads fields through reflect (half of a shipped rule's cost). The
// closures must give exactly the VM's answer; TestNativeAgreesWithVM runs
// both over real and random events. A condition outside the subset keeps
// the VM only.

type natKind int

const (
	natBool natKind = iota + 1
	natInt
	natFloat
	natString
	natStrings
	natTime
	natSlice // another slice: only its length is read (i)
)

// natVal is one compiled node: the function of its kind.
type natVal struct {
	kind natKind
	b    func(*natEnv) bool
	i    func(*natEnv) int64
	f    func(*natEnv) float64
	s    func(*natEnv) string
	ss   func(*natEnv) []string
	t    func(*natEnv) time.Time
	lit  any // the value of a literal (nil otherwise)
	// terms are the operands of an `and` chain whose b it is (andOf):
	// another `and` takes them in, one flat chain instead of a closure
	// per `and` that calls the one inside it.
	terms []func(*natEnv) bool
}

// andOf is l and r (both natBool) as one chain of their terms, judged
// left to right until one is false, as nested ands are.
func andOf(l, r natVal) natVal {
	terms := append(append([]func(*natEnv) bool(nil), l.termsOf()...), r.termsOf()...)
	if len(terms) == 2 {
		a, b := terms[0], terms[1]
		return natVal{kind: natBool, b: func(x *natEnv) bool { return a(x) && b(x) }, terms: terms}
	}
	return natVal{kind: natBool, b: func(x *natEnv) bool {
		for _, t := range terms {
			if !t(x) {
				return false
			}
		}
		return true
	}, terms: terms}
}

func (v natVal) termsOf() []func(*natEnv) bool {
	if v.terms != nil {
		return v.terms
	}
	return []func(*natEnv) bool{v.b}
}

// natCompiler compiles one condition. ipSets are the address matchers
// the expander bound in it, by their callee: natCall gives them the
// event's source.ip and destination.ip parsed once per event (natEnv).
// macros are the macros expanded in it, by the root of each expansion:
// natNode keeps a boolean macro's value for the rest of the event
// (memoMacro).
type natCompiler struct {
	ipSets map[*ast.ConstantNode]*prefixSet
	macros map[ast.Node]*Macro
}

// compileNative returns the condition n as Go code, or nil when n uses
// anything outside the native subset.
func (nc natCompiler) compileNative(n ast.Node) func(*natEnv) bool {
	v, ok := nc.natNode(n)
	if !ok || v.kind != natBool {
		return nil
	}
	return v.b
}

// compilePinned is compileNative for a condition pinned to the one
// dataset ds (datasetsOf). Evaluator.Eval runs such a rule on the events
// of ds only (its list is the event's dataset's), where the
// `event.dataset == ds` terms of the condition's top-level `and` are true:
// they are left out. The result must not run on other events.
func (nc natCompiler) compilePinned(n ast.Node, ds string) func(*natEnv) bool {
	if v, ok := nc.natPinned(n, ds); ok && v.kind == natBool {
		return v.b
	}
	return nc.compileNative(n)
}

func (nc natCompiler) natPinned(n ast.Node, ds string) (natVal, bool) {
	b, ok := n.(*ast.BinaryNode)
	if !ok || (b.Operator != "and" && b.Operator != "&&") || nc.macros[n] != nil {
		// a macro is compiled whole, as every condition sees it (memoMacro)
		return nc.natNode(n)
	}
	if l, ok := b.Left.(*ast.BinaryNode); ok {
		if got, ok := datasetIs(l); ok && got == ds {
			return nc.natPinned(b.Right, ds)
		}
	}
	if r, ok := b.Right.(*ast.BinaryNode); ok {
		if got, ok := datasetIs(r); ok && got == ds {
			return nc.natPinned(b.Left, ds)
		}
	}
	l, lok := nc.natPinned(b.Left, ds)
	r, rok := nc.natPinned(b.Right, ds)
	if !lok || !rok || l.kind != natBool || r.kind != natBool {
		return natVal{}, false
	}
	return andOf(l, r), true
}

// natNode compiles n; a boolean macro's expansion reads and fills the
// event's memo (memoMacro).
func (nc natCompiler) natNode(n ast.Node) (natVal, bool) {
	v, ok := nc.natExpr(n)
	if m := nc.macros[n]; ok && m != nil && m.memo > 0 && v.kind == natBool && v.lit == nil {
		v.b, v.terms = memoMacro(m.memo, v.b), nil // an and around it keeps it whole
	}
	return v, ok
}

func (nc natCompiler) natExpr(n ast.Node) (natVal, bool) {
	switch n := n.(type) {
	case *ast.BoolNode:
		return natLiteral(n.Value)
	case *ast.IntegerNode:
		return natLiteral(int64(n.Value))
	case *ast.FloatNode:
		return natLiteral(n.Value)
	case *ast.StringNode:
		return natLiteral(n.Value)
	case *ast.ConstantNode:
		switch c := n.Value.(type) {
		case bool, string, float64:
			return natLiteral(c)
		case int:
			return natLiteral(int64(c))
		}
	case *ast.IdentifierNode, *ast.MemberNode:
		return natField(n)
	case *ast.UnaryNode:
		return nc.natUnary(n)
	case *ast.BinaryNode:
		return nc.natBinary(n)
	case *ast.CallNode:
		return nc.natCall(n)
	case *ast.BuiltinNode:
		return nc.natBuiltin(n)
	}
	return natVal{}, false
}

func natLiteral(v any) (natVal, bool) {
	switch c := v.(type) {
	case bool:
		return natVal{kind: natBool, b: func(*natEnv) bool { return c }, lit: c}, true
	case int64:
		return natVal{kind: natInt, i: func(*natEnv) int64 { return c }, lit: c}, true
	case float64:
		return natVal{kind: natFloat, f: func(*natEnv) float64 { return c }, lit: c}, true
	case string:
		return natVal{kind: natString, s: func(*natEnv) string { return c }, lit: c}, true
	}
	return natVal{}, false
}

// natField reads a field of the event at its offset (field.at); the
// leaf's Go kind decides how it is read.
// Integers are int or int64 only: the VM negates a narrower or unsigned
// field in its own width (-uint16(1) is 65535), which an int64 would not.
func natField(n ast.Node) (natVal, bool) {
	name := memberName(n)
	if name == "" {
		return natVal{}, false
	}
	f, ok := ecsFields()[name]
	if !ok {
		return natVal{}, false
	}
	switch f.kind {
	case reflect.String:
		return natVal{kind: natString, s: func(x *natEnv) string { return *(*string)(f.at(x.ev)) }}, true
	case reflect.Bool:
		return natVal{kind: natBool, b: func(x *natEnv) bool { return *(*bool)(f.at(x.ev)) }}, true
	case reflect.Int:
		return natVal{kind: natInt, i: func(x *natEnv) int64 { return int64(*(*int)(f.at(x.ev))) }}, true
	case reflect.Int64:
		return natVal{kind: natInt, i: func(x *natEnv) int64 { return *(*int64)(f.at(x.ev)) }}, true
	case reflect.Float64:
		return natVal{kind: natFloat, f: func(x *natEnv) float64 { return *(*float64)(f.at(x.ev)) }}, true
	case reflect.Slice:
		if f.typ.Elem() == stringType {
			return natVal{kind: natStrings, ss: func(x *natEnv) []string { return *(*[]string)(f.at(x.ev)) }}, true
		}
		// every slice header has one layout: read its length through any
		return natVal{kind: natSlice, i: func(x *natEnv) int64 { return int64(len(*(*[]struct{})(f.at(x.ev)))) }}, true
	case reflect.Struct:
		if f.typ == timeType {
			return natVal{kind: natTime, t: func(x *natEnv) time.Time { return *(*time.Time)(f.at(x.ev)) }}, true
		}
	}
	return natVal{}, false
}

func (nc natCompiler) natUnary(n *ast.UnaryNode) (natVal, bool) {
	v, ok := nc.natNode(n.Node)
	if !ok {
		return natVal{}, false
	}
	switch {
	case (n.Operator == "not" || n.Operator == "!") && v.kind == natBool:
		b := v.b
		return natVal{kind: natBool, b: func(x *natEnv) bool { return !b(x) }}, true
	case n.Operator == "-" && v.kind == natInt:
		i := v.i
		return natVal{kind: natInt, i: func(x *natEnv) int64 { return -i(x) }}, true
	case n.Operator == "-" && v.kind == natFloat:
		f := v.f
		return natVal{kind: natFloat, f: func(x *natEnv) float64 { return -f(x) }}, true
	}
	return natVal{}, false
}

func (nc natCompiler) natBinary(n *ast.BinaryNode) (natVal, bool) {
	if n.Operator == "in" || n.Operator == "not in" {
		return nc.natIn(n)
	}
	l, ok := nc.natNode(n.Left)
	if !ok {
		return natVal{}, false
	}
	r, ok := nc.natNode(n.Right)
	if !ok {
		return natVal{}, false
	}
	switch n.Operator {
	case "and", "&&", "or", "||":
		if l.kind != natBool || r.kind != natBool {
			return natVal{}, false
		}
		if n.Operator == "and" || n.Operator == "&&" {
			return andOf(l, r), true
		}
		lb, rb := l.b, r.b
		return natVal{kind: natBool, b: func(x *natEnv) bool { return lb(x) || rb(x) }}, true
	case "==", "!=":
		eq, ok := natEqual(l, r)
		if !ok {
			return natVal{}, false
		}
		if n.Operator == "!=" {
			return natVal{kind: natBool, b: func(x *natEnv) bool { return !eq(x) }}, true
		}
		return natVal{kind: natBool, b: eq}, true
	case "<", "<=", ">", ">=":
		return natOrder(n.Operator, l, r)
	case "+", "-", "*":
		return natArith(n.Operator, l, r)
	case "/":
		// expr divides as floats, whatever the operand types
		lf, lok := asFloat(l)
		rf, rok := asFloat(r)
		if !lok || !rok {
			return natVal{}, false
		}
		return natVal{kind: natFloat, f: func(x *natEnv) float64 { return lf(x) / rf(x) }}, true
	case "contains", "startsWith", "endsWith":
		if l.kind != natString || r.kind != natString {
			return natVal{}, false
		}
		ls, rs := l.s, r.s
		op := map[string]func(string, string) bool{
			"contains": strings.Contains, "startsWith": strings.HasPrefix, "endsWith": strings.HasSuffix,
		}[n.Operator]
		return natVal{kind: natBool, b: func(x *natEnv) bool { return op(ls(x), rs(x)) }}, true
	case "matches":
		pat, isLit := r.lit.(string)
		if l.kind != natString || !isLit {
			return natVal{}, false
		}
		re, err := regexp.Compile(pat)
		if err != nil {
			return natVal{}, false
		}
		ls := l.s
		return natVal{kind: natBool, b: func(x *natEnv) bool { return re.MatchString(ls(x)) }}, true
	}
	return natVal{}, false
}

// natEqual is expr's == for operands of one kind (numbers mixed as
// floats, as expr compares an int with a float).
func natEqual(l, r natVal) (func(*natEnv) bool, bool) {
	switch {
	case l.kind == natString && r.kind == natString:
		ls, rs := l.s, r.s
		if c, ok := r.lit.(string); ok {
			return func(x *natEnv) bool { return ls(x) == c }, true
		}
		return func(x *natEnv) bool { return ls(x) == rs(x) }, true
	case l.kind == natBool && r.kind == natBool:
		lb, rb := l.b, r.b
		return func(x *natEnv) bool { return lb(x) == rb(x) }, true
	case l.kind == natInt && r.kind == natInt:
		li, ri := l.i, r.i
		return func(x *natEnv) bool { return li(x) == ri(x) }, true
	case l.kind == natTime && r.kind == natTime:
		lt, rt := l.t, r.t
		return func(x *natEnv) bool { return lt(x).Equal(rt(x)) }, true
	}
	lf, lok := asFloat(l)
	rf, rok := asFloat(r)
	if !lok || !rok {
		return nil, false
	}
	return func(x *natEnv) bool { return lf(x) == rf(x) }, true
}

func natOrder(op string, l, r natVal) (natVal, bool) {
	switch {
	case l.kind == natInt && r.kind == natInt:
		return ordered(op, l.i, r.i), true
	case l.kind == natString && r.kind == natString:
		return ordered(op, l.s, r.s), true
	case l.kind == natTime && r.kind == natTime:
		lt, rt := l.t, r.t
		return ordered(op, func(x *natEnv) int { return lt(x).Compare(rt(x)) }, func(*natEnv) int { return 0 }), true
	}
	lf, lok := asFloat(l)
	rf, rok := asFloat(r)
	if !lok || !rok {
		return natVal{}, false
	}
	// (a NaN is neither less nor more: every comparison is false, as in Go)
	return ordered(op, lf, rf), true
}

// ordered is l op r for one of < <= > >=.
func ordered[T cmp.Ordered](op string, l, r func(*natEnv) T) natVal {
	var b func(*natEnv) bool
	switch op {
	case "<":
		b = func(x *natEnv) bool { return l(x) < r(x) }
	case "<=":
		b = func(x *natEnv) bool { return l(x) <= r(x) }
	case ">":
		b = func(x *natEnv) bool { return l(x) > r(x) }
	default:
		b = func(x *natEnv) bool { return l(x) >= r(x) }
	}
	return natVal{kind: natBool, b: b}
}

// natArith is + - * on numbers: ints stay ints (wrapping as Go's int
// does, like expr), an int with a float gives a float.
func natArith(op string, l, r natVal) (natVal, bool) {
	if l.kind == natInt && r.kind == natInt {
		return natVal{kind: natInt, i: arith(op, l.i, r.i)}, true
	}
	lf, lok := asFloat(l)
	rf, rok := asFloat(r)
	if !lok || !rok {
		return natVal{}, false
	}
	return natVal{kind: natFloat, f: arith(op, lf, rf)}, true
}

// arith is l op r for one of + - *.
func arith[T int64 | float64](op string, l, r func(*natEnv) T) func(*natEnv) T {
	switch op {
	case "+":
		return func(x *natEnv) T { return l(x) + r(x) }
	case "-":
		return func(x *natEnv) T { return l(x) - r(x) }
	default:
		return func(x *natEnv) T { return l(x) * r(x) }
	}
}

func asFloat(v natVal) (func(*natEnv) float64, bool) {
	switch v.kind {
	case natFloat:
		return v.f, true
	case natInt:
		i := v.i
		return func(x *natEnv) float64 { return float64(i(x)) }, true
	}
	return nil, false
}

// natIn is `x in [literals]` on ints or strings: an array literal, or the
// set expr's optimizer made of one (the inPatcher turns most string forms
// into calls; event.dataset in [...] stays for datasetsOf).
func (nc natCompiler) natIn(n *ast.BinaryNode) (natVal, bool) {
	l, ok := nc.natNode(n.Left)
	if !ok {
		return natVal{}, false
	}
	var in func(*natEnv) bool
	switch l.kind {
	case natString:
		set, ok := stringSet(n.Right)
		if c, isConst := n.Right.(*ast.ConstantNode); isConst {
			set, ok = c.Value.(map[string]struct{})
		}
		if !ok {
			return natVal{}, false
		}
		ls, member := l.s, memberOf(set)
		in = func(x *natEnv) bool { return member(ls(x)) }
	case natInt:
		set, ok := intSet(n.Right)
		if !ok {
			return natVal{}, false
		}
		li := l.i
		in = func(x *natEnv) bool { _, ok := set[li(x)]; return ok }
	default:
		return natVal{}, false
	}
	if n.Operator == "not in" {
		return natVal{kind: natBool, b: func(x *natEnv) bool { return !in(x) }}, true
	}
	return natVal{kind: natBool, b: in}, true
}

func intSet(n ast.Node) (map[int64]struct{}, bool) {
	set := map[int64]struct{}{}
	switch n := n.(type) {
	case *ast.ArrayNode:
		for _, e := range n.Nodes {
			c, ok := e.(*ast.IntegerNode)
			if !ok {
				return nil, false
			}
			set[int64(c.Value)] = struct{}{}
		}
	case *ast.ConstantNode:
		m, ok := n.Value.(map[int]struct{})
		if !ok {
			return nil, false
		}
		for k := range m {
			set[int64(k)] = struct{}{}
		}
	default:
		return nil, false
	}
	return set, true
}

// natCall calls the typed helper a constant callee holds (expand.go binds
// every helper so; inPatcher and regexpPatcher add their matchers).
func (nc natCompiler) natCall(n *ast.CallNode) (natVal, bool) {
	c, ok := n.Callee.(*ast.ConstantNode)
	if !ok {
		return natVal{}, false
	}
	args := make([]natVal, len(n.Arguments))
	for i, a := range n.Arguments {
		if args[i], ok = nc.natNode(a); !ok {
			return natVal{}, false
		}
	}
	if ps := nc.ipSets[c]; ps != nil && len(args) == 1 {
		switch memberName(n.Arguments[0]) {
		case "source.ip":
			return natVal{kind: natBool, b: func(x *natEnv) bool { return !ps.empty() && x.src.in(ps, x.ev.Source.IP) }}, true
		case "destination.ip":
			return natVal{kind: natBool, b: func(x *natEnv) bool { return !ps.empty() && x.dst.in(ps, x.ev.Destination.IP) }}, true
		}
	}
	one := func(k natKind) bool { return len(args) == 1 && args[0].kind == k }
	switch fn := c.Value.(type) {
	case func(string) bool:
		if one(natString) {
			s := args[0].s
			return natVal{kind: natBool, b: func(x *natEnv) bool { return fn(s(x)) }}, true
		}
	case func(int) bool:
		if one(natInt) {
			i := args[0].i
			return natVal{kind: natBool, b: func(x *natEnv) bool { return fn(int(i(x))) }}, true
		}
	case func(string) int:
		if one(natString) {
			s := args[0].s
			return natVal{kind: natInt, i: func(x *natEnv) int64 { return int64(fn(s(x))) }}, true
		}
	case func(string) float64:
		if one(natString) {
			s := args[0].s
			return natVal{kind: natFloat, f: func(x *natEnv) float64 { return fn(s(x)) }}, true
		}
	case func(string) string:
		if one(natString) {
			s := args[0].s
			return natVal{kind: natString, s: func(x *natEnv) string { return fn(s(x)) }}, true
		}
	case func(time.Time) bool:
		if one(natTime) {
			t := args[0].t
			return natVal{kind: natBool, b: func(x *natEnv) bool { return fn(t(x)) }}, true
		}
	case func(any, any) bool:
		// containsString is the only two-argument helper: `s in field`
		if reflect.ValueOf(fn).Pointer() == reflect.ValueOf(containsString).Pointer() &&
			len(args) == 2 && args[0].kind == natString && args[1].kind == natStrings {
			s, list := args[0].s, args[1].ss
			return natVal{kind: natBool, b: func(x *natEnv) bool { return slices.Contains(list(x), s(x)) }}, true
		}
	}
	return natVal{}, false
}

// natBuiltin is len of a string (in runes, as expr counts) or a slice,
// lower and upper.
func (nc natCompiler) natBuiltin(n *ast.BuiltinNode) (natVal, bool) {
	if len(n.Arguments) != 1 {
		return natVal{}, false
	}
	a, ok := nc.natNode(n.Arguments[0])
	if !ok {
		return natVal{}, false
	}
	switch {
	case n.Name == "len" && a.kind == natString:
		s := a.s
		return natVal{kind: natInt, i: func(x *natEnv) int64 { return int64(utf8.RuneCountInString(s(x))) }}, true
	case n.Name == "len" && a.kind == natStrings:
		ss := a.ss
		return natVal{kind: natInt, i: func(x *natEnv) int64 { return int64(len(ss(x))) }}, true
	case n.Name == "len" && a.kind == natSlice:
		return natVal{kind: natInt, i: a.i}, true
	case n.Name == "lower" && a.kind == natString:
		s := a.s
		return natVal{kind: natString, s: func(x *natEnv) string { return strings.ToLower(s(x)) }}, true
	case n.Name == "upper" && a.kind == natString:
		s := a.s
		return natVal{kind: natString, s: func(x *natEnv) string { return strings.ToUpper(s(x)) }}, true
	}
	return natVal{}, false
}
