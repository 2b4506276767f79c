//go:build !linux

package outputstest

import "testing"

// TinyDisk skips: the tmpfs in a private mount namespace is Linux's.
func TinyDisk(t *testing.T, size int64) string {
	t.Skip("needs Linux for a tmpfs in a private mount namespace")
	return ""
}
