package yamlsyntax

import (
	"bytes"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestCheckFindsEveryBrokenEntry(t *testing.T) {
	src := `rules:
  - id: A
    condition: "unclosed
    severity: low
  - id: B
    condition: dns_event
  - id: C
    name: two: colons
  - id: D
    condition: tls_event
lists:
- name: l1
  items: [a, b
- name: l2
  items: [c]
`
	clean, errs := Check([]byte(src), 10)
	want := []struct{ line, col int }{{3, 16}, {8, 11}, {13, 10}}
	if len(errs) != len(want) {
		t.Fatalf("errors = %+v, want %d", errs, len(want))
	}
	for i, w := range want {
		if errs[i].Line != w.line || errs[i].Column != w.col || errs[i].Msg == "" {
			t.Errorf("error %d = %+v, want line %d column %d", i, errs[i], w.line, w.col)
		}
	}
	// The clean copy keeps the good entries at their lines and parses.
	var doc struct {
		Rules []struct{ ID string } `yaml:"rules"`
		Lists []struct{ Name string }
	}
	if err := yaml.Unmarshal(clean, &doc); err != nil {
		t.Fatalf("clean copy does not parse: %v\n%s", err, clean)
	}
	var ids []string
	for _, r := range doc.Rules {
		ids = append(ids, r.ID)
	}
	// l1's unclosed bracket is first reported in l2, which comes back
	// once l1 is found to be the cause.
	if len(ids) != 2 || ids[0] != "B" || ids[1] != "D" || len(doc.Lists) != 1 || doc.Lists[0].Name != "l2" {
		t.Errorf("kept rules %v lists %+v, want [B D] and l2", ids, doc.Lists)
	}
	if n := bytes.Count(clean, []byte("\n")); n != bytes.Count([]byte(src), []byte("\n")) {
		t.Errorf("clean copy has %d lines, want the original's", n)
	}
}

func TestCheckStopsAtMax(t *testing.T) {
	src := "a:\n  - x: [1\n  - y: [2\n  - z: [3\n"
	_, errs := Check([]byte(src), 2)
	if len(errs) != 2 {
		t.Fatalf("got %d errors, want the cap 2: %+v", len(errs), errs)
	}
}

func TestCheckValidInputUnchanged(t *testing.T) {
	src := []byte("rules:\n  - id: A\n    condition: dns_event\n")
	clean, errs := Check(src, 5)
	if len(errs) != 0 || !bytes.Equal(clean, src) {
		t.Fatalf("valid input: errs %+v, clean %q", errs, clean)
	}
}

// A bad top-level key (no sequence) blanks that key's block only.
func TestCheckTopLevelScalar(t *testing.T) {
	src := "ruleset: \"open\nrules:\n  - id: A\n"
	clean, errs := Check([]byte(src), 5)
	if len(errs) != 1 || errs[0].Line != 1 {
		t.Fatalf("errs = %+v, want one on line 1", errs)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(clean, &doc); err != nil || doc["rules"] == nil {
		t.Fatalf("clean copy %q: %v %v", clean, doc, err)
	}
}

// FuzzCheck: any input ends (no loop, no panic) with errors at real lines.
func FuzzCheck(f *testing.F) {
	f.Add([]byte("rules:\n  - id: [A\n  - id: B\n"))
	f.Add([]byte("a: \"x\n- b\n\t- c: d: e\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, errs := Check(data, 5)
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, e := range errs {
			if e.Line < 1 || e.Line > lines {
				t.Fatalf("error at line %d of %d", e.Line, lines)
			}
		}
	})
}
