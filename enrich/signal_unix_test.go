//go:build unix

package enrich

import (
	"context"
	"syscall"
	"testing"
	"time"
)

func TestReloadOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "l.txt", "192.0.2.1\n")
	s, w := openIntel(t, p)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.ReloadOnSignal(ctx, syscall.SIGHUP); close(done) }()
	defer func() { cancel(); <-done }()
	time.Sleep(20 * time.Millisecond) // let Notify register
	writeFile(t, dir, "l.txt", "192.0.2.7\n")
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		ev := flow("192.0.2.7", "10.0.0.1")
		w.Enrich(ev)
		return len(ev.Threat.Enrichments) == 1
	})
}
