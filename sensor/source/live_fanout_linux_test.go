package source

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/sys/unix"
)

// fanoutNetns makes a network namespace holding a veth pair (tx, rx), both
// up, with IPv6 off; t.Cleanup deletes it. It returns a function that runs
// f inside the namespace: sockets opened there stay in it.
func fanoutNetns(t *testing.T) (tx, rx string, in func(f func())) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root (network namespaces, raw sockets)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("the fanout test needs ip (Debian package iproute2)")
	}
	id := os.Getpid() % 100000
	ns := fmt.Sprintf("ps-src-fan%d", id)
	tx, rx = fmt.Sprintf("psfa%d", id), fmt.Sprintf("psfb%d", id)
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	ip("netns", "add", ns)
	exec.Command("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1").Run()
	exec.Command("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1").Run()
	ip("-n", ns, "link", "add", tx, "type", "veth", "peer", "name", rx)
	ip("-n", ns, "link", "set", tx, "up")
	ip("-n", ns, "link", "set", rx, "up")
	in = func(f func()) {
		t.Helper()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		home, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			t.Fatal(err)
		}
		defer home.Close()
		target, err := os.Open("/var/run/netns/" + ns)
		if err != nil {
			t.Fatal(err)
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := unix.Setns(int(home.Fd()), unix.CLONE_NEWNET); err != nil {
				panic(err) // this thread must not go back to the scheduler
			}
		}()
		f()
	}
	return tx, rx, in
}

// udpFrame is an Ethernet/IPv4/UDP frame from 10.98.0.1:sport to
// 10.98.0.2:dport carrying seq.
func udpFrame(t *testing.T, sport, dport int, seq uint32) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IPv4(10, 98, 0, 1), DstIP: net.IPv4(10, 98, 0, 2)}
	udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	udp.SetNetworkLayerForChecksum(ip)
	payload := binary.BigEndian.AppendUint32([]byte("fanout-test:"), seq)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, udp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// seqOf is the sequence number in a frame made by udpFrame, or -1.
func seqOf(frame []byte) (seq int64, sport int) {
	const hdr = 14 + 20
	i := strings.Index(string(frame), "fanout-test:")
	if i < 0 || len(frame) < i+16 || len(frame) < hdr+8 {
		return -1, 0
	}
	return int64(binary.BigEndian.Uint32(frame[i+12:])), int(binary.BigEndian.Uint16(frame[hdr:]))
}

