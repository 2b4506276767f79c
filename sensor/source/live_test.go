package source

import (
	"bytes"
	"errors"
	"net"
	"os"
	"strconv"
	"testing"
	"time"
)

// openLo opens a capture on loopback or skips when that is not allowed.
func openLo(t *testing.T, cfg LiveConfig) *Live {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root (CAP_NET_RAW)")
	}
	cfg.Interface = "lo"
	l, err := OpenLive(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// udpPair returns a receiving socket on loopback and a function sending
// payload to it.
func udpPair(t *testing.T) (port int, send func(payload []byte)) {
	t.Helper()
	rx, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rx.Close() })
	tx, err := net.DialUDP("udp", nil, rx.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Close() })
	return rx.LocalAddr().(*net.UDPAddr).Port, func(p []byte) { tx.Write(p) }
}

// readUntil collects frames until n arrived or the deadline passed.
func readUntil(t *testing.T, l *Live, n int, d time.Duration) [][]byte {
	t.Helper()
	var got [][]byte
	var fr Frame
	deadline := time.Now().Add(d)
	for len(got) < n && time.Now().Before(deadline) {
		err := l.Next(&fr)
		if errors.Is(err, ErrTimeout) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, append([]byte(nil), fr.Data...))
		if fr.WireLen < len(fr.Data) || fr.Timestamp.IsZero() {
			t.Errorf("frame wire length %d, data %d, time %v", fr.WireLen, len(fr.Data), fr.Timestamp)
		}
	}
	return got
}

// The kernel applies the BPF filter and the snaplen; idle reads time out;
// the counters see every frame delivered. For both engines.
func TestLiveLoopbackFilterSnaplen(t *testing.T) {
	for _, engine := range []string{EnginePcap, EngineAFPacket} {
		t.Run(engine, func(t *testing.T) {
			if engine == EngineAFPacket && !afpacketAvailable {
				t.Skip("AF_PACKET is Linux only")
			}
			port, send := udpPair(t)
			_, other := udpPair(t)
			l := openLo(t, LiveConfig{Engine: engine, Snaplen: 100, ReadTimeout: 20 * time.Millisecond,
				BPF: "udp and dst port " + strconv.Itoa(port)})
			if l.Engine() != engine {
				t.Fatalf("engine %s", l.Engine())
			}
			// Idle: a timeout, not a block.
			var fr Frame
			start := time.Now()
			if err := l.Next(&fr); !errors.Is(err, ErrTimeout) {
				t.Fatalf("idle read: %v", err)
			}
			if time.Since(start) > 2*time.Second {
				t.Errorf("idle read took %v", time.Since(start))
			}
			big := bytes.Repeat([]byte("x"), 600)
			other(big) // filtered out in the kernel
			send(big)
			send([]byte("small"))
			got := readUntil(t, l, 2, 3*time.Second)
			if len(got) < 2 {
				t.Fatalf("%d frames", len(got))
			}
			for _, f := range got {
				if len(f) > 100 {
					t.Errorf("frame of %d bytes with snaplen 100", len(f))
				}
				if bytes.Contains(f, []byte("small")) {
					continue
				}
				if len(f) != 100 {
					t.Errorf("truncated frame of %d bytes, want 100", len(f))
				}
			}
			st, err := l.Stats()
			if err != nil {
				t.Fatal(err)
			}
			if st.Frames != uint64(len(got)) || st.Truncated == 0 || st.Bytes < 600 || st.KernelDrops != 0 || st.Engine != engine {
				t.Errorf("stats %+v after %d frames", st, len(got))
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if st2, _ := l.Stats(); st2.Frames != st.Frames {
				t.Errorf("stats after close %+v", st2)
			}
		})
	}
}

// Bad settings are refused before any device is touched.
func TestLiveConfigValidate(t *testing.T) {
	for _, c := range []LiveConfig{
		{},
		{Interface: "eth0", Engine: "netmap"},
		{Interface: "eth0", Snaplen: 10},
		{Interface: "eth0", Snaplen: 300000},
		{Interface: "eth0", BPF: "tcp port"},
		{Interface: "eth0", ReadTimeout: -1},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if err := (LiveConfig{Interface: "eth0", Engine: EngineAuto, BPF: "tcp port 80"}).Validate(); err != nil {
		t.Error(err)
	}
	if _, err := OpenLive(LiveConfig{Interface: "ps-no-such-if0", Engine: EnginePcap}); err == nil {
		t.Error("opened a missing interface")
	}
}
