package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/pipeline"
	"github.com/packetsleuth/packetsleuth/store"
	"github.com/packetsleuth/packetsleuth/web"
)

const topTestToken = "top-test-token-0123456789"

// topLive is a LiveState with fixed connections.
type topLive struct{ flows []pipeline.ActiveFlow }

func (l *topLive) ActiveFlows(context.Context) ([]pipeline.ActiveFlow, error) {
	return append([]pipeline.ActiveFlow(nil), l.flows...), nil
}
func (l *topLive) Snapshot() pipeline.Stats { return pipeline.Stats{} }

func topTestLive() *topLive {
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	mk := func(cid, tr, proto, sip string, sp int, dip string, dp int, b, p int64, d time.Duration) pipeline.ActiveFlow {
		return pipeline.ActiveFlow{CommunityID: cid, Transport: tr, Protocol: proto, SourceIP: sip, SourcePort: sp,
			DestinationIP: dip, DestinationPort: dp, First: t0, Last: t0.Add(d), Packets: p, Bytes: b, State: "S1"}
	}
	return &topLive{flows: []pipeline.ActiveFlow{
		mk("1:a", "tcp", "http", "10.0.0.5", 40000, "192.0.2.80", 80, 5000, 20, 3*time.Second),
		mk("1:b", "udp", "dns", "10.0.0.7", 53000, "10.0.0.53", 53, 300, 2, 10*time.Millisecond),
		mk("1:c", "tcp", "tls", "10.0.0.5", 40001, "198.51.100.4", 443, 90000, 120, 30*time.Second),
		mk("1:d", "tcp", "", "10.0.0.9", 50000, "10.0.0.22", 22, 1200, 900, time.Minute),
	}}
}

func topServer(t *testing.T, cfg web.Config) *httptest.Server {
	t.Helper()
	cfg.Auth = web.Auth{Token: outputs.Secret(topTestToken)}
	s, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return hs
}

// connRows returns the connection lines of a screen, in order.
func connRows(screen string) []string {
	_, after, ok := strings.Cut(screen, "SOURCE ")
	if !ok {
		return nil
	}
	var rows []string
	for _, l := range strings.Split(after, "\n")[1:] {
		if regexp.MustCompile(`^\S+:\d+\s+\S+:\d+\s`).MatchString(l) {
			rows = append(rows, strings.Fields(l)[0]+">"+strings.Fields(l)[1])
		}
	}
	return rows
}

