// Package rulesets holds the detection rules PacketSleuth ships, embedded in
// the binary. stable/ is the default set a SOC switches on from day one;
// experimental/ holds rules still being tuned, shipped disabled (enable them
// with an `overrides:` entry in a local file).
//
// Every rule carries its own `tests:` (positive and negative cases) and a
// false-positive note; tuning hooks are lists and macros that default to
// empty and are overridden in local files, never edited here. Load them with
// rules.LoadDefault; `go test ./rulesets/...` runs every rule's tests.
package rulesets

import "embed"

// FS holds the shipped rule files.
//
//go:embed stable/*.yaml experimental/*.yaml
var FS embed.FS

// Dirs are the directories of FS, in load order (shared lists and macros
// live in stable/, which experimental/ rules may use).
var Dirs = []string{"stable", "experimental"}
