package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/packetsleuth/packetsleuth/internal/yamlsyntax"
)

// The documents below mirror the YAML format. Every mapping is checked
// against the yaml tags here: an unknown key is an error with its line and
// column (checkKeys), then yaml.v3 decodes the values.

type listDoc struct {
	Name        string   `yaml:"name"`
	Type        string   `yaml:"type"`
	Description string   `yaml:"description"`
	Items       []string `yaml:"items"`
	Append      bool     `yaml:"append"`
}

type macroDoc struct {
	Name        string `yaml:"name"`
	Condition   string `yaml:"condition"`
	Description string `yaml:"description"`
}

type refDoc struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
}

type threatDoc struct {
	Tactic    refDoc `yaml:"tactic"`
	Technique refDoc `yaml:"technique"`
}

type exceptionDoc struct {
	Name   string   `yaml:"name"`
	Field  string   `yaml:"field"`
	Values []string `yaml:"values"`
}

type thresholdDoc struct {
	Type    string   `yaml:"type"`
	Field   string   `yaml:"field"`
	GroupBy []string `yaml:"group_by"`
	Window  string   `yaml:"window"`
	GTE     *float64 `yaml:"gte"`
	GT      *float64 `yaml:"gt"`
	LTE     *float64 `yaml:"lte"`
	LT      *float64 `yaml:"lt"`
}

type suppressDoc struct {
	By  []string `yaml:"by"`
	For string   `yaml:"for"`
}

type expectDoc struct {
	Rule  string `yaml:"rule"`
	Count *int   `yaml:"count"`
}

type testDoc struct {
	Name       string      `yaml:"name"`
	Events     []yaml.Node `yaml:"events"`
	Pcap       string      `yaml:"pcap"`
	Intel      []string    `yaml:"intel"`
	HomeNet    []string    `yaml:"home_net"`
	Expect     []expectDoc `yaml:"expect"`
	ExpectNone bool        `yaml:"expect_none"`
}

type ruleDoc struct {
	ID             string         `yaml:"id"`
	Name           string         `yaml:"name"`
	Description    string         `yaml:"description"`
	Condition      string         `yaml:"condition"`
	Output         string         `yaml:"output"`
	Severity       string         `yaml:"severity"`
	RiskScore      *float64       `yaml:"risk_score"`
	Tags           []string       `yaml:"tags"`
	Threat         []threatDoc    `yaml:"threat"`
	References     []string       `yaml:"references"`
	Enabled        *bool          `yaml:"enabled"`
	Exceptions     []exceptionDoc `yaml:"exceptions"`
	Threshold      *thresholdDoc  `yaml:"threshold"`
	Sequence       *sequenceDoc   `yaml:"sequence"`
	Absence        *absenceDoc    `yaml:"absence"`
	Suppress       *suppressDoc   `yaml:"suppress"`
	Tests          []testDoc      `yaml:"tests"`
	FalsePositives string         `yaml:"false_positives"`
	Version        string         `yaml:"version"`
	Category       string         `yaml:"category"`
	Author         []string       `yaml:"author"`
}

// overrideDoc changes a rule defined in another (usually shipped) file
// without editing it: enable or disable it, change its severity, add
// exceptions (or replace them), change its suppression.
type overrideDoc struct {
	ID                string         `yaml:"id"`
	Enabled           *bool          `yaml:"enabled"`
	Severity          string         `yaml:"severity"`
	RiskScore         *float64       `yaml:"risk_score"`
	Exceptions        []exceptionDoc `yaml:"exceptions"`
	ReplaceExceptions bool           `yaml:"replace_exceptions"`
	Suppress          *suppressDoc   `yaml:"suppress"`
}

// fileDoc is the top level of a rule file.
type fileDoc struct {
	Ruleset   string        `yaml:"ruleset"`
	Author    []string      `yaml:"author"`
	Lists     []listDoc     `yaml:"lists"`
	Macros    []macroDoc    `yaml:"macros"`
	Rules     []ruleDoc     `yaml:"rules"`
	Overrides []overrideDoc `yaml:"overrides"`
}

