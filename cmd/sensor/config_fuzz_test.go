package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadConfig: any sensor.yaml either loads or fails with an error that
// names the file; it never panics.
func FuzzLoadConfig(f *testing.F) {
	if b, err := os.ReadFile("../../sensor.yaml.example"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("workers: 2\nflow: {tcp: 5m}\noutputs: [{type: file, path: x}]\n"))
	f.Add([]byte("interfaces: [eth0, {name: eth1, fanout: 2}]\npeaks: {enabled: true, k: -1}\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, doc []byte) {
		path := filepath.Join(dir, "sensor.yaml")
		if err := os.WriteFile(path, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := loadConfig(path); err != nil && !strings.Contains(err.Error(), "sensor.yaml") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}
