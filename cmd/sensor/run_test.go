package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestSensorMainHelper is not a test: run as a subprocess (inside a network
// namespace) it is the sensor command, with the arguments after "--".
func TestSensorMainHelper(t *testing.T) {
	if os.Getenv("PS_SENSOR_MAIN") != "1" {
		t.Skip("helper process only")
	}
	i := slices.Index(os.Args, "--")
	os.Exit(run(os.Args[i+1:], os.Stdout, os.Stderr))
}

// needLive skips unless the test can make network namespaces and replay
// captures into them.
func needLive(t *testing.T, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live capture tests need root (network namespaces, raw sockets)")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("live capture tests need %s (Debian packages iproute2, tcpreplay)", tool)
		}
	}
}

// vethPair makes two network namespaces joined by a veth pair, with IPv6
// off (no router solicitations in the capture) and 10.99.x.0/24 addresses.
// It returns the namespaces and interface names; t.Cleanup deletes them.
func vethPair(t *testing.T) (nsA, ifA, nsB, ifB string) {
	t.Helper()
	id := os.Getpid() % 100000
	nsA, nsB = fmt.Sprintf("ps-test-a%d", id), fmt.Sprintf("ps-test-b%d", id)
	ifA, ifB = fmt.Sprintf("psva%d", id), fmt.Sprintf("psvb%d", id)
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", nsA).Run()
		exec.Command("ip", "netns", "del", nsB).Run()
	})
	ip("netns", "add", nsA)
	ip("netns", "add", nsB)
	for _, ns := range []string{nsA, nsB} {
		for _, k := range []string{"net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"} {
			exec.Command("ip", "netns", "exec", ns, "sysctl", "-q", "-w", k).Run()
		}
	}
	ip("link", "add", ifA, "netns", nsA, "mtu", "9000", "type", "veth", "peer", "name", ifB, "netns", nsB, "mtu", "9000")
	sub := 1 + id%250
	ip("-n", nsA, "addr", "add", fmt.Sprintf("10.99.%d.1/24", sub), "dev", ifA)
	ip("-n", nsB, "addr", "add", fmt.Sprintf("10.99.%d.2/24", sub), "dev", ifB)
	for _, x := range [][2]string{{nsA, ifA}, {nsB, ifB}} {
		ip("-n", x[0], "link", "set", "lo", "up")
		ip("-n", x[0], "link", "set", x[1], "up")
	}
	return
}

