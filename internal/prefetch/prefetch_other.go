//go:build !amd64

// Package prefetch asks the CPU for cache lines ahead of their use (a
// hint this architecture is not given).
package prefetch

import "unsafe"

// Lines is a hint this architecture is not given.
func Lines(p unsafe.Pointer, n uintptr) {}
