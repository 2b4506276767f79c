package rules

import "unsafe"

// prefetch asks the CPU to load the cache lines of the n bytes at p (at
// least one line), without waiting for them: a hint, which neither faults
// nor stalls.
//
//go:noescape
func prefetch(p unsafe.Pointer, n uintptr)
