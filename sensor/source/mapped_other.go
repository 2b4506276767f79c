//go:build !unix

package source

import "os"

// Without mmap every file is read through a buffer: no file is mapped.
func mapFile(*os.File) *mapped { return nil }

func (m *mapped) close() {}

func (m *mapped) release(int) {}
