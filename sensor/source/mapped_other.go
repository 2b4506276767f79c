//go:build !unix

package source

import (
	"io"
	"os"

	"github.com/gopacket/gopacket"
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

func (m *mapped) next(*File) ([]byte, gopacket.CaptureInfo, error) {
	return nil, gopacket.CaptureInfo{}, io.EOF
}
