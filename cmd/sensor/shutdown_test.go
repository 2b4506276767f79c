package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// mixCapture writes a generated capture of about size bytes.
func mixCapture(t *testing.T, size int64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "mix.pcap")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := pcapgen.WriteMix(f, size, 7); err != nil {
		t.Fatal(err)
	}
	return p
}

// deadAddr is a loopback address where nothing listens (a broker that is
// down).
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// outputLine is one output's line of the summary.
var outputLine = regexp.MustCompile(`output (\S+): (\d+) records: (\d+) delivered, (\d+) spooled, (\d+) dead-lettered, (\d+) dropped, (\d+) lost`)

// outcomes parses an output's summary line: produced, then the five outcomes.
func outcomes(t *testing.T, summary, name string) (produced uint64, five [5]uint64) {
	t.Helper()
	for _, m := range outputLine.FindAllStringSubmatch(summary, -1) {
		if m[1] != name {
			continue
		}
		produced, _ = strconv.ParseUint(m[2], 10, 64)
		for i := range five {
			five[i], _ = strconv.ParseUint(m[3+i], 10, 64)
		}
		return produced, five
	}
	t.Fatalf("no summary line for output %s:\n%s", name, summary)
	return 0, five
}

// eventsMade sums the summary's "events:" line.
func eventsMade(t *testing.T, summary string) uint64 {
	t.Helper()
	m := regexp.MustCompile(`events: (.*)`).FindStringSubmatch(summary)
	if m == nil {
		t.Fatalf("no events line:\n%s", summary)
	}
	var n uint64
	for _, part := range strings.Split(m[1], ", ") {
		f := strings.Fields(part)
		v, _ := strconv.ParseUint(f[len(f)-1], 10, 64)
		n += v
	}
	return n
}

// A replay whose only output is a Kafka broker that is down, with
// on_full: block, used to hang for good and ignore SIGTERM. Now SIGTERM
// ends it within shutdown_timeout, and every event is accounted for: lost
// without a spool, in the spool with one.
func TestReplaySIGTERMWithKafkaDown(t *testing.T) {
	pcap := mixCapture(t, 4<<20)
	broker := deadAddr(t)
	for _, tc := range []struct {
		name    string
		spool   bool
		timeout time.Duration
	}{{"no spool", false, 2 * time.Second}, {"spool", true, time.Minute}} {
		timeout := tc.timeout
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "sensor.yaml")
			os.WriteFile(cfg, []byte(fmt.Sprintf("shutdown_timeout: %s\n", timeout)), 0o644)
			out := "kafka:brokers=" + broker + ",topic=t,queue_size=500,batch_size=100,write_timeout=500ms,timeout=500ms,retry_max=200ms"
			if tc.spool {
				out += ",spool_dir=" + filepath.Join(dir, "spool") + ",spool_after=1h"
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestSensorMainHelper$", "--", "replay", "--config", cfg, "--no-rules", "--output", out, pcap)
			cmd.Env = append(os.Environ(), "PS_SENSOR_MAIN=1")
			stderr := &syncBuffer{}
			cmd.Stderr = stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			deadline := time.Now().Add(30 * time.Second)
			for !strings.Contains(stderr.String(), "the pipeline waits for this output") {
				if time.Now().After(deadline) {
					t.Fatalf("the replay never blocked on the down output:\n%s", stderr.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			sent := time.Now()
			cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(timeout + 20*time.Second):
				t.Fatalf("no exit after SIGTERM:\n%s", stderr.String())
			}
			took := time.Since(sent)
			summary := stderr.String()
			made := eventsMade(t, summary)
			produced, five := outcomes(t, summary, "kafka")
			sum := five[0] + five[1] + five[2] + five[3] + five[4]
			t.Logf("exit %s after SIGTERM (shutdown_timeout %s); %d events: delivered %d, spooled %d, dead-lettered %d, dropped %d, lost %d",
				took.Round(time.Millisecond), timeout, made, five[0], five[1], five[2], five[3], five[4])
			if produced != made || sum != produced || produced == 0 {
				t.Errorf("events %d, output given %d, outcomes add up to %d:\n%s", made, produced, sum, summary)
			}
			if tc.spool && (five[4] != 0 || five[1] != produced) {
				t.Errorf("with a spool every event must be in it: %v", five)
			}
			if tc.spool && took >= timeout {
				t.Errorf("with a spool the shutdown need not wait for shutdown_timeout (%s): took %s", timeout, took)
			}
			if !tc.spool && five[4] != produced {
				t.Errorf("without a spool every event is lost, and said so: %v", five)
			}
		})
	}
}

