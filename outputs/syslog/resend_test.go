package syslog

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
)

// flakyReceiver accepts connections; the first one reads only cut bytes,
// then (if stall is not nil) waits for it to be closed, and resets the
// connection, dropping whatever the kernel still held, like a slow receiver
// that crashes. Later ones read octet-counted frames until EOF. It counts
// the event ids it read.
type flakyReceiver struct {
	ln    net.Listener
	cut   int
	stall chan struct{}
	mu    sync.Mutex
	ids   map[string]int
	wg    sync.WaitGroup
}

func newFlakyReceiver(t *testing.T, cut int, stall chan struct{}) *flakyReceiver {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &flakyReceiver{ln: ln, cut: cut, stall: stall, ids: map[string]int{}}
	f.wg.Go(f.serve)
	t.Cleanup(func() { ln.Close(); f.wg.Wait() })
	return f
}

func (f *flakyReceiver) serve() {
	for first := true; ; first = false {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		var r io.Reader = c
		if first {
			r = io.LimitReader(c, int64(f.cut))
		}
		f.read(bufio.NewReader(r))
		if first {
			if f.stall != nil {
				<-f.stall
			}
			c.(*net.TCPConn).SetLinger(0) // RST: unread data is lost
		}
		c.Close()
	}
}

func (f *flakyReceiver) read(br *bufio.Reader) {
	for {
		ls, err := br.ReadString(' ')
		if err != nil {
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(ls))
		if err != nil {
			return
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(br, msg); err != nil {
			return // a torn frame does not count
		}
		s := string(msg)
		i := strings.Index(s, ` id="`)
		id := s[i+5:]
		id = id[:strings.IndexByte(id, '"')]
		f.mu.Lock()
		f.ids[id]++
		f.mu.Unlock()
	}
}

// tally counts the events m-0..n-1 the receiver never got, and the extra
// copies it got.
func (f *flakyReceiver) tally(m string, n int) (lost, dups int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range n {
		switch c := f.ids[fmt.Sprintf("%s-%d", m, i)]; {
		case c == 0:
			lost++
		case c > 1:
			dups += c - 1
		}
	}
	return lost, dups
}

// A slow receiver that crashes with megabytes unread in its socket: with
// the default window (as much as may be unread) nothing is lost and what
// was sent again is reported as possible duplicates; with a small window
// or none, the loss is not hidden: every event that did not arrive is
// among those reported as possibly lost, and Close says so.
func TestResendAfterReceiverCrash(t *testing.T) {
	for _, tc := range []struct {
		name    string
		bytes   outputs.ByteSize
		window  time.Duration
		n, cut  int
		stalled bool
	}{
		{"default window, 2 MB unread", 0, 0, 12000, 3000, true},
		{"64KiB window, 2 MB unread", 64 << 10, 0, 12000, 3000, true},
		{"no window", 0, -1, 200, 3000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stall chan struct{}
			if tc.stalled {
				stall = make(chan struct{})
			}
			rcv := newFlakyReceiver(t, tc.cut, stall)
			s, err := New(Options{Network: "tcp", Address: rcv.ln.Addr().String(), ResendWindow: tc.window, ResendBytes: tc.bytes})
			if err != nil {
				t.Fatal(err)
			}
			r, err := outputs.NewRunner(s, outputs.SinkConfig{Type: "syslog", BatchSize: 100, FlushInterval: time.Millisecond, RetryMin: time.Millisecond}, quietLog())
			if err != nil {
				t.Fatal(err)
			}
			m := marker(t)
			half := tc.n / 2
			first := events(m, 0, half)
			unread := 0
			for _, e := range first {
				unread += len(e.JSON)
			}
			r.Enqueue(first)
			deadline := time.Now().Add(10 * time.Second)
			for r.Stats().Sent < uint64(half) {
				if time.Now().After(deadline) {
					t.Fatalf("the stalled receiver's socket took only %d events", r.Stats().Sent)
				}
				time.Sleep(time.Millisecond)
			}
			if stall != nil {
				close(stall) // the receiver crashes with what it did not read
			}
			time.Sleep(100 * time.Millisecond)
			r.Enqueue(events(m, half, tc.n))
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			sum, closeErr := r.Close(ctx)
			lost, dups := rcv.tally(m, tc.n)
			t.Logf("%d events (%d KB unread at the crash): %d lost, %d duplicates at the receiver; %v", tc.n, unread>>10, lost, dups, sum)
			if sum.Sent != uint64(tc.n) || r.Stats().Reconnects == 0 {
				t.Fatalf("summary %v: want all sent, after a reconnect", sum)
			}
			if uint64(lost) > sum.PossiblyLost || uint64(dups) > sum.Resent {
				t.Errorf("%d lost, %d duplicates; reported %d possibly lost, %d resent", lost, dups, sum.PossiblyLost, sum.Resent)
			}
			if (closeErr != nil) != (sum.PossiblyLost > 0) {
				t.Errorf("Close: %v with %d possibly lost", closeErr, sum.PossiblyLost)
			}
			switch {
			case tc.bytes == 0 && tc.window == 0:
				if lost != 0 || sum.PossiblyLost != 0 || sum.Resent == 0 {
					t.Errorf("default window: %d lost, %d possibly lost, %d resent", lost, sum.PossiblyLost, sum.Resent)
				}
			default:
				if lost == 0 {
					t.Errorf("expected a loss to report with this window")
				}
			}
		})
	}
}

func quietLog() outputs.Option { return outputs.WithLogger(discardLogger) }

var discardLogger = slog.New(slog.DiscardHandler)

// BenchmarkSinkTCP writes batches of 500 flow events to a loopback TCP
// receiver that discards them.
func BenchmarkSinkTCP(b *testing.B) {
	for _, msg := range []string{"json", "cef"} {
		b.Run(msg, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go func() { io.Copy(io.Discard, c); c.Close() }()
				}
			}()
			s, _ := New(Options{Network: "tcp", Address: ln.Addr().String(), Message: msg})
			ctx := context.Background()
			if err := s.Connect(ctx); err != nil {
				b.Fatal(err)
			}
			batch := events("bench", 0, 500)
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Write(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(testing.AllocsPerRun(1, func() { s.Write(ctx, batch) }))/float64(len(batch)), "allocs/event")
			s.Close(ctx)
		})
	}
}
