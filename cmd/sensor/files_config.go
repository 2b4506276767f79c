package main

import (
	"github.com/packetsleuth/packetsleuth/files"
	"github.com/packetsleuth/packetsleuth/outputs"
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
}