// parsed holds one decoded document and the nodes of its entries.
type parsed struct {
	doc           fileDoc
	listNodes     []*yaml.Node
	macroNodes    []*yaml.Node
	ruleNodes     []*yaml.Node
	overrideNodes []*yaml.Node
}

// maxFileSize bounds one rule file.
const maxFileSize = 8 << 20

// parseFile decodes every YAML document of f, reporting unknown keys and
// type errors with positions.
func (l *loader) parseFile(f *srcFile) []parsed {
	if len(f.data) > maxFileSize {
		l.errf(f, nil, "", "", "file is larger than %d bytes", maxFileSize)
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(f.data))
	recovered := false
	var out []parsed
	for {
		var root yaml.Node
		err := dec.Decode(&root)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !recovered {
			// A syntax error: report every one with its column, and
			// check again without the broken entries.
			clean, errs := yamlsyntax.Check(f.data, yamlsyntax.MaxErrors)
			for _, e := range errs {
				l.add(&Error{File: f.name, Line: e.Line, Column: e.Column, Msg: "yaml: " + e.Msg, Err: err})
			}
			if len(errs) > 0 {
				recovered, out = true, nil
				dec = yaml.NewDecoder(bytes.NewReader(clean))
				continue
			}
		}
		if err != nil {
			line, msg := yamlErrLine(err.Error())
			l.add(&Error{File: f.name, Line: line, Msg: "yaml: " + msg, Err: err})
			break
		}
		if len(root.Content) == 0 {
			continue
		}
		doc := root.Content[0]
		if doc.Kind != yaml.MappingNode {
			if doc.Kind == yaml.ScalarNode && doc.Tag == "!!null" {
				continue
			}
			l.errf(f, doc, "", "", "a rule file is a mapping with lists, macros, rules and overrides")
			continue
		}
		var p parsed
		l.checkKeys(f, doc, reflect.TypeOf(fileDoc{}), "")
		if err := doc.Decode(&p.doc); err != nil {
			l.yamlTypeErrors(f, doc, err, "")
			// Decode again section by section so that good entries are
			// still checked.
			p.doc = fileDoc{}
			p.decodeSections(doc)
		} else {
			p.takeSections(doc)
		}
		out = append(out, p)
	}
	return out
}

// decodeSections decodes the sections of a document that did not decode
// as a whole, each entry on its own.
func (p *parsed) decodeSections(doc *yaml.Node) {
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], doc.Content[i+1]
		switch k.Value {
		case "ruleset":
			_ = v.Decode(&p.doc.Ruleset)
		case "author":
			_ = v.Decode(&p.doc.Author)
		case "lists":
			p.listNodes, p.doc.Lists = decodeSeq[listDoc](v)
		case "macros":
			p.macroNodes, p.doc.Macros = decodeSeq[macroDoc](v)
		case "rules":
			p.ruleNodes, p.doc.Rules = decodeSeq[ruleDoc](v)
		case "overrides":
			p.overrideNodes, p.doc.Overrides = decodeSeq[overrideDoc](v)
		}
	}
}

// takeSections pairs the entries of a document that decoded as a whole
// with their nodes, as decodeSections would have decoded them: the
// document was decoded once, not again entry by entry (a fifth of a
// load's YAML work). Its keys are unique (else it would not have
// decoded), and a section that is not a sequence (an alias) has no
// entries.
func (p *parsed) takeSections(doc *yaml.Node) {
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], doc.Content[i+1]
		switch k.Value {
		case "lists":
			p.listNodes, p.doc.Lists = seqNodes(v, p.doc.Lists)
		case "macros":
			p.macroNodes, p.doc.Macros = seqNodes(v, p.doc.Macros)
		case "rules":
			p.ruleNodes, p.doc.Rules = seqNodes(v, p.doc.Rules)
		case "overrides":
			p.overrideNodes, p.doc.Overrides = seqNodes(v, p.doc.Overrides)
		}
	}
}

