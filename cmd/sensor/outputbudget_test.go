package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// TestFloodWithAStalledOutputStaysInTheBudget replays a SYN flood under the
// smallest budget with, beside --out, a syslog output whose receiver
// accepts the connection and never reads (its retries far apart, so that
// new connections' socket buffers take little): the flows and that
// output's queue compete for the budget, the queue is refused room (it
// would hold more than the whole budget), and its records are dropped as
// on_full: drop says; the summary accounts for every record and names the
// refusals, the outputs' refusals are limit.memory anomalies, and --out,
// which waits for room (on_full: block), still gets every record.
func TestFloodWithAStalledOutputStaysInTheBudget(t *testing.T) {
	dir := t.TempDir()
	pcap := filepath.Join(dir, "flood.pcap")
	const syns = 60000
	if err := pcapgen.WriteSYNFloodFile(pcap, syns, 1); err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accepts, never reads
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()

	cfg := filepath.Join(dir, "sensor.yaml")
	if err := os.WriteFile(cfg, []byte("shutdown_timeout: 1s\nlimits:\n  memory: 16MiB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "events.ndjson")
	var stdout, stderr bytes.Buffer
	run([]string{"replay", "--config", cfg, "--workers", "1", "--no-rules", "--out", out,
		"--output", "syslog:name=stalled,network=tcp,address=" + ln.Addr().String() + ",on_full=drop,write_timeout=1s,retry_min=5s",
		pcap}, &stdout, &stderr)
	summary := stderr.String()

	line := regexp.MustCompile(`output stalled: (\d+) records: (\d+) delivered, (\d+) spooled, (\d+) dead-lettered, (\d+) dropped, (\d+) lost`).FindStringSubmatch(summary)
	if line == nil {
		t.Fatalf("no summary line of the stalled output:\n%s", summary)
	}
	n := make([]uint64, len(line))
	for i := 1; i < len(line); i++ {
		n[i], _ = strconv.ParseUint(line[i], 10, 64)
	}
	offered, delivered, spooled, dead, dropped, lost := n[1], n[2], n[3], n[4], n[5], n[6]
	if offered < syns || delivered+spooled+dead+dropped+lost != offered {
		t.Errorf("the stalled output's records do not add up: %s", line[0])
	}
	if dropped == 0 {
		t.Errorf("the stalled output dropped nothing: %s", line[0])
	}
	if !regexp.MustCompile(`memory budget 16 MiB reached .*refused: .*outputs [1-9]`).MatchString(summary) {
		t.Errorf("the summary does not name the outputs' refusals:\n%s", summary)
	}

	// Under the anomalies' rate limit the flows' evictions take the
	// events; the outputs' refusals are counted with them.
	m := regexp.MustCompile(`eviction (\d+),.*\n(?s:.*)anomalies: .*limit\.memory (\d+)`).FindStringSubmatch(summary)
	if m == nil {
		t.Fatalf("no evictions or limit.memory anomalies in the summary:\n%s", summary)
	}
	evicted, _ := strconv.Atoi(m[1])
	reported, _ := strconv.Atoi(m[2])
	if reported <= evicted {
		t.Errorf("%d limit.memory anomalies for %d evictions: none for the outputs' refusals", reported, evicted)
	}
	if !strings.Contains(summary, fmt.Sprintf("output out: %d records: %d delivered", offered, offered)) {
		t.Errorf("--out did not get every record the stalled output was offered:\n%s", summary)
	}
}
