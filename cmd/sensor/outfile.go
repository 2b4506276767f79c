package main

import (
	"fmt"
	"os"
)

// outFile is the NDJSON file --out writes. A file that exists is appended
// to, never truncated (as Suricata's eve.json): the summary says so, with
// the size it had, so a re-run into the same file is not a surprise.
type outFile struct {
	path    string // "" = none, "-" = stdout
	existed bool
	size    int64 // bytes before the run, when it existed
}

// statOut looks at path before the outputs open it.
func statOut(path string) outFile {
	o := outFile{path: path}
	if o.isFile() {
		if fi, err := os.Stat(path); err == nil {
			o.existed, o.size = true, fi.Size()
		}
	}
	return o
}

func (o outFile) isFile() bool { return o.path != "" && o.path != "-" }

// ensure creates the file (empty) when the run wrote no event to it, so the
// file the summary names exists.
func (o outFile) ensure() error {
	if !o.isFile() {
		return nil
	}
	f, err := os.OpenFile(o.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640) // the file output's default mode
	if err != nil {
		return err
	}
	return f.Close()
}

// summary is the summary line about the file ("" when none).
func (o outFile) summary() string {
	switch {
	case !o.isFile():
		return ""
	case o.existed:
		return fmt.Sprintf("events appended to %s (existed, %d bytes)", o.path, o.size)
	}
	return "events written to " + o.path
}