func TestTopPlain(t *testing.T) {
	hs := topServer(t, web.Config{Live: topTestLive()})
	var out, errb bytes.Buffer
	if code := run([]string{"top", "--url", hs.URL, "--token", topTestToken}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	s := out.String()
	if strings.Contains(s, "\x1b") {
		t.Fatalf("escape sequences in plain output: %q", s)
	}
	want := []string{"10.0.0.5:40001>198.51.100.4:443", "10.0.0.5:40000>192.0.2.80:80", "10.0.0.9:50000>10.0.0.22:22", "10.0.0.7:53000>10.0.0.53:53"}
	if got := connRows(s); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("rows by bytes: %v\nwant %v\n%s", got, want, s)
	}
	// Talkers sum the connections by source: 10.0.0.5 has 95000 bytes (93 KiB), 140 packets, 2 flows.
	if !regexp.MustCompile(`(?m)^10\.0\.0\.5\s+93 KiB\s+140\s+2$`).MatchString(s) || !strings.Contains(s, " live ") {
		t.Fatalf("talkers or mode wrong:\n%s", s)
	}

	out.Reset()
	if code := run([]string{"top", "--url", hs.URL, "--token", topTestToken, "--sort", "packets", "--reverse", "--filter", "tcp"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	want = []string{"10.0.0.5:40000>192.0.2.80:80", "10.0.0.5:40001>198.51.100.4:443", "10.0.0.9:50000>10.0.0.22:22"}
	if got := connRows(out.String()); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("tcp by packets ascending: %v\n%s", got, out.String())
	}

	// Wrong token: an error, exit 1.
	out.Reset()
	errb.Reset()
	if code := run([]string{"top", "--url", hs.URL, "--token", "wrong-token-0123456789"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "401") {
		t.Fatalf("wrong token: exit %d, %q", code, errb.String())
	}
	if code := run([]string{"top", "--sort", "color"}, &out, &errb); code != 2 {
		t.Fatalf("bad sort: exit %d", code)
	}
}

func TestTopHistory(t *testing.T) {
	st, err := store.Open(context.Background(), store.Config{Path: filepath.Join(t.TempDir(), "h.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var recs []schemas.Record
	for i, b := range []int64{100, 7000, 300} {
		ev := schemas.Event{Timestamp: time.Date(2026, 11, 24, 10, 0, i, 0, time.UTC)}
		ev.Event.Kind, ev.Event.Dataset = "event", schemas.DatasetFlow
		ev.Network.Transport, ev.Network.Bytes, ev.Network.Packets = "udp", b, 1
		ev.Network.CommunityID = fmt.Sprint("1:", i)
		ev.Source.IP, ev.Source.Port = fmt.Sprintf("10.9.0.%d", i+1), 5000+i
		ev.Destination.IP, ev.Destination.Port = "10.9.9.9", 53
		rec, _ := schemas.NewRecord(&ev)
		recs = append(recs, rec)
	}
	if _, err := st.Insert(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	hs := topServer(t, web.Config{Store: st})
	var out, errb bytes.Buffer
	if code := run([]string{"top", "--url", hs.URL, "--token", topTestToken}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	s := out.String()
	want := []string{"10.9.0.2:5001>10.9.9.9:53", "10.9.0.3:5002>10.9.9.9:53", "10.9.0.1:5000>10.9.9.9:53"}
	if got := connRows(s); strings.Join(got, " ") != strings.Join(want, " ") || !strings.Contains(s, "history") {
		t.Fatalf("history view: %v\n%s", got, s)
	}
	if !regexp.MustCompile(`(?m)^10\.9\.0\.2\s+6\.8 KiB\s+1\s+1$`).MatchString(s) {
		t.Fatalf("stored talkers missing:\n%s", s)
	}
}

// buildSensorBinary builds this command into the test's temp directory.
func buildSensorBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sensor")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// TestTopTmux runs sensor top in a detached tmux session on its own server
// socket, sorts, filters and quits with send-keys and reads the screen with
// capture-pane.
func TestTopTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed (apt-get install -y tmux)")
	}
	if testing.Short() {
		t.Skip("builds the sensor binary: skipped with -short")
	}
	bin := buildSensorBinary(t)
	hs := topServer(t, web.Config{Live: topTestLive()})
	sock := fmt.Sprintf("ps-top-test-%d", os.Getpid())
	tmux := func(args ...string) (string, error) {
		out, err := exec.Command("tmux", append([]string{"-L", sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
		return string(out), err
	}
	t.Cleanup(func() { tmux("kill-server") })
	cmd := fmt.Sprintf("%s top --url %s --token %s --interval 300ms", bin, hs.URL, topTestToken)
	if out, err := tmux("new-session", "-d", "-s", "top", "-x", "160", "-y", "30", cmd); err != nil {
		t.Fatalf("tmux: %v %s", err, out)
	}
	screen := func() string {
		out, _ := tmux("capture-pane", "-p", "-t", "top")
		return out
	}
	waitFor := func(what string, ok func(string) bool) string {
		t.Helper()
		var s string
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if s = screen(); ok(s) {
				return s
			}
		}
		t.Fatalf("waiting for %s; screen:\n%s", what, s)
		return s
	}
	keys := func(k ...string) {
		t.Helper()
		if out, err := tmux(append([]string{"send-keys", "-t", "top"}, k...)...); err != nil {
			t.Fatalf("send-keys: %v %s", err, out)
		}
	}
	rowsAre := func(want ...string) func(string) bool {
		return func(s string) bool { return strings.Join(connRows(s), " ") == strings.Join(want, " ") }
	}
	a, b, c, d := "10.0.0.5:40000>192.0.2.80:80", "10.0.0.7:53000>10.0.0.53:53", "10.0.0.5:40001>198.51.100.4:443", "10.0.0.9:50000>10.0.0.22:22"

	s := waitFor("the first screen", rowsAre(c, a, d, b))
	if !strings.Contains(s, "sort: bytes desc") || !strings.Contains(s, "TOP TALKERS") {
		t.Fatalf("header:\n%s", s)
	}
	keys("s") // packets
	waitFor("sort by packets", func(s string) bool { return strings.Contains(s, "sort: packets desc") && rowsAre(d, c, a, b)(s) })
	keys("s") // duration
	waitFor("sort by duration", func(s string) bool { return strings.Contains(s, "sort: duration desc") && rowsAre(d, c, a, b)(s) })
	keys("r")
	waitFor("reversed", func(s string) bool { return strings.Contains(s, "sort: duration asc") && rowsAre(b, a, c, d)(s) })
	keys("/")
	waitFor("the filter prompt", func(s string) bool { return strings.Contains(s, "filter (ip=") })
	keys("-l", "port=53")
	keys("Enter")
	waitFor("port filter", func(s string) bool { return strings.Contains(s, "filter: port=53") && rowsAre(b)(s) })
	keys("/")
	keys("C-u") // not a control the prompt knows: ignored
	for range 10 {
		keys("BSpace")
	}
	keys("-l", "10.0.0.5 tcp")
	keys("Enter")
	waitFor("ip and protocol filter", func(s string) bool {
		return strings.Contains(s, "filter: ip=10.0.0.5 proto=tcp") && rowsAre(a, c)(s)
	})
	keys("c")
	waitFor("cleared filter", rowsAre(b, a, c, d))
	keys("q")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := tmux("has-session", "-t", "top"); err != nil {
			break // the program exited and the session with it
		}
		if time.Now().After(deadline) {
			t.Fatalf("q did not quit; screen:\n%s", screen())
		}
	}
}

// Strings in the sensor's answers (protocol, state, addresses) are data: an
// escape sequence in them is shown escaped, never sent to the terminal.
func TestTopEscapesHostileStrings(t *testing.T) {
	live := topTestLive()
	live.flows[0].Protocol = "http\x1b[2J"
	live.flows[0].State = "\x1b]0;owned\x07\u202e"
	hs := topServer(t, web.Config{Live: live})
	var out, errb bytes.Buffer
	if code := run([]string{"top", "--url", hs.URL, "--token", topTestToken}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	s := out.String()
	if strings.ContainsAny(s, "\x1b\x07\u202e") || !strings.Contains(s, `tcp/http\x1b[2J`) || !strings.Contains(s, `\x1b]0;owned\x07\u202e`) {
		t.Fatalf("hostile strings reached the output raw:\n%q", s)
	}
}
