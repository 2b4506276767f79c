//go:build linux

package outputstest

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// childEnv names the test that runs in the private mount namespace.
const childEnv = "PS_TINYDISK_TEST"

// TinyDisk gives the calling test a tmpfs of size bytes, so that it can
// fill a disk for real (ENOSPC) without touching the machine's disks. The
// tmpfs is mounted in a private mount namespace: the first call re-runs
// only this test under `unshare -m` and reports its output and result,
// then returns "" and the caller must return. In that child, it mounts the
// tmpfs on a new directory and returns its path. It skips without root or
// unshare(1).
//
//	dir := outputstest.TinyDisk(t, 256<<10)
//	if dir == "" {
//		return // the test ran in the child
//	}
func TinyDisk(t *testing.T, size int64) string {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		dir := t.TempDir()
		if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
			t.Fatalf("mount tmpfs: %v", err)
		}
		t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
		return dir
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs in a private mount namespace")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("needs unshare(1) (util-linux) for a private mount namespace")
	}
	parts := strings.Split(t.Name(), "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	cmd := exec.Command(unshare, "-m", "--propagation", "private", os.Args[0],
		"-test.run="+strings.Join(parts, "/"), "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	t.Logf("in a private mount namespace:\n%s", out)
	if err != nil {
		t.Fatalf("the test failed in its mount namespace: %v", err)
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("the test did not pass in its mount namespace")
	}
	return ""
}