// liveSensor is `sensor run` in a network namespace, as a subprocess.
type liveSensor struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	out    string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startSensor(t *testing.T, ns string, args ...string) *liveSensor {
	t.Helper()
	s := &liveSensor{stderr: &syncBuffer{}, out: filepath.Join(t.TempDir(), "live.ndjson")}
	full := append([]string{"netns", "exec", ns, os.Args[0], "-test.run=^TestSensorMainHelper$", "--", "run", "--out", s.out}, args...)
	s.cmd = exec.Command("ip", full...)
	s.cmd.Env = append(os.Environ(), "PS_SENSOR_MAIN=1")
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.cmd.Process.Kill(); s.cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(s.stderr.String(), "capture started") {
		if time.Now().After(deadline) {
			t.Fatalf("sensor did not start:\n%s", s.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

// stop sends SIGINT and waits for the summary.
func (s *liveSensor) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sensor run: %v\n%s", err, s.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("sensor run did not stop on SIGINT:\n%s", s.stderr.String())
	}
}

func readLiveEvents(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var evs []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		evs = append(evs, m)
	}
	return evs
}

// field reads a dotted path from a decoded event ("" when absent).
func liveField(ev map[string]any, path string) string {
	var v any = ev
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return fmt.Sprint(int64(v))
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// digest is what a live capture and a replay of the same traffic must
// agree on: packets per Community ID (flows), and the protocol events.
type digest struct {
	packets map[string]int64
	proto   []string
}

func digestOf(evs []map[string]any) digest {
	d := digest{packets: map[string]int64{}}
	for _, ev := range evs {
		switch ds := liveField(ev, "event.dataset"); ds {
		case "packetsleuth.flow":
			var n int64
			fmt.Sscan(liveField(ev, "network.packets"), &n)
			d.packets[liveField(ev, "network.community_id")] += n
		case "packetsleuth.dns", "packetsleuth.http", "packetsleuth.tls":
			d.proto = append(d.proto, strings.Join([]string{ds, liveField(ev, "network.community_id"),
				liveField(ev, "dns.question.name"), liveField(ev, "dns.response_code"), liveField(ev, "dns.answers"),
				liveField(ev, "http.request.method"), liveField(ev, "url.original"), liveField(ev, "http.response.status_code"),
				liveField(ev, "tls.client.server_name"), liveField(ev, "tls.client.ja3"), liveField(ev, "tls.server.ja3s"),
				liveField(ev, "tls.version")}, "|"))
		}
	}
	sort.Strings(d.proto)
	return d
}

// Captures whose frames fit the veth and whose timing does not matter
// (tcpreplay sends at a set rate, not at capture time).
var vethCaptures = []string{
	"../../testdata/pcaps/http-ethernet.pcap",
	"../../testdata/pcaps/http-qinq.pcap",
	"../../testdata/pcaps/fragments.pcap",
	"../../testdata/pcaps/tunnel-vxlan.pcap",
	"../../../shared/pcaps/dns-a-aaaa-mx.pcap",
	"../../../shared/pcaps/dns-tcp.pcap",
	"../../../shared/pcaps/http-get.pcap",
	"../../../shared/pcaps/http-post-urlencoded.pcap",
	"../../../shared/pcaps/http-vlan.pcap",
	"../../../shared/pcaps/tls12-handshake-cert.pcap",
	"../../../shared/pcaps/tls13-hello-retry-request.pcap",
	"../../../shared/pcaps/tls-ecdsa-cert.pcap",
	"../../../shared/pcaps/cid-tcp.pcap",
}

// Live capture across a veth pair (AF_PACKET, AF_PACKET with a fanout of
// two sockets, and libpcap) gives the same flows (Community ID and packet
// counts) and the same DNS, HTTP and TLS events as a replay of the captures
// tcpreplay sent, and the interface's stats count every frame sent once.
func TestLiveMatchesReplay(t *testing.T) {
	needLive(t, "ip", "tcpreplay")
	var files []string
	for _, f := range vethCaptures {
		if _, err := os.Stat(f); err != nil {
			if strings.Contains(f, "shared") {
				continue // ../shared is optional
			}
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if len(files) < len(vethCaptures) {
		t.Logf("../shared/pcaps missing: comparing the project's own captures only")
	}
	replayOut := filepath.Join(t.TempDir(), "replay.ndjson")
	var stderr bytes.Buffer
	if rc := run(append([]string{"replay", "--quiet", "--no-rules", "--out", replayOut}, files...), io.Discard, &stderr); rc != 0 {
		t.Fatalf("replay rc=%d: %s", rc, stderr.String())
	}
	want := digestOf(readLiveEvents(t, replayOut))
	if len(want.packets) == 0 || len(want.proto) == 0 {
		t.Fatalf("replay gave %d flows, %d protocol events", len(want.packets), len(want.proto))
	}

	nsA, ifA, nsB, ifB := vethPair(t)
	firstPackets := "" // decoded packets of the first variant: every variant's
	for _, c := range []struct {
		name, engine string
		fanout       int
	}{{"afpacket", "afpacket", 1}, {"afpacket-fanout2", "afpacket", 2}, {"pcap", "pcap", 1}} {
		engine := c.engine
		t.Run(c.name, func(t *testing.T) {
			s := startSensor(t, nsB, "-i", ifB, "--engine", engine, "--fanout", fmt.Sprint(c.fanout), "--workers", "2", "--no-rules", "--log-level", "info")
			out, err := exec.Command("ip", append([]string{"netns", "exec", nsA, "tcpreplay", "-i", ifA, "--mbps", "20"}, files...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("tcpreplay: %v\n%s", err, out)
			}
			var sent int64
			for _, l := range strings.Split(string(out), "\n") {
				fmt.Sscanf(strings.TrimSpace(l), "Actual: %d packets", &sent)
			}
			time.Sleep(500 * time.Millisecond) // a few read timeouts
			s.stop(t)
			evs := readLiveEvents(t, s.out)
			got := digestOf(evs)
			t.Logf("%s: %d flows, %d protocol events live; %d and %d in the replay", engine, len(got.packets), len(got.proto), len(want.packets), len(want.proto))
			for cid, n := range want.packets {
				if got.packets[cid] != n {
					t.Errorf("flow %s: live %d packets, replay %d", cid, got.packets[cid], n)
				}
			}
			for cid, n := range got.packets {
				if _, ok := want.packets[cid]; !ok {
					t.Errorf("flow %s (%d packets) only in the live capture", cid, n)
				}
			}
			if !slices.Equal(got.proto, want.proto) {
				t.Errorf("protocol events differ\nlive:\n%s\nreplay:\n%s", strings.Join(got.proto, "\n"), strings.Join(want.proto, "\n"))
			}
			// Every event names the interface; the stats report no drop, and
			// the last counts every frame sent once.
			stats := 0
			var received, packets string
			for _, ev := range evs {
				if name := liveField(ev, "observer.ingress.interface.name"); liveField(ev, "event.dataset") != "packetsleuth.stats" && name != ifB {
					t.Errorf("%s event with ingress interface %q", liveField(ev, "event.dataset"), name)
				}
				if liveField(ev, "event.dataset") == "packetsleuth.stats" && liveField(ev, "packetsleuth.stats.interface") == ifB {
					stats++
					if liveField(ev, "packetsleuth.stats.engine") != engine || liveField(ev, "packetsleuth.stats.kernel_drops") != "0" {
						t.Errorf("stats event %v", ev["packetsleuth"])
					}
					received, packets = liveField(ev, "packetsleuth.stats.received"), liveField(ev, "packetsleuth.stats.packets")
				}
			}
			if stats == 0 {
				t.Errorf("no packetsleuth.stats event for %s", ifB)
			}
			if firstPackets == "" {
				firstPackets = packets
			}
			if sent == 0 || received != fmt.Sprint(sent) || packets != firstPackets {
				t.Errorf("tcpreplay sent %d frames; the last stats event counts %s received, %s packets (%s in the first run)", sent, received, packets, firstPackets)
			}
			if summary := fmt.Sprintf("%s (%s): %d frames, kernel drops 0", ifB, engine, sent); !strings.Contains(s.stderr.String(), summary) {
				t.Errorf("no %q in the summary", summary)
			}
			if c.fanout > 1 && !strings.Contains(s.stderr.String(), fmt.Sprintf("fanout=%d", c.fanout)) {
				t.Errorf("the log does not say fanout=%d", c.fanout)
			}
			if t.Failed() {
				t.Logf("sensor stderr:\n%s", s.stderr.String())
			}
		})
	}
}

// Capture on loopback in this process: UDP DNS queries and an HTTP
// exchange on 127.0.0.1 become flow, DNS and HTTP events.
func TestLiveLoopback(t *testing.T) {
	needLive(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello from the loopback test\n")
	}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	dnsConn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer dnsConn.Close()
	dnsPort := dnsConn.LocalAddr().(*net.UDPAddr).Port

	out := filepath.Join(t.TempDir(), "lo.ndjson")
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"run", "-i", "lo", "--out", out, "--no-rules", "--duration", "3s", "--stats-interval", "1s",
			"--bpf", fmt.Sprintf("host 127.0.0.1 and (tcp port %d or udp port 53)", port)}, io.Discard, &stderr)
	}()
	for !strings.Contains(stderr.String(), "capture started") {
		select {
		case rc := <-done:
			t.Fatalf("run rc=%d: %s", rc, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	// A DNS query to port 53 (nobody listens: the query alone is an event).
	query := []byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1}
	if _, err := dnsConn.WriteToUDP(query, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}); err != nil {
		t.Fatal(err)
	}
	_ = dnsPort
	resp, err := http.Get(srv.URL + "/loopback-test?x=1")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	srv.CloseClientConnections()
	if rc := <-done; rc != 0 {
		t.Fatalf("run rc=%d: %s", rc, stderr.String())
	}
	evs := readLiveEvents(t, out)
	var sawHTTP, sawDNS, sawFlow, sawStats bool
	for _, ev := range evs {
		switch liveField(ev, "event.dataset") {
		case "packetsleuth.http":
			sawHTTP = sawHTTP || liveField(ev, "url.original") == "/loopback-test?x=1" && liveField(ev, "http.response.status_code") == "200"
		case "packetsleuth.dns":
			sawDNS = sawDNS || liveField(ev, "dns.question.name") == "example.com"
		case "packetsleuth.flow":
			sawFlow = sawFlow || liveField(ev, "destination.port") == fmt.Sprint(port)
			if liveField(ev, "observer.ingress.interface.name") != "lo" {
				t.Errorf("flow event without ingress interface lo: %v", ev["observer"])
			}
		case "packetsleuth.stats":
			sawStats = true
		}
	}
	if !sawHTTP || !sawDNS || !sawFlow || !sawStats {
		t.Errorf("http %v dns %v flow %v stats %v in %d events; stderr:\n%s", sawHTTP, sawDNS, sawFlow, sawStats, len(evs), stderr.String())
	}
	for _, want := range []string{"run: 1 interface(s)", "lo (pcap):", "kernel drops 0", "msg=heartbeat"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

// startSensorHere is `sensor run` as a subprocess in this network namespace.
func startSensorHere(t *testing.T, out string, args ...string) *liveSensor {
	t.Helper()
	s := &liveSensor{stderr: &syncBuffer{}, out: out}
	s.cmd = exec.Command(os.Args[0], append([]string{"-test.run=^TestSensorMainHelper$", "--", "run", "--out", out}, args...)...)
	s.cmd.Env = append(os.Environ(), "PS_SENSOR_MAIN=1")
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.cmd.Process.Kill(); s.cmd.Wait() })
	s.waitFor(t, "capture started")
	return s
}

func (s *liveSensor) waitFor(t *testing.T, text string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(s.stderr.String(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q from the sensor:\n%s", text, s.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

const hupRule = `rules:
  - id: PS-TEST-HUP
    name: loopback test rule %s
    description: Flows to the test's UDP port.
    condition: event.dataset == "packetsleuth.flow" and destination.port == %d
    severity: low
`

// Operations on loopback: privileges dropped after the capture opens,
// SIGHUP swaps the rules for the events that follow, long flows get
// interim events, and SIGTERM ends the run with every flow written.
func TestLiveReloadInterimDropPrivileges(t *testing.T) {
	needLive(t)
	dir := t.TempDir()
	os.Chmod(dir, 0o777)
	os.Chmod(filepath.Dir(dir), 0o755)
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	port := conn.LocalAddr().(*net.UDPAddr).Port // packets to it are the test's
	ruleFile := filepath.Join(dir, "local.yaml")
	os.WriteFile(ruleFile, []byte(fmt.Sprintf(hupRule, "v1", port)), 0o644)
	cfg := filepath.Join(dir, "sensor.yaml")
	os.WriteFile(cfg, []byte("flow:\n  udp: 2s\n  interim: 1s\nstats:\n  interval: 1s\n"), 0o644)
	out := filepath.Join(dir, "events.ndjson")
	s := startSensorHere(t, out, "--config", cfg, "-i", "lo", "--rules", ruleFile, "--drop-privileges", "nobody",
		"--bpf", fmt.Sprintf("udp and host 127.0.0.1 and port %d", port))
	s.waitFor(t, "privileges dropped")
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if !strings.Contains(string(status), "\nUid:\t65534\t65534\t65534\t65534\n") {
		t.Errorf("sensor still runs as:\n%s", status)
	}

	send := func(from *net.UDPConn, msg string) {
		t.Helper()
		if _, err := from.WriteToUDP([]byte(msg), conn.LocalAddr().(*net.UDPAddr)); err != nil {
			t.Fatal(err)
		}
	}
	client := func() *net.UDPConn {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	short, long, after := client(), client(), client()
	send(short, "first flow, ends by timeout under rules v1")
	for i := 0; i < 12; i++ { // a flow of 3.6 s: interim reports every second
		send(long, "long flow")
		time.Sleep(300 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // the short flow has timed out (2 s) and met rules v1
	os.WriteFile(ruleFile, []byte(fmt.Sprintf(hupRule, "v2", port)), 0o644)
	s.cmd.Process.Signal(syscall.SIGHUP)
	s.waitFor(t, "rules reloaded")
	send(after, "flow after the reload")
	time.Sleep(300 * time.Millisecond)
	s.cmd.Process.Signal(syscall.SIGTERM)
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("sensor: %v\n%s", err, s.stderr.String())
	}

	portOf := func(c *net.UDPConn) string { return fmt.Sprint(c.LocalAddr().(*net.UDPAddr).Port) }
	alerts := map[string]string{} // source port -> rule name
	interims := 0
	for _, ev := range readLiveEvents(t, out) {
		switch liveField(ev, "event.dataset") {
		case "packetsleuth.alert":
			alerts[liveField(ev, "source.port")] = liveField(ev, "rule.name")
		case "packetsleuth.flow":
			if liveField(ev, "event.type") == `["connection"]` {
				interims++
				if liveField(ev, "source.port") != portOf(long) {
					t.Errorf("interim event of a short flow: %v", ev)
				}
			}
		}
	}
	if alerts[portOf(short)] != "loopback test rule v1" || alerts[portOf(after)] != "loopback test rule v2" || alerts[portOf(long)] == "" {
		t.Errorf("alerts by source port: %v (short %s, long %s, after %s)\n%s", alerts, portOf(short), portOf(long), portOf(after), s.stderr.String())
	}
	t.Logf("alerts %v, %d interim events", alerts, interims)
	if interims < 2 {
		t.Errorf("%d interim flow events for a 3.6 s flow with interim 1s", interims)
	}
	if !strings.Contains(s.stderr.String(), "run: 1 interface(s)") {
		t.Errorf("no summary:\n%s", s.stderr.String())
	}
}

// TestLiveBenchmark (PS_LIVE_BENCH=1) finds the highest tcpreplay rate the
// sensor keeps up with, without a single drop, across a veth pair: for 1
// and 2 workers, on the generated traffic mix (PS_LIVE_BENCH_PCAP, or a
// 50 MB mix made with cmd/pcapgen). Each trial lasts about 4 s.
// PS_LIVE_BENCH_ENGINE (afpacket, pcap), PS_LIVE_BENCH_BUFFER (e.g.
// 4MiB) and PS_LIVE_BENCH_FANOUT (AF_PACKET sockets) change the capture;
// PS_LIVE_BENCH_WORKERS (e.g. 2) runs one worker count only.
func TestLiveBenchmark(t *testing.T) {
	if os.Getenv("PS_LIVE_BENCH") != "1" {
		t.Skip("set PS_LIVE_BENCH=1 to run the live capture benchmark")
	}
	needLive(t, "ip", "tcpreplay")
	pcap := os.Getenv("PS_LIVE_BENCH_PCAP")
	if pcap == "" {
		pcap = filepath.Join(t.TempDir(), "mix.pcap")
		if out, err := exec.Command("go", "run", "../pcapgen", "-mix", pcap, "-size", "50MB").CombinedOutput(); err != nil {
			t.Fatalf("pcapgen: %v\n%s", err, out)
		}
	}
	st, err := os.Stat(pcap)
	if err != nil {
		t.Fatal(err)
	}
	engine := os.Getenv("PS_LIVE_BENCH_ENGINE")
	if engine == "" {
		engine = "afpacket"
	}
	nsA, ifA, nsB, ifB := vethPair(t)

	// trial replays at mbps and says whether every frame was captured.
	trial := func(workers int, mbps int) (ok bool, line string) {
		loops := max(1, int(int64(mbps)*1e6/8*4/st.Size()))
		args := []string{"-i", ifB, "--engine", engine, "--workers", fmt.Sprint(workers), "--no-rules", "--out", os.DevNull,
			"--log-level", "info", "--stats-interval", "1h", "--heartbeat", "1h"}
		if b := os.Getenv("PS_LIVE_BENCH_BUFFER"); b != "" {
			args = append(args, "--buffer-size", b)
		}
		if f := os.Getenv("PS_LIVE_BENCH_FANOUT"); f != "" {
			args = append(args, "--fanout", f)
		}
		s := startSensor(t, nsB, args...)
		out, err := exec.Command("ip", "netns", "exec", nsA, "tcpreplay", "-K", "-i", ifA, "--mbps", fmt.Sprint(mbps),
			"--loop", fmt.Sprint(loops), pcap).CombinedOutput()
		if err != nil {
			t.Fatalf("tcpreplay: %v\n%s", err, out)
		}
		time.Sleep(time.Second)
		s.stop(t)
		var sent, rated int64
		var ratedMbps float64
		for _, l := range strings.Split(string(out), "\n") {
			l = strings.TrimSpace(l)
			if strings.HasPrefix(l, "Actual:") {
				fmt.Sscanf(l, "Actual: %d packets", &sent)
			}
			if strings.HasPrefix(l, "Rated:") {
				var bps float64
				fmt.Sscanf(l, "Rated: %f Bps, %f Mbps, %d pps", &bps, &ratedMbps, &rated)
			}
		}
		var frames, drops int64
		for _, l := range strings.Split(s.stderr.String(), "\n") {
			if strings.Contains(l, ifB+" (") {
				fmt.Sscanf(l[strings.Index(l, "):")+2:], " %d frames, kernel drops %d", &frames, &drops)
			}
		}
		ok = drops == 0 && frames >= sent && sent > 0
		line = fmt.Sprintf("workers=%d asked %d Mbit/s: sent %d packets at %.0f Mbit/s, %d pps; captured %d, kernel drops %d",
			workers, mbps, sent, ratedMbps, rated, frames, drops)
		t.Log(line)
		return ok, line
	}
	workerCounts := []int{1, 2}
	if w := os.Getenv("PS_LIVE_BENCH_WORKERS"); w != "" {
		n, err := strconv.Atoi(w)
		if err != nil {
			t.Fatalf("PS_LIVE_BENCH_WORKERS: %v", err)
		}
		workerCounts = []int{n}
	}
	for _, workers := range workerCounts {
		lo, hi := 0, 0
		var best string
		for mbps := 100; mbps <= 12800; mbps *= 2 {
			ok, line := trial(workers, mbps)
			if !ok {
				hi = mbps
				break
			}
			lo, best = mbps, line
		}
		for hi > 25 && hi-lo > max(lo/8, 25) { // bisect down to 25 Mbit/s
			mid := (lo + hi) / 2
			if ok, line := trial(workers, mid); ok {
				lo, best = mid, line
			} else {
				hi = mid
			}
		}
		t.Logf("RESULT %s fanout=%s workers=%d: highest rate with zero drops: %d Mbit/s asked (%s)", engine, os.Getenv("PS_LIVE_BENCH_FANOUT"), workers, lo, best)
	}
}