// A replay into a Kafka broker that is down leaves its events in the
// spool; `sensor spool inspect` shows them and `sensor spool drain`
// delivers them to the broker once it is up, without new input.
func TestSpoolInspectAndDrain(t *testing.T) {
	broker := os.Getenv("PS_TEST_KAFKA")
	if broker == "" {
		t.Skip("PS_TEST_KAFKA is not set: start Kafka with eval \"$(../../../shared/services/start-kafka.sh)\"")
	}
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool")
	topic := fmt.Sprintf("pstest-drain-%d", time.Now().UnixNano())
	keys := ",topic=" + topic + ",spool_dir=" + spool + ",on_full=spool,spool_after=1ms,retry_max=50ms,timeout=500ms"
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"replay", "--no-rules", "--output", "kafka:brokers=" + deadAddr(t) + keys, "../../testdata/pcaps"}, &stdout, &stderr); rc != 1 {
		t.Fatalf("replay into a down broker: rc %d (want 1: events left in the spool):\n%s", rc, stderr.String())
	}
	produced, five := outcomes(t, stderr.String(), "kafka")
	if five[1] != produced || produced == 0 {
		t.Fatalf("want every event in the spool: %d produced, %v", produced, five)
	}

	inspect := func() string {
		var out, errOut bytes.Buffer
		if rc := run([]string{"spool", "inspect", spool}, &out, &errOut); rc != 0 {
			t.Fatalf("spool inspect: rc %d: %s", rc, errOut.String())
		}
		return out.String()
	}
	if got := inspect(); !strings.Contains(got, fmt.Sprintf("%d records to deliver", produced)) || !strings.Contains(got, "packetsleuth.flow") {
		t.Fatalf("inspect after the replay:\n%s", got)
	}

	cfg := filepath.Join(dir, "sensor.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("outputs:\n  - type: kafka\n    brokers: [%s]\n    topic: %s\n    spool_dir: %s\n", broker, topic, spool)), 0o644)
	stdout.Reset()
	stderr.Reset()
	if rc := run([]string{"spool", "drain", "--config", cfg, "--timeout", "30s"}, &stdout, &stderr); rc != 0 {
		t.Fatalf("spool drain: rc %d:\n%s%s", rc, stdout.String(), stderr.String())
	}
	want := fmt.Sprintf("0 records (+%d resumed from the spool): %d delivered, 0 spooled", produced, produced)
	if !strings.Contains(stdout.String(), want) {
		t.Fatalf("drain summary lacks %q:\n%s", want, stdout.String())
	}
	if got := inspect(); !strings.Contains(got, "0 records to deliver") {
		t.Fatalf("inspect after the drain:\n%s", got)
	}
}

// sensor run with its only output (Kafka) down and on_full: block: the
// stats events used to go through the blocking fan-out and stop the run
// loop (heartbeats, signals). Now heartbeats keep coming and turn into
// warnings as the drops rise, /metrics keeps answering, a warning names
// the output that holds the pipeline, and SIGTERM ends the process within
// shutdown_timeout with every event accounted for.
func TestRunWithKafkaDownKeepsReportingAndStops(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("capturing on lo needs root")
	}
	const timeout = 2 * time.Second
	const token = "0123456789abcdef-token"
	web := deadAddr(t)
	_, port, _ := net.SplitHostPort(web)
	cfg := filepath.Join(t.TempDir(), "sensor.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("shutdown_timeout: %s\n", timeout)), 0o644)
	cmd := exec.Command(os.Args[0], "-test.run=^TestSensorMainHelper$", "--", "run", "--config", cfg, "-i", "lo", "--engine", "pcap",
		"--bpf", "tcp port "+port, "--no-rules", "--stats-interval", "1s", "--heartbeat", "1s", "--web", web,
		"--output", "kafka:brokers="+deadAddr(t)+",topic=t,queue_size=2,batch_size=1,timeout=300ms,retry_max=100ms")
	cmd.Env = append(os.Environ(), "PS_SENSOR_MAIN=1", "PS_WEB_TOKEN="+token)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	metrics := func() string {
		req, _ := http.NewRequest("GET", "http://"+web+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		c := http.Client{Timeout: 2 * time.Second}
		resp, err := c.Do(req)
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	dropped := regexp.MustCompile(`packetsleuth_output_records_dropped_total\{output="kafka",type="kafka"\} ([1-9][0-9]*)`)
	deadline := time.Now().Add(30 * time.Second)
	var beatsAtDrop int
	for {
		if time.Now().After(deadline) {
			t.Fatalf("no drops reported, or heartbeats stopped:\n%s", stderr.String())
		}
		m := metrics() // also the traffic that fills the output
		beats := strings.Count(stderr.String(), "msg=heartbeat")
		if beatsAtDrop == 0 && dropped.MatchString(m) && strings.Contains(stderr.String(), "level=WARN msg=heartbeat") {
			beatsAtDrop = beats
		}
		// the run loop still beats after the output is full and dropping
		if beatsAtDrop > 0 && beats >= beatsAtDrop+3 && m != "" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(stderr.String(), "the pipeline waits for this output") {
		t.Errorf("no warning names the blocking output:\n%s", stderr.String())
	}
	sent := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(timeout + 20*time.Second):
		t.Fatalf("no exit after SIGTERM:\n%s", stderr.String())
	}
	took := time.Since(sent)
	produced, five := outcomes(t, stderr.String(), "kafka")
	sum := five[0] + five[1] + five[2] + five[3] + five[4]
	t.Logf("exit %s after SIGTERM (shutdown_timeout %s); %d records: delivered %d, spooled %d, dead-lettered %d, dropped %d, lost %d",
		took.Round(time.Millisecond), timeout, produced, five[0], five[1], five[2], five[3], five[4])
	if sum != produced || five[3] == 0 {
		t.Errorf("outcomes add up to %d of %d (want the stats events the full queue dropped among them)", sum, produced)
	}
}
