package main

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/outputs"
)

// sensor.yaml.example documents every key the loader accepts: each key of
// Config (nested too) appears in its section, and each key of every output
// type (runner, routing and the type's own) in the outputs section, set or
// in a comment.
func TestExampleDocumentsEveryKey(t *testing.T) {
	b, err := os.ReadFile("../../sensor.yaml.example")
	if err != nil {
		t.Fatal(err)
	}
	sections := topSections(string(b))
	blocks := outputBlocks(sections["outputs"])
	documented := func(text, leaf string) bool {
		return regexp.MustCompile(`(?m)^[\s#-]*` + regexp.QuoteMeta(leaf) + `:`).MatchString(text)
	}
	var missing []string
	var paths []string
	keyPaths(reflect.TypeFor[Config](), "", &paths)
	for _, p := range paths {
		top, _, _ := strings.Cut(p, ".")
		leaf := p[strings.LastIndex(p, ".")+1:]
		if p == "flow.community_id_seed" { // accepted only to say where it belongs
			continue
		}
		if !documented(sections[top], leaf) {
			missing = append(missing, p)
		}
	}
	for _, typ := range outputs.Types() {
		var own []string
		for _, o := range outputs.OptionTypes(typ) {
			keyPaths(reflect.TypeOf(o), "", &own)
		}
		if len(own) == 0 {
			t.Errorf("output type %s registers no option struct", typ)
		}
		for _, p := range own {
			if !documented(blocks[typ], p[strings.LastIndex(p, ".")+1:]) {
				missing = append(missing, "outputs: type "+typ+": "+p)
			}
		}
		paths = append(paths, own...)
	}
	if len(missing) > 0 {
		t.Errorf("sensor.yaml.example does not document %d keys:\n%s", len(missing), strings.Join(missing, "\n"))
	}
	if len(paths) < 150 {
		t.Errorf("only %d keys found: is the walk broken?", len(paths))
	}
}

// topSections splits the example by its top-level keys (set or commented
// out at column 0).
func topSections(doc string) map[string]string {
	out := map[string]string{}
	cur := ""
	re := regexp.MustCompile(`^#? ?([a-z_]+):`)
	for _, line := range strings.Split(doc, "\n") {
		if m := re.FindStringSubmatch(line); m != nil && !strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "#  ") {
			cur = m[1]
		}
		out[cur] += line + "\n"
	}
	return out
}

// outputBlocks splits the outputs section by "- type: X" entries (set or
// commented out) and joins the blocks of each type.
func outputBlocks(section string) map[string]string {
	out := map[string]string{}
	cur := ""
	re := regexp.MustCompile(`^\s*#?\s*- type: ([a-z]+)`)
	for _, line := range strings.Split(section, "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			cur = m[1]
		}
		out[cur] += line + "\n"
	}
	return out
}

// keyPaths appends the dotted YAML key paths of struct t.
func keyPaths(t reflect.Type, prefix string, out *[]string) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	for f := range t.Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if strings.Contains(opts, "inline") {
			keyPaths(f.Type, prefix, out)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		*out = append(*out, prefix+name)
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft.PkgPath() != "time" && !hasUnmarshaler(ft) {
			keyPaths(ft, prefix+name+".", out)
		}
	}
}

// hasUnmarshaler says a type reads itself from YAML (a scalar form such as
// outputs.Secret), so its fields are not keys.
func hasUnmarshaler(t reflect.Type) bool {
	for _, m := range []string{"UnmarshalYAML", "UnmarshalText"} {
		if _, ok := reflect.PointerTo(t).MethodByName(m); ok {
			return true
		}
	}
	return false
}
