package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/sensor/pipeline"
	"golang.org/x/sys/unix"
)

func TestProgressLine(t *testing.T) {
	for _, c := range []struct {
		s       pipeline.Stats
		elapsed time.Duration
		want    string
	}{
		{pipeline.Stats{InputBytes: 100 << 20, InputRead: 50 << 20, Frames: 120000}, 10 * time.Second,
			"[############------------]  50% 50 MiB / 100 MiB  12k pkt/s  ETA 0:10"},
		{pipeline.Stats{InputBytes: 4 << 30, InputRead: 1 << 30, Frames: 3_000_000}, 20 * time.Minute,
			"[######------------------]  25% 1.0 GiB / 4.0 GiB  2.5k pkt/s  ETA 1:00:00"},
		{pipeline.Stats{InputBytes: 1 << 20}, 0, "[------------------------]   0% 0 B / 1.0 MiB  0 pkt/s  ETA --:--"},
		// A file that grew while read: never past 100%, no negative ETA.
		{pipeline.Stats{InputBytes: 1 << 20, InputRead: 2 << 20, Frames: 10}, time.Second,
			"[########################] 100% 2.0 MiB / 1.0 MiB  10 pkt/s  ETA 0:00"},
		{pipeline.Stats{InputRead: 3 << 20, Frames: 7}, time.Second, "3.0 MiB read, 7 frames, 7 pkt/s"},
	} {
		if got := progressLine(c.s, c.elapsed); got != c.want {
			t.Errorf("progressLine(%d of %d, %d frames, %v)\n got %q\nwant %q", c.s.InputRead, c.s.InputBytes, c.s.Frames, c.elapsed, got, c.want)
		}
	}
}

// openPTY opens a pseudo-terminal and returns its terminal side and its
// master (which reads what is written to the terminal).
func openPTY(t *testing.T) (tty, master *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open pts: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	return tty, master
}

// The bar is drawn only on a terminal: not into a buffer, a file, a pipe
// or /dev/null (a character device, but no terminal), nor with --quiet;
// and a replay whose stderr is no terminal prints the plain summary only.
func TestProgressOnlyOnATerminal(t *testing.T) {
	file, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for name, out := range map[string]any{"buffer": &bytes.Buffer{}, "file": file, "/dev/null": devNull, "pipe": w} {
		if showProgress(false, out.(interface{ Write([]byte) (int, error) })) {
			t.Errorf("progress bar on a %s", name)
		}
	}
	tty, _ := openPTY(t)
	if !showProgress(false, tty) {
		t.Error("no progress bar on a terminal")
	}
	if showProgress(true, tty) {
		t.Error("progress bar with --quiet")
	}

	var stderr bytes.Buffer
	if rc := run([]string{"replay", "--out", filepath.Join(t.TempDir(), "o.ndjson"), "../../testdata/pcaps"}, &bytes.Buffer{}, &stderr); rc != 0 {
		t.Fatalf("replay rc %d: %s", rc, stderr.String())
	}
	if strings.ContainsAny(stderr.String(), "\r\033") || strings.Contains(stderr.String(), "ETA") {
		t.Errorf("progress output in a replay to a buffer:\n%q", stderr.String())
	}
}
