package main

import (
	"github.com/packetsleuth/packetsleuth/files"
	"github.com/packetsleuth/packetsleuth/outputs"
	"go.yaml.in/yaml/v3"
)

// FilesConfig is files: the files layer (files seen in transfers).
type FilesConfig struct {
	// Enabled makes a packetsleuth.file event of every file transferred
	// (default true).
	Enabled *bool `yaml:"enabled"`
	// Hashes computed per file: md5, sha1, sha256 (default sha256).
	Hashes []string `yaml:"hashes"`
	// MaxFileBytes bounds the bytes hashed per file (0: 1 GiB).
	MaxFileBytes outputs.ByteSize `yaml:"max_file_bytes"`
	// MaxOpen bounds the files typed and hashed at once per worker (0: 1024).
	MaxOpen int `yaml:"max_open"`
	// Store extracts files to a directory (off without a dir).
	Store FilesStoreConfig `yaml:"store"`
}

// FilesStoreConfig is files.store.
type FilesStoreConfig struct {
	Dir          string           `yaml:"dir"`
	MaxBytes     outputs.ByteSize `yaml:"max_bytes"`      // total kept (0: 1 GiB)
	MaxFileBytes outputs.ByteSize `yaml:"max_file_bytes"` // larger files are not kept (0: 64 MiB)
	Types        []string         `yaml:"types"`          // media types, prefixes ending in /, pe, elf, macho, script, executable
	When         StoreWhen        `yaml:"when"`           // all, alerts (default) or a list of rule ids
}

// StoreWhen is "all", "alerts" or a list of rule ids.
type StoreWhen struct {
	Mode  string
	Rules []string
}

// UnmarshalYAML accepts a word or a sequence of rule ids.
func (w *StoreWhen) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.SequenceNode {
		return n.Decode(&w.Rules)
	}
	return n.Decode(&w.Mode)
}

func (s FilesStoreConfig) store() files.StoreConfig {
	c := files.StoreConfig{Dir: s.Dir, MaxBytes: int64(s.MaxBytes), MaxFileBytes: int64(s.MaxFileBytes), Types: s.Types, When: s.When.Mode, Rules: s.When.Rules}
	if c.When == "" && len(c.Rules) == 0 {
		c.When = files.WhenAlerts
	}
	return c
}

// layer is the files layer's configuration, nil when it is off.
func (f FilesConfig) layer() *files.Config {
	if f.Enabled != nil && !*f.Enabled {
		return nil
	}
	c := &files.Config{MaxFileBytes: int64(f.MaxFileBytes), MaxOpen: f.MaxOpen}
	for _, s := range f.Hashes {
		if h, err := files.ParseHash(s); err == nil {
			c.Hashes = append(c.Hashes, h)
		}
	}
	if f.Hashes != nil && len(f.Hashes) == 0 {
		c.NoHashes = true // hashes: [] computes none
	}
	return c
}

func (c *Config) validateFiles(add func(error)) {
	for i, s := range c.Files.Hashes {
		if _, err := files.ParseHash(s); err != nil {
			add(c.errAt(err.Error(), "files", "hashes", i))
		}
	}
	if c.Files.MaxFileBytes < 0 {
		add(c.errAt("must not be negative", "files", "max_file_bytes"))
	}
	if c.Files.MaxOpen < 0 {
		add(c.errAt("must not be negative", "files", "max_open"))
	}
	st := c.Files.Store
	switch st.When.Mode {
	case "", files.WhenAll, files.WhenAlerts:
	default:
		add(c.errAt("must be all, alerts or a list of rule ids", "files", "store", "when"))
	}
	if st.MaxBytes < 0 || st.MaxFileBytes < 0 {
		add(c.errAt("max_bytes and max_file_bytes must not be negative", "files", "store"))
	}
	if st.Dir == "" && (st.MaxBytes != 0 || st.MaxFileBytes != 0 || len(st.Types) > 0 || st.When.Mode != "" || st.When.Rules != nil) {
		add(c.errAt("set dir to extract files", "files", "store"))
	}
}
