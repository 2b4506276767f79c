// Package fleet publishes rules and intel lists once for a whole fleet and
// keeps each sensor on the newest good set: a set is one message on a
// compacted Kafka topic; a sensor checks it (every rule compiles, every
// intel list parses) in a directory of its own before it swaps it in, and
// keeps the last good set on disk, so a bad set or an unreachable broker
// leaves it running with what it had. A set's version is the SHA-256 of
// its content, computed by each sensor, and reported in its stats events.
package fleet

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// MaxBundleBytes bounds a set on the wire: Kafka's default
// message.max.bytes (a larger set is refused by the publisher).
const MaxBundleBytes = 1000000

// Bundle is one published set: rule files and intel lists by file name.
type Bundle struct {
	Rules map[string][]byte `json:"rules,omitempty"`
	Intel map[string][]byte `json:"intel,omitempty"`
}

// Version is "sha256:" and the hash of the set's names and contents, the
// same whatever the order or the encoding they came in.
func (b Bundle) Version() string {
	h := sha256.New()
	for _, part := range []struct {
		kind  string
		files map[string][]byte
	}{{"rules", b.Rules}, {"intel", b.Intel}} {
		names := make([]string, 0, len(part.files))
		for n := range part.files {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			for _, s := range [][]byte{[]byte(part.kind), []byte(n), part.files[n]} {
				binary.Write(h, binary.BigEndian, uint64(len(s)))
				h.Write(s)
			}
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Encode is the set as published (JSON; contents in base64).
func (b Bundle) Encode() ([]byte, error) {
	data, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	if len(data) > MaxBundleBytes {
		return nil, fmt.Errorf("fleet: the set is %d bytes encoded, more than %d (Kafka's message.max.bytes)", len(data), MaxBundleBytes)
	}
	return data, nil
}

// Decode reads a published set and checks its file names.
func Decode(data []byte) (Bundle, error) {
	var b Bundle
	if len(data) > MaxBundleBytes {
		return b, fmt.Errorf("fleet: a set of %d bytes, more than %d", len(data), MaxBundleBytes)
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return b, fmt.Errorf("fleet: not a set: %w", err)
	}
	return b, b.check()
}

// check refuses names that would leave the set's directory, and rule files
// the loader would not read.
func (b Bundle) check() error {
	var errs []error
	for kind, files := range map[string]map[string][]byte{"rules": b.Rules, "intel": b.Intel} {
		for n := range files {
			if n == "" || n != filepath.Base(n) || strings.HasPrefix(n, ".") || strings.ContainsAny(n, "/\\\x00") {
				errs = append(errs, fmt.Errorf("fleet: %s file name %q: a plain file name is needed", kind, n))
			} else if kind == "rules" && !isRuleFile(n) {
				errs = append(errs, fmt.Errorf("fleet: rules file %q: rule files end in .yaml or .yml", n))
			}
		}
	}
	return errors.Join(errs...)
}

// isRuleFile says whether the rule loader reads a file of this name.
func isRuleFile(n string) bool { return strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml") }

// ReadFiles makes a set of the rule files (a directory stands for every
// *.yaml/*.yml in it) and intel lists given.
func ReadFiles(rules, intel []string) (Bundle, error) {
	b := Bundle{Rules: map[string][]byte{}, Intel: map[string][]byte{}}
	var errs []error
	add := func(m map[string][]byte, p string, keep func(string) bool) {
		fi, err := os.Stat(p)
		if err != nil {
			errs = append(errs, err)
			return
		}
		paths := []string{p}
		if fi.IsDir() {
			ents, err := os.ReadDir(p)
			if err != nil {
				errs = append(errs, err)
				return
			}
			paths = paths[:0]
			for _, e := range ents {
				if e.Type().IsRegular() && keep(e.Name()) {
					paths = append(paths, filepath.Join(p, e.Name()))
				}
			}
		}
		for _, f := range paths {
			data, err := os.ReadFile(f)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			n := filepath.Base(f)
			if _, dup := m[n]; dup {
				errs = append(errs, fmt.Errorf("fleet: two files named %s", n))
			}
			m[n] = data
		}
	}
	notHidden := func(n string) bool { return !strings.HasPrefix(n, ".") }
	for _, p := range rules {
		add(b.Rules, p, isRuleFile)
	}
	for _, p := range intel {
		add(b.Intel, p, notHidden)
	}
	if err := errors.Join(errs...); err != nil {
		return b, err
	}
	return b, b.check()
}
