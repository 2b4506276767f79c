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

// flakyReceiver accepts connections; the first one reads only cut bytes
// and then resets the connection, dropping whatever the kernel still held,
// like a receiver that crashes. Later ones read octet-counted frames until
// EOF. It returns the event ids it read.
type flakyReceiver struct {
	ln  net.Listener
	cut int
	mu  sync.Mutex
	ids map[string]int
	wg  sync.WaitGroup
}

func newFlakyReceiver(t *testing.T, cut int) *flakyReceiver {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &flakyReceiver{ln: ln, cut: cut, ids: map[string]int{}}
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

func TestResendAfterReceiverCrash(t *testing.T) {
	for _, tc := range []struct {
		window   time.Duration
		wantLoss bool
	}{{5 * time.Second, false}, {-1, true}} {
		t.Run(fmt.Sprint("window=", tc.window), func(t *testing.T) {
			rcv := newFlakyReceiver(t, 3000)
			s, err := New(Options{Network: "tcp", Address: rcv.ln.Addr().String(), ResendWindow: tc.window})
			if err != nil {
				t.Fatal(err)
			}
			r, err := outputs.NewRunner(s, outputs.SinkConfig{Type: "syslog", BatchSize: 100, FlushInterval: time.Millisecond, RetryMin: time.Millisecond}, quietLog())
			if err != nil {
				t.Fatal(err)
			}
			m := marker(t)
			r.Enqueue(events(m, 0, 100))
			time.Sleep(100 * time.Millisecond) // the first receiver reads 3000 bytes and resets
			r.Enqueue(events(m, 100, 200))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := r.Close(ctx); err != nil {
				t.Fatal(err)
			}
			rcv.mu.Lock()
			defer rcv.mu.Unlock()
			lost := 0
			for i := range 200 {
				if rcv.ids[fmt.Sprintf("%s-%d", m, i)] == 0 {
					lost++
				}
			}
			if (lost > 0) != tc.wantLoss {
				t.Errorf("%d of 200 events lost (want loss: %v)", lost, tc.wantLoss)
			}
			if st := r.Stats(); st.Reconnects == 0 {
				t.Error("the broken connection was not noticed")
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
