package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const root = "../../.."

// TestGeneratedFilesAreCurrent regenerates every output in memory and
// compares it with the committed file: a struct changed without
// `go generate ./schemas` fails here.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	m, err := load(filepath.Join(root, "schemas"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := generate(m)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Errorf("%s: %v (run go generate ./schemas)", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./schemas", name)
		}
	}
	if len(m.leaves) < 150 {
		t.Errorf("only %d leaf fields: the walk is broken", len(m.leaves))
	}
}

// TestFieldsAreECS holds every field to the official ECS definitions.
func TestFieldsAreECS(t *testing.T) {
	path := defaultECS(root)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("official ECS definitions not beside the repository (%v)", err)
	}
	m, err := load(filepath.Join(root, "schemas"))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkECS(m, path); err != nil {
		t.Fatal(err)
	}
	// And the check can fail: JA4 where it used to be, a wrong type, an
	// ECS name under packetsleuth.*.
	bad := &model{root: []*field{
		{path: "tls.client.ja4", goPath: "X.JA4", esType: "keyword"},
		{path: "source.port", goPath: "X.Port", esType: "keyword"},
		{path: "packetsleuth", goPath: "X.Sensor", esType: "object", children: []*field{}},
	}}
	err = checkECS(bad, path)
	if err == nil || !strings.Contains(err.Error(), "tls.client.ja4") || !strings.Contains(err.Error(), "source.port (X.Port) is a keyword, ECS says long") {
		t.Fatalf("checkECS on bad fields: %v", err)
	}
}

// The encoder refuses what encoding/json would write differently.
func TestEncoderRefusesUnknownShapes(t *testing.T) {
	m, err := load(filepath.Join(root, "schemas"))
	if err != nil {
		t.Fatal(err)
	}
	f := m.byPath["event.start"]
	saved := f.sf.Tag
	f.sf.Tag = `json:"start,omitempty" expr:"start"`
	defer func() { f.sf.Tag = saved }()
	if _, err := genEncoder(m); err == nil || !strings.Contains(err.Error(), "Event.Event.Start: omitempty never drops a time.Time") {
		t.Fatalf("genEncoder with omitempty on a time: %v", err)
	}
}

// TestGoldenEventsFitDatasets holds schemas.DatasetGroups to what the
// sensor emits: every field of every golden event is one its dataset is
// said to carry.
func TestGoldenEventsFitDatasets(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(root, "testdata", "golden", "*.ndjson"))
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	m, err := load(filepath.Join(root, "schemas"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			var ev map[string]any
			if err := json.Unmarshal(line, &ev); err != nil {
				t.Fatalf("%s:%d: %v", name, i+1, err)
			}
			ds := ev["event"].(map[string]any)["dataset"].(string)
			seen[ds] = true
			for _, path := range leafPaths(ev, "") {
				f := m.byPath[path]
				switch {
				case f == nil:
					t.Errorf("%s:%d: %s is no field of the schema", filepath.Base(name), i+1, path)
				case !slices.Contains(f.datasets, ds):
					t.Errorf("%s:%d: %s event carries %s, which schemas.DatasetGroups does not give it", filepath.Base(name), i+1, ds, path)
				}
			}
		}
	}
	if len(seen) < 3 {
		t.Errorf("golden events of %d datasets only", len(seen))
	}
}

// leafPaths lists the dotted paths of a decoded event's leaf values; a
// geo_point ({lat, lon}) and a map of counters are leaves of the schema.
func leafPaths(v map[string]any, prefix string) []string {
	var out []string
	for k, e := range v {
		p := prefix + k
		switch e := e.(type) {
		case map[string]any:
			if _, ok := e["lat"]; ok || k == "bytes_by_protocol" {
				out = append(out, p)
				continue
			}
			out = append(out, leafPaths(e, p+".")...)
		case []any:
			if len(e) > 0 {
				if _, ok := e[0].(map[string]any); ok {
					for _, el := range e {
						out = append(out, leafPaths(el.(map[string]any), p+".")...)
					}
					continue
				}
			}
			out = append(out, p)
		default:
			out = append(out, p)
		}
	}
	return out
}