// The sockets of a fanout group together receive every frame exactly once
// (or count it as a kernel drop), with the kernel BPF filter applied on each, every frame of a flow on the
// same socket, and the interface's counters summed. Two groups on the same
// interface in one process each get every frame.
func TestLiveFanoutEachFrameOnce(t *testing.T) {
	tx, rx, in := fanoutNetns(t)
	const port, flows, perFlow = 7777, 200, 5
	var groups []*Live
	var out *afpacket.TPacket
	in(func() {
		for _, n := range []int{3, 2} {
			l, err := OpenLive(LiveConfig{Interface: rx, Engine: EngineAFPacket, Fanout: n, Promisc: true,
				BufferSize: 48 << 20, ReadTimeout: 20 * time.Millisecond, BPF: fmt.Sprintf("udp and dst port %d", port)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			groups = append(groups, l)
		}
		var err error
		if out, err = afpacket.NewTPacket(afpacket.OptInterface(tx)); err != nil {
			t.Fatal(err)
		}
	})
	defer out.Close()
	for i, l := range groups {
		if want := []int{3, 2}[i]; l.Fanout() != want || len(l.Sockets()) != want || l.Engine() != EngineAFPacket {
			t.Fatalf("group %d: fanout %d, %d sockets, engine %s", i, l.Fanout(), len(l.Sockets()), l.Engine())
		}
	}

	// Read every socket of both groups in its own goroutine.
	type hit struct {
		group, sock int
		seq         int64
		sport       int
	}
	var mu sync.Mutex
	var hits []hit
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g, l := range groups {
		for s, src := range l.Sockets() {
			if src.Name() != rx {
				t.Errorf("socket name %q", src.Name())
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				var fr Frame
				for {
					select {
					case <-stop:
						return
					default:
					}
					err := src.Next(&fr)
					if errors.Is(err, ErrTimeout) {
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
					seq, sport := seqOf(fr.Data)
					mu.Lock()
					hits = append(hits, hit{g, s, seq, sport})
					mu.Unlock()
				}
			}()
		}
	}
	total := flows * perFlow
	for i := 0; i < total; i++ {
		if err := out.WritePacketData(udpFrame(t, 20000+i%flows, port, uint32(i))); err != nil {
			t.Fatal(err)
		}
		if i%flows == 0 { // filtered out in the kernel
			if err := out.WritePacketData(udpFrame(t, 20000, port+1, uint32(i))); err != nil {
				t.Fatal(err)
			}
		}
		if i%100 == 99 {
			// Paced: on a loaded machine the readers fall behind a burst of
			// 1000 and the kernel drops (seen: 2 drops under CI load); the
			// test is about where frames go, not about the rings' size.
			time.Sleep(2 * time.Millisecond)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(hits)
		mu.Unlock()
		if n >= 2*total || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // duplicates would show up now
	close(stop)
	wg.Wait()

	for g, l := range groups {
		seen := map[int64]int{}
		sockOf := map[int]int{} // flow (source port) -> socket
		perSock := make([]int, l.Fanout())
		for _, h := range hits {
			if h.group != g {
				continue
			}
			if h.seq < 0 || h.seq >= int64(total) {
				t.Errorf("group %d: frame %d (source port %d) is not one of the test's", g, h.seq, h.sport)
				continue
			}
			seen[h.seq]++
			perSock[h.sock]++
			if s, ok := sockOf[h.sport]; ok && s != h.sock {
				t.Errorf("group %d: flow from port %d on sockets %d and %d", g, h.sport, s, h.sock)
			}
			sockOf[h.sport] = h.sock
		}
		st, err := l.Stats()
		if err != nil {
			t.Fatal(err)
		}
		missed := 0
		for i := 0; i < total; i++ {
			switch seen[int64(i)] {
			case 1:
			case 0:
				missed++
			default:
				t.Errorf("group %d: frame %d received %d times", g, i, seen[int64(i)])
			}
		}
		// A reader the machine did not schedule in time can still make the
		// kernel drop a frame; such a loss must be counted, never silent.
		if uint64(missed) != st.KernelDrops || st.Frames+st.KernelDrops != uint64(total) {
			t.Errorf("group %d: %d frames missed, stats %+v, want %d frames", g, missed, st, total)
		} else if missed > 0 {
			t.Logf("group %d: %d frames dropped by the kernel, and counted", g, missed)
		}
		used := 0
		for _, n := range perSock {
			if n > 0 {
				used++
			}
		}
		if used < 2 {
			t.Errorf("group %d: frames per socket %v: the group did not spread %d flows", g, perSock, flows)
		}
		if st.Engine != EngineAFPacket {
			t.Errorf("group %d: stats %+v, want engine %s", g, st, EngineAFPacket)
		}
		t.Logf("group %d: frames per socket %v", g, perSock)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if after, _ := l.Stats(); after.Frames != st.Frames {
			t.Errorf("group %d: stats after close %+v", g, after)
		}
	}
}

// Fanout is refused where it cannot work.
func TestLiveFanoutValidate(t *testing.T) {
	for _, c := range []LiveConfig{
		{Interface: "eth0", Fanout: -1},
		{Interface: "eth0", Fanout: MaxFanout + 1},
		{Interface: "eth0", Engine: EnginePcap, Fanout: 2},
	} {
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "fanout") {
			t.Errorf("%+v: %v", c, err)
		}
	}
	for _, c := range []LiveConfig{
		{Interface: "eth0", Fanout: MaxFanout},
		{Interface: "eth0", Engine: EngineAFPacket, Fanout: 2},
		{Interface: "eth0", Engine: EnginePcap, Fanout: 1},
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
}
