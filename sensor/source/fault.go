package source

import "fmt"

// FaultIsError turns a memory fault of the calling goroutine into *err, an
// error of the capture name: a file read from its mapping (File) that
// another process truncates meanwhile faults where its pages went, and
// that must end the reading with a clear message, not the process. Use it
// deferred, with faults made panics for the goroutine:
//
//	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
//	defer source.FaultIsError(name, &err)
//
// Any other panic goes on.
func FaultIsError(name string, err *error) {
	r := recover()
	if r == nil {
		return
	}
	if fault, ok := r.(interface{ Addr() uintptr }); ok {
		*err = fmt.Errorf("%s: the file changed while it was read (cut by another process?): %v", name, fault)
		return
	}
	panic(r)
}