// seqNodes returns the items of the sequence n with vals, their values
// decoded with the document; decodeSeq decodes them if they do not pair.
func seqNodes[T any](n *yaml.Node, vals []T) ([]*yaml.Node, []T) {
	if n.Kind != yaml.SequenceNode {
		return nil, nil
	}
	if len(vals) != len(n.Content) {
		return decodeSeq[T](n)
	}
	return n.Content[:len(n.Content):len(n.Content)], vals
}

// decodeSeq decodes each item of a sequence on its own; an item that does
// not decode is kept as a zero value (its errors were already reported).
func decodeSeq[T any](n *yaml.Node) ([]*yaml.Node, []T) {
	if n.Kind != yaml.SequenceNode {
		return nil, nil
	}
	nodes := make([]*yaml.Node, 0, len(n.Content))
	vals := make([]T, 0, len(n.Content))
	for _, item := range n.Content {
		var v T
		_ = item.Decode(&v)
		nodes = append(nodes, item)
		vals = append(vals, v)
	}
	return nodes, vals
}

func (l *loader) yamlTypeErrors(f *srcFile, at *yaml.Node, err error, ruleID string) {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		for _, s := range te.Errors {
			line, msg := yamlErrLine(s)
			l.add(&Error{File: f.name, Line: line, RuleID: ruleID, Msg: msg, Err: err})
		}
		return
	}
	l.errf(f, at, ruleID, "", "%v", err)
}

// yamlKeyCache holds yamlKeys' maps by type: checkKeys asks for one at
// every mapping of every file (a map of each, 4% of a load's CPU), and
// files are checked on several goroutines.
var yamlKeyCache sync.Map // reflect.Type -> map[string]reflect.Type

// yamlKeys lists the yaml keys of a struct type.
func yamlKeys(t reflect.Type) map[string]reflect.Type {
	if m, ok := yamlKeyCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := make(map[string]reflect.Type)
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		m[name] = sf.Type
	}
	yamlKeyCache.Store(t, m)
	return m
}

var yamlNodeType = reflect.TypeOf(yaml.Node{})

// checkKeys reports every key of n that t does not know, recursively.
func (l *loader) checkKeys(f *srcFile, n *yaml.Node, t reflect.Type, ruleID string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == yamlNodeType {
		return
	}
	switch t.Kind() {
	case reflect.Slice:
		if n.Kind == yaml.SequenceNode {
			for _, item := range n.Content {
				l.checkKeys(f, item, t.Elem(), ruleIDOf(item, ruleID, t.Elem()))
			}
		}
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return
		}
		keys := yamlKeys(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := keys[k.Value]
			if !ok {
				known := make([]string, 0, len(keys))
				for name := range keys {
					known = append(known, name)
				}
				sort.Strings(known)
				l.errf(f, k, ruleID, "", "unknown key %q (known: %s)", k.Value, strings.Join(known, ", "))
				continue
			}
			l.checkKeys(f, v, ft, ruleID)
		}
	}
}

// ruleIDOf returns the id of a rule or override mapping, else inherited.
func ruleIDOf(n *yaml.Node, inherited string, t reflect.Type) string {
	if t != reflect.TypeOf(ruleDoc{}) && t != reflect.TypeOf(overrideDoc{}) {
		return inherited
	}
	if v := valueNode(n, "id"); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return inherited
}

// valueNode returns the value of key in mapping n, or nil.
func valueNode(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// pathNode walks keys from n; it returns the deepest node found, so a
// position is always available.
func pathNode(n *yaml.Node, keys ...string) *yaml.Node {
	cur := n
	for _, k := range keys {
		v := valueNode(cur, k)
		if v == nil {
			return cur
		}
		cur = v
	}
	return cur
}

func (l *loader) errf(f *srcFile, at *yaml.Node, ruleID, fieldName, format string, args ...any) {
	e := &Error{File: f.name, RuleID: ruleID, Field: fieldName, Msg: fmt.Sprintf(format, args...)}
	if at != nil {
		e.Line, e.Column = at.Line, at.Column
	}
	l.add(e)
}
