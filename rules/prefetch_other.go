//go:build !amd64

package rules

import "unsafe"

// prefetch is a hint this architecture is not given.
func prefetch(p unsafe.Pointer, n uintptr) {}
