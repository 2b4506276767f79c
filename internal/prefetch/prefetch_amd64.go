// Package prefetch asks the CPU for cache lines ahead of their use: for
// the lines of a random slot of a large table (an LRU's next eviction, a
// flow index's slot for a packet further on in a batch), whose first load
// would otherwise wait for memory.
package prefetch

import "unsafe"

// Lines asks the CPU to load the cache lines of the n bytes at p (at
// least one line), without waiting for them: a hint, which neither faults
// nor stalls.
//
//go:noescape
func Lines(p unsafe.Pointer, n uintptr)
