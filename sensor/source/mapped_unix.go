//go:build unix

package source

import (
	"os"
	"syscall"
)

// mapFile maps f whole, or returns nil when it cannot (not a regular file,
// empty, or no mmap): the caller then reads it through a buffer.
func mapFile(f *os.File) *mapped {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() <= 0 || st.Size() != int64(int(st.Size())) {
		return nil
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE)
	if err != nil {
		return nil
	}
	syscall.Madvise(b, syscall.MADV_SEQUENTIAL)
	return &mapped{b: b}
}

func (m *mapped) close() {
	if m != nil {
		syscall.Munmap(m.b)
	}
}

// release gives back the pages before off once they make dropBehind.
func (m *mapped) release(off int) {
	if off-m.dropped >= dropBehind {
		keep := off &^ (os.Getpagesize() - 1)
		if keep > m.dropped {
			syscall.Madvise(m.b[m.dropped:keep], syscall.MADV_DONTNEED)
			m.dropped = keep
		}
	}
}
