package rules

import (
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/packetsleuth/packetsleuth/rulesets"
)

// FuzzLoad feeds arbitrary YAML to the loader: it must never panic, and
// either return a set or errors (each an *Error), never both or neither.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yaml")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err == nil {
			f.Add(b)
		}
	}
	for _, d := range rulesets.Dirs {
		ents, _ := rulesets.FS.ReadDir(d)
		for _, e := range ents {
			b, _ := rulesets.FS.ReadFile(d + "/" + e.Name())
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		set, errs := Load(fstest.MapFS{"f.yaml": {Data: data}}, "f.yaml")
		if (set == nil) == (len(errs) == 0) {
			t.Fatalf("set %v with %d errors", set != nil, len(errs))
		}
		for _, err := range errs {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("%T", err)
			}
			_ = err.Error()
		}
		if set != nil {
			ev := NewEvaluator(set, EvalOptions{IncludeDisabled: true})
			for _, r := range set.Rules() {
				for i := range r.Tests {
					evs := r.Tests[i].Events()
					for j := range evs {
						ev.Eval(&evs[j], func(*schemasEvent) {})
					}
				}
			}
		}
	})
}
