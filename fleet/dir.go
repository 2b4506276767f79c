package fleet

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Dir is a sensor's fleet directory:
//
//	sets/<hash>/rules/*.yaml, sets/<hash>/intel/*   one directory a set
//	current -> sets/<hash>                           the set in force (a symlink, swapped by rename)
//
// The rule and intel paths go through current, so a reload after the swap
// reads the new set whole, and a sensor that starts without its broker
// runs the last set it had.
type Dir string

// RulesPath is the rules directory of the set in force.
func (d Dir) RulesPath() string { return filepath.Join(string(d), "current", "rules") }

// IntelPath is the intel directory of the set in force.
func (d Dir) IntelPath() string { return filepath.Join(string(d), "current", "intel") }

// Checker loads a staged set as the sensor would and says what is wrong
// with it.
type Checker func(rulesDir, intelDir string) error

// Ensure makes the directory and, when no set is in force yet, puts the
// empty set in force, so that the paths exist.
func (d Dir) Ensure() error {
	if err := os.MkdirAll(filepath.Join(string(d), "sets"), 0o750); err != nil {
		return fmt.Errorf("fleet.dir: %w", err)
	}
	if _, err := os.Stat(filepath.Join(string(d), "current")); err == nil {
		return nil
	}
	_, err := d.Install(Bundle{}, nil)
	return err
}

// Current is the version of the set in force ("" when none).
func (d Dir) Current() string {
	target, err := os.Readlink(filepath.Join(string(d), "current"))
	if err != nil {
		return ""
	}
	return "sha256:" + filepath.Base(target)
}

// Install writes b beside the set in force, checks it, and puts it in
// force. On any error the set in force stays and nothing of b is kept.
func (d Dir) Install(b Bundle, check Checker) (version string, err error) {
	if err := b.check(); err != nil {
		return "", err
	}
	version = b.Version()
	hash := strings.TrimPrefix(version, "sha256:")
	sets := filepath.Join(string(d), "sets")
	if err := os.MkdirAll(sets, 0o750); err != nil {
		return "", fmt.Errorf("fleet.dir: %w", err)
	}
	final := filepath.Join(sets, hash)
	if _, err := os.Stat(final); err != nil {
		stage, err := os.MkdirTemp(sets, ".stage-")
		if err != nil {
			return "", fmt.Errorf("fleet.dir: %w", err)
		}
		defer os.RemoveAll(stage) // renamed away when it is good
		for sub, files := range map[string]map[string][]byte{"rules": b.Rules, "intel": b.Intel} {
			if err := os.Mkdir(filepath.Join(stage, sub), 0o750); err != nil {
				return "", fmt.Errorf("fleet.dir: %w", err)
			}
			for n, data := range files {
				if err := os.WriteFile(filepath.Join(stage, sub, n), data, 0o640); err != nil {
					return "", fmt.Errorf("fleet.dir: %w", err)
				}
			}
		}
		if check != nil {
			if err := check(filepath.Join(stage, "rules"), filepath.Join(stage, "intel")); err != nil {
				return "", err
			}
		}
		if err := os.Rename(stage, final); err != nil {
			return "", fmt.Errorf("fleet.dir: %w", err)
		}
	}
	// swap current atomically: a new link renamed over the old one
	link := filepath.Join(string(d), ".current-new")
	os.Remove(link)
	if err := os.Symlink(filepath.Join("sets", hash), link); err != nil {
		return "", fmt.Errorf("fleet.dir: %w", err)
	}
	prev := d.Current()
	if err := os.Rename(link, filepath.Join(string(d), "current")); err != nil {
		return "", fmt.Errorf("fleet.dir: %w", err)
	}
	d.prune(hash, strings.TrimPrefix(prev, "sha256:"))
	return version, nil
}

// prune removes the sets but the one in force and the one before it.
func (d Dir) prune(keep ...string) {
	sets := filepath.Join(string(d), "sets")
	ents, err := os.ReadDir(sets)
	if err != nil {
		return
	}
	for _, e := range ents {
		if n := e.Name(); !strings.HasPrefix(n, ".") && n != keep[0] && n != keep[1] {
			os.RemoveAll(filepath.Join(sets, n))
		}
	}
}
