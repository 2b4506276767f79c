package hunt

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)

func stream(secs ...int) Stream {
	return func(yield func(Doc, error) bool) {
		for _, s := range secs {
			if !yield(Doc{Time: t0.Add(time.Duration(s) * time.Second), JSON: []byte(fmt.Sprint(s))}, nil) {
				return
			}
		}
	}
}

func collect(t *testing.T, s Stream) string {
	t.Helper()
	var out []string
	for d, err := range s {
		if err != nil {
			return "error: " + err.Error()
		}
		out = append(out, string(d.JSON))
	}
	return strings.Join(out, " ")
}

func TestMergeAndReorder(t *testing.T) {
	if got := collect(t, Merge(stream(1, 4, 9), stream(), stream(2, 3, 10), stream(4))); got != "1 2 3 4 4 9 10" {
		t.Errorf("merge: %s", got)
	}
	// within the window: sorted; beyond it: passed on late, in order seen
	if got := collect(t, Reorder(stream(5, 1, 3, 2, 9, 8), 3, 1<<20)); got != "1 2 3 5 8 9" {
		t.Errorf("reorder: %s", got)
	}
	if got := collect(t, Reorder(stream(5, 6, 7, 8, 1), 2, 1<<20)); got != "5 6 1 7 8" {
		t.Errorf("reorder beyond the window: %s", got)
	}
	// the byte bound (two one-byte documents) holds fewer than the count allows
	if got := collect(t, Reorder(stream(5, 6, 7, 8, 1), 100, 2)); got != "5 6 1 7 8" {
		t.Errorf("reorder within 2 bytes: %s", got)
	}
	boom := func(yield func(Doc, error) bool) { yield(Doc{}, errors.New("boom")) }
	if got := collect(t, Merge(stream(1), boom)); got != "error: boom" {
		t.Errorf("merge error: %s", got)
	}
	// stopping early releases every stream
	for range Merge(stream(1, 2), stream(3)) {
		break
	}
}

func TestDocOf(t *testing.T) {
	for in, want := range map[string]string{
		`{"@timestamp":"2026-12-06T10:00:00.5Z","ecs":{}}`: "2026-12-06T10:00:00.5Z",
		`{"ecs":{},"@timestamp":"2026-12-06T10:00:01Z"}`:   "2026-12-06T10:00:01Z",
	} {
		d, err := DocOf([]byte(in))
		if err != nil || d.Time.Format(time.RFC3339Nano) != want {
			t.Errorf("%s: %v %v", in, d.Time, err)
		}
	}
	if _, err := DocOf([]byte(`{"@timestamp":`)); err == nil {
		t.Error("a broken document was accepted")
	}
}
