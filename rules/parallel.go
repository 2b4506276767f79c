package rules

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// eachParallel calls fn(0) … fn(n-1) on up to GOMAXPROCS goroutines and
// returns when all have returned. The load parses files and compiles
// conditions this way: each call writes only its own slot, and the errors
// are reported afterwards in the order of the files and rules.
func eachParallel(n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		}()
	}
	wg.Wait()
}
