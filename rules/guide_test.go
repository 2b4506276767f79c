package rules

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every YAML example of the rule-writing guide is a rule file that loads
// over the shipped rulesets and whose test cases pass.
func TestRulesGuideExamples(t *testing.T) {
	b, err := os.ReadFile("../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(b, -1)
	if len(blocks) < 4 {
		t.Fatalf("%d YAML examples in docs/rules.md", len(blocks))
	}
	for i, m := range blocks {
		path := filepath.Join(t.TempDir(), "example.yaml")
		if err := os.WriteFile(path, m[1], 0o600); err != nil {
			t.Fatal(err)
		}
		set, errs := LoadFiles(Options{Defaults: true}, path)
		if len(errs) > 0 {
			t.Errorf("example %d: %v\n%s", i+1, errs, m[1])
			continue
		}
		var sb strings.Builder
		sum, err := RunTests(set, nil, &sb, TestOptions{})
		if err != nil || sum.Failed > 0 {
			t.Errorf("example %d: %v\n%s", i+1, err, sb.String())
		}
		own := 0
		for _, r := range set.Rules() {
			if r.File == path {
				own += len(r.Tests)
			}
		}
		if own == 0 && !strings.Contains(string(m[1]), "overrides:") {
			t.Errorf("example %d has no test case", i+1)
		}
	}
}
