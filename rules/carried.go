package rules

import (
	"slices"
	"strings"

	"github.com/expr-lang/expr/ast"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// fieldsRead lists the dotted field names a compiled condition reads
// (event.dataset, dns.question.name…), macros and lists expanded: whole
// chains, not their prefixes (dns.question of dns.question.name).
func fieldsRead(n ast.Node) []string {
	v := &fieldVisitor{}
	ast.Walk(&n, v)
	all := slices.Clone(v.names)
	return slices.DeleteFunc(v.names, func(name string) bool {
		return slices.ContainsFunc(all, func(o string) bool { return strings.HasPrefix(o, name+".") })
	})
}

type fieldVisitor struct{ names []string }

func (v *fieldVisitor) Visit(node *ast.Node) {
	if name := memberName(*node); name != "" && !slices.Contains(v.names, name) {
		v.names = append(v.names, name)
	}
}

// memberName spells a member chain rooted at an identifier of the event
// (a.b.c), or returns "".
func memberName(n ast.Node) string {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		return n.Value
	case *ast.MemberNode:
		p, ok := n.Property.(*ast.StringNode)
		if !ok {
			return ""
		}
		if base := memberName(n.Node); base != "" {
			return base + "." + p.Value
		}
	}
	return ""
}

// uncarried returns a warning for each field a rule pinned to datasets
// reads although none of those datasets carries it (the schema's
// DatasetGroups): the condition can never see it set.
func uncarried(r *Rule) []*Error {
	if r.Datasets == nil || r.program == nil {
		return nil
	}
	var warns []*Error
	for _, name := range fieldsRead(r.program.Node()) {
		carriers := schemas.DatasetsOf(name)
		if carriers == nil { // a list, a macro or a function, not a field
			continue
		}
		if !slices.ContainsFunc(r.Datasets, func(ds string) bool { return slices.Contains(carriers, ds) }) {
			warns = append(warns, &Error{File: r.File, Line: r.Line, RuleID: r.ID, Field: name,
				Msg: "condition reads " + name + ", which " + strings.Join(r.Datasets, ", ") +
					" events never carry (" + strings.Join(carriers, ", ") + " do)"})
		}
	}
	return warns
}
