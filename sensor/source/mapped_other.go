//go:build !unix

package source

import (
	"io"
	"os"
)

// Without mmap every file is read through a buffer.
type mapped struct {
	b    []byte
	off  int
	held bool
}

func mapFile(*os.File) *mapped { return nil }

func (m *mapped) close() {}

func (m *mapped) release(int) {}

func (m *mapped) next(*File) ([]byte, captureInfo, error) {
	return nil, captureInfo{}, io.EOF
}
