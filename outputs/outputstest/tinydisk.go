package outputstest

import (
	"errors"
	"os"
	"syscall"
	"testing"
)

// FillDisk writes a file in dir until the disk is full and returns its
// path; removing it frees the space again.
func FillDisk(t *testing.T, dir string) string {
	t.Helper()
	p := dir + "/filler"
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return p
			}
			t.Fatalf("filling the disk: %v", err)
		}
	}
}
