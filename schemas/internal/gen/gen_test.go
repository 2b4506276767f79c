package main

import (
	"bytes"
	"os"
	"path/filepath"
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
