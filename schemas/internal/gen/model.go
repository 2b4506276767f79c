package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// field is one json path of schemas.Event: a group (a struct, with
// children) or a leaf (a value Elasticsearch indexes as one type).
type field struct {
	path     string // dotted json path: dns.question.name
	goPath   string // Event.DNS.Question.Name, for error messages
	sf       reflect.StructField
	typ      reflect.Type // sf.Type with slices stripped
	array    bool         // a slice: ECS arrays have their element's type
	esType   string       // keyword, long, ip, date, object, nested, …
	text     bool         // a match_only_text multi-field
	desc     string       // the doc comment, without its Example
	example  string
	children []*field
	datasets []string // leaves only: the datasets that can carry it
}

// leaf says whether Elasticsearch maps the field as one value (a
// geo_point is a struct in Go).
func (f *field) leaf() bool { return f.children == nil || f.esType == "geo_point" }

var (
	timeType     = reflect.TypeFor[time.Time]()
	durationType = reflect.TypeFor[time.Duration]()
)

// model is what the generator knows about the schema.
type model struct {
	root     []*field // the fields of schemas.Event
	leaves   []*field // every leaf, in declaration order
	byPath   map[string]*field
	datasets []string // sorted
}

// load walks schemas.Event by reflection for names, types and tags, and the
// package's source for the doc comments.
func load(srcDir string) (*model, error) {
	docs, err := fieldDocs(srcDir)
	if err != nil {
		return nil, err
	}
	m := &model{byPath: map[string]*field{}}
	var errs []string
	m.root = m.walk(reflect.TypeFor[schemas.Event](), "", "Event", "Event", docs, true, &errs)
	for ds := range schemas.DatasetGroups {
		m.datasets = append(m.datasets, ds)
	}
	slices.Sort(m.datasets)
	for _, ds := range m.datasets {
		for _, g := range schemas.DatasetGroups[ds] {
			if m.byPath[g] == nil {
				errs = append(errs, fmt.Sprintf("schemas.DatasetGroups[%q] names %q, which is no field of Event", ds, g))
			}
		}
	}
	for _, f := range m.leaves {
		for _, ds := range m.datasets {
			if carries(schemas.DatasetGroups[ds], f.path) {
				f.datasets = append(f.datasets, ds)
			}
		}
		if f.datasets == nil {
			errs = append(errs, fmt.Sprintf("%s (%s) is carried by no dataset: add it (or its group) to schemas.DatasetGroups", f.path, f.goPath))
		}
	}
	if errs != nil {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return m, nil
}

// carries says whether a dataset filling groups carries the field at path:
// a group carries every field below it.
func carries(groups []string, path string) bool {
	for _, g := range groups {
		if path == g || strings.HasPrefix(path, g+".") {
			return true
		}
	}
	return false
}

// walk lists the fields of struct t. docKey names t in docs: the type name,
// or Parent.Field for an anonymous struct. Unless index is set (inside a
// geo_point), the fields are only parts of a value: not in the field table.
func (m *model) walk(t reflect.Type, prefix, goPrefix, docKey string, docs map[string]string, index bool, errs *[]string) []*field {
	var out []*field
	for i := range t.NumField() {
		sf := t.Field(i)
		f := &field{sf: sf, goPath: goPrefix + "." + sf.Name}
		fail := func(format string, args ...any) {
			*errs = append(*errs, f.goPath+": "+fmt.Sprintf(format, args...))
		}
		if !sf.IsExported() || sf.Anonymous {
			fail("unexported and embedded fields are not supported")
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			fail("needs a json name")
			continue
		}
		f.path = prefix + name
		if want := strings.TrimPrefix(name, "@"); sf.Tag.Get("expr") != want {
			fail("expr tag %q, want %q (rules read the json name)", sf.Tag.Get("expr"), want)
		}
		f.typ = sf.Type
		if f.typ.Kind() == reflect.Slice {
			f.typ, f.array = f.typ.Elem(), true
		}
		f.desc, f.example = splitExample(docs[docKey+"."+sf.Name])
		out = append(out, f)
		if !index {
			continue
		}
		m.byPath[f.path] = f

		esTag := sf.Tag.Get("es")
		esType, opt, _ := strings.Cut(esTag, ",")
		f.text = opt == "text"
		if f.typ.Kind() == reflect.Struct && f.typ != timeType {
			childKey := f.typ.Name()
			if childKey == "" {
				childKey = docKey + "." + sf.Name
			}
			f.children = m.walk(f.typ, f.path+".", f.goPath, childKey, docs, esType != "geo_point", errs)
		}
		if f.children != nil && esType != "geo_point" {
			f.esType = "object"
			if esType == "nested" {
				f.esType = esType
			} else if esType != "" {
				fail("es tag %q on a group", esTag)
			}
			continue
		}
		f.esType = esType
		if f.esType == "" {
			f.esType = defaultESType(f.typ)
		}
		if f.esType == "" {
			fail("no Elasticsearch type for %s: give it an es tag", sf.Type)
		}
		if f.desc == "" {
			fail("no description: write a doc comment on the field")
		}
		m.leaves = append(m.leaves, f)
	}
	return out
}

// defaultESType is the Elasticsearch type of a Go type, when the es tag
// does not say more (ip, wildcard, float…).
func defaultESType(t reflect.Type) string {
	switch {
	case t == timeType:
		return "date"
	case t == durationType:
		return "long" // nanoseconds
	}
	switch t.Kind() {
	case reflect.String:
		return "keyword"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int64:
		return "long"
	case reflect.Float64:
		return "double"
	case reflect.Map:
		return "object" // open-ended keys, mapped as they come
	}
	return ""
}

// splitExample takes a trailing "Example: x" off a doc comment.
func splitExample(doc string) (desc, example string) {
	doc = strings.Join(strings.Fields(doc), " ")
	if i := strings.LastIndex(doc, "Example: "); i >= 0 {
		return strings.TrimSpace(doc[:i]), strings.TrimSpace(doc[i+len("Example: "):])
	}
	return doc, ""
}

// fieldDocs reads the doc and line comments of every struct field in the
// package's Go files, keyed Type.Field (Type.Field.Sub inside anonymous
// structs).
func fieldDocs(dir string) (map[string]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	docs := map[string]string{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || strings.HasSuffix(name, "_gen.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			if st, ok := ts.Type.(*ast.StructType); ok {
				structDocs(st, ts.Name.Name, docs)
			}
			return false
		})
	}
	return docs, nil
}

func structDocs(st *ast.StructType, key string, docs map[string]string) {
	for _, fl := range st.Fields.List {
		text := strings.TrimSpace(fl.Doc.Text() + " " + fl.Comment.Text())
		for _, n := range fl.Names {
			docs[key+"."+n.Name] = text
			if inner, ok := fl.Type.(*ast.StructType); ok {
				structDocs(inner, key+"."+n.Name, docs)
			}
		}
	}
}
