package collector

import (
	"strings"
	"testing"
)

// A collector.yaml with syntax errors names each with line and column.
func TestLoadSyntaxErrors(t *testing.T) {
	path := writeTemp(t, "kafka:\n  brokers: [127.0.0.1:9092\n  topic: events\nstore:\n  dsn: \"x\n")
	_, err := Load(path)
	if err == nil {
		t.Fatal("loaded a broken file")
	}
	for _, want := range []string{path + ":3:3: yaml: ',' or ']' must be specified", path + ":5:8: yaml: could not find end character"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
