package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

// skipAll reads doc as an object whose members are all skipped.
func skipAll(doc []byte) bool {
	s := New(doc)
	return s.Object(func(k []byte) bool { return s.Other(k) }) && s.End()
}

var seeds = []string{`{}`, ` {"a":[1,-0.5e+3,true,false,null,"\u00e9\n",{"b":{}}]} `, `null`,
	`{"a":1,}`, `{"a":01}`, `{"a":1} x`, `{"a":"` + "\x01" + `"}`, `{"a":"\q"}`, `{"a":-}`, `{"a":1.}`, `{"a":1e}`, `[1]`,
	`{"a":` + strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1) + `}`}

// Whatever a Scanner reads whole is valid JSON.
func TestSkipOnlyValid(t *testing.T) {
	take := map[string]bool{seeds[0]: true, seeds[1]: true, seeds[2]: true}
	for _, d := range seeds {
		if got := skipAll([]byte(d)); got != take[d] {
			t.Errorf("%q: read %v, want %v", d, got, take[d])
		}
	}
}

func FuzzSkip(f *testing.F) {
	for _, d := range seeds {
		f.Add([]byte(d))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if skipAll(doc) && !json.Valid(doc) {
			t.Fatalf("read invalid JSON %q", doc)
		}
	})
}
