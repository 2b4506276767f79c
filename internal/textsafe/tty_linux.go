package textsafe

import (
	"os"

	"golang.org/x/sys/unix"
)

// isTTY asks the kernel whether f is a terminal (it has terminal settings).
func isTTY(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
