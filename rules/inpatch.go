package rules

import (
	"maps"
	"reflect"
	"slices"

	"github.com/expr-lang/expr/ast"
)

// inPatcher rewrites `s in list` on strings into calls that compare
// strings directly. expr's own `in` walks a slice through reflection,
// boxing each element (an allocation per element per event: the shipped
// flow_final macro, `"end" in event.type`, cost eight per flow event), and
// looks constant lists up in a map keyed by interfaces. Two forms:
//   - s in field, the field a []string: a linear scan of the slice;
//   - s in ["a", "b", ...], a list of string literals: a Go set.
//
// Like regexpPatcher it runs after the expander, on a type-checked tree;
// other operand types keep expr's `in`. roots are the expander's macro
// roots: a macro whose root it replaces (flow_final) is kept per event
// all the same (replaceWith).
type inPatcher struct{ roots map[ast.Node]*Macro }

var (
	stringType      = reflect.TypeFor[string]()
	stringSliceType = reflect.TypeFor[[]string]()
)

func (p inPatcher) Visit(n *ast.Node) {
	b, ok := (*n).(*ast.BinaryNode)
	if !ok || b.Operator != "in" || b.Left.Type() != stringType || isDatasetField(b.Left) {
		return // (event.dataset in [...] stays: datasetsOf reads it to index the rule)
	}
	var call *ast.CallNode
	if set, ok := stringSet(b.Right); ok {
		call = &ast.CallNode{Callee: &ast.ConstantNode{Value: memberOf(set)}, Arguments: []ast.Node{b.Left}}
	} else if b.Right.Type() == stringSliceType {
		call = &ast.CallNode{Callee: &ast.ConstantNode{Value: containsString}, Arguments: []ast.Node{b.Left, b.Right}}
	} else {
		return
	}
	replaceWith(n, call, p.roots)
}

// replaceWith puts call, a patcher's rewrite of *n, in *n's place, at its
// location, and as the root of the macro *n was the root of, if any
// (expander.roots): the native compile keeps a macro's value per event by
// its root (memoMacro), and the shipped flow_final, `"end" in
// event.type`, was judged anew in four rules of each flow event.
func replaceWith(n *ast.Node, call *ast.CallNode, roots map[ast.Node]*Macro) {
	relocate(call.Callee, (*n).Location())
	call.SetLocation((*n).Location())
	if m, ok := roots[*n]; ok {
		delete(roots, *n)
		roots[call] = m
	}
	*n = call
}

// containsString is `s in list` for a string and a []string (both as the
// VM holds them); func(any, any) bool is one of the signatures expr calls
// without reflection.
func containsString(s, list any) bool {
	str, _ := s.(string)
	l, _ := list.([]string)
	return slices.Contains(l, str)
}

// memberOf returns the test of membership in set: a scan of its strings
// when it has few (a compare of their lengths rejects most, where hashing
// the string costs more than the scan: the shipped flow rules ask lists
// of two to six states and transports of every flow event), a look-up in
// set when it has more.
func memberOf(set map[string]struct{}) func(string) bool {
	if len(set) <= maxScanned {
		items := slices.Collect(maps.Keys(set))
		return func(s string) bool { return slices.Contains(items, s) }
	}
	return func(s string) bool {
		_, ok := set[s]
		return ok
	}
}

// maxScanned is the most strings memberOf scans.
const maxScanned = 8

// stringSet returns the set of an array literal of string literals.
func stringSet(n ast.Node) (map[string]struct{}, bool) {
	arr, ok := n.(*ast.ArrayNode)
	if !ok {
		return nil, false
	}
	set := make(map[string]struct{}, len(arr.Nodes))
	for _, e := range arr.Nodes {
		s, ok := e.(*ast.StringNode)
		if !ok {
			return nil, false
		}
		set[s.Value] = struct{}{}
	}
	return set, true
}
