//go:build !linux

package top

import (
	"errors"
	"os"
)

// rawTerminal is only implemented on Linux; elsewhere sensor top prints
// plain snapshots (pipe it or use --count).
func rawTerminal(*os.File) (func(), error) {
	return nil, errors.New("the interactive view needs Linux; pipe the output for plain snapshots")
}

func terminalSize(*os.File) (int, int) { return 0, 0 }
