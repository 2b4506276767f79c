package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/files"
)

func TestFilesConfig(t *testing.T) {
	cfg, err := loadConfig("../../sensor.yaml.example")
	if err != nil {
		t.Fatal(err)
	}
	l := cfg.Files.layer()
	if l == nil || !slices.Equal(l.Hashes, []files.Hash{files.SHA256}) || l.MaxFileBytes != 1<<30 || l.MaxOpen != 1024 || cfg.Files.Store.Dir != "" {
		t.Fatalf("example files: %+v %+v", l, cfg.Files.Store)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("files:\n  hashes: []\n  store:\n    dir: x\n    when: [PS-FILE-001]\n    types: [pe]\n"), 0o644)
	cfg, err = loadConfig(good)
	if err != nil {
		t.Fatal(err)
	}
	if l := cfg.Files.layer(); !l.NoHashes {
		t.Errorf("hashes: [] should compute none: %+v", l)
	}
	if sc := cfg.Files.Store.store(); sc.When != "" || !slices.Equal(sc.Rules, []string{"PS-FILE-001"}) || sc.Dir != "x" {
		t.Errorf("store %+v", sc)
	}
	off := filepath.Join(dir, "off.yaml")
	os.WriteFile(off, []byte("files:\n  enabled: false\n"), 0o644)
	if cfg, _ := loadConfig(off); cfg.Files.layer() != nil {
		t.Error("enabled: false leaves the layer on")
	}

	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("files:\n  hashes: [sha256, crc32]\n  max_open: -1\n  store:\n    when: sometimes\n"), 0o644)
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"config", "check", "--config", bad}, &stdout, &stderr); rc != 1 {
		t.Fatalf("rc=%d: %s", rc, stderr.String())
	}
	for _, want := range []string{`line 2: files.hashes[1]: unknown hash "crc32"`, "line 3: files.max_open", "line 5: files.store.when: must be all, alerts", "files.store: set dir"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("missing %q in:\n%s", want, stderr.String())
		}
	}
}
