package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/fleet"
)

const fleetRule = `rules:
  - id: PS-TEST-FLEET
    name: fleet rule %s
    description: Flows to the test's UDP port.
    condition: event.dataset == "packetsleuth.flow" and destination.port == %d
    severity: low
`

// A running sensor follows the fleet topic of the real Kafka service: a
// set published with `sensor fleet publish` is put in force with a hot
// reload and reported in the stats events; a bad set is refused, the
// sensor says so (config_error) and its rules stay in force.
func TestLiveFleetConfig(t *testing.T) {
	needLive(t)
	broker := os.Getenv("PS_TEST_KAFKA")
	if broker == "" {
		t.Skip("PS_TEST_KAFKA is not set: eval \"$(../../shared/services/start-kafka.sh)\"")
	}
	dir := t.TempDir()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	port := conn.LocalAddr().(*net.UDPAddr).Port
	topic := "ps-fleet-config-" + fleetRunID()
	cfg := filepath.Join(dir, "sensor.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("flow:\n  udp: 1s\nstats:\n  interval: 1s\nfleet:\n  brokers: [%q]\n  topic: %s\n  dir: %s\n",
		broker, topic, filepath.Join(dir, "fleet"))), 0o600)
	out := filepath.Join(dir, "events.ndjson")
	s := startSensorHere(t, out, "--config", cfg, "-i", "lo", "--bpf", fmt.Sprintf("udp and host 127.0.0.1 and port %d", port))

	rulesDir := filepath.Join(dir, "published")
	os.Mkdir(rulesDir, 0o755)
	os.WriteFile(filepath.Join(rulesDir, "fleet.yaml"), []byte(fmt.Sprintf(fleetRule, "v1", port)), 0o644)
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"fleet", "publish", "--config", cfg, "--rules", rulesDir}, &stdout, &stderr); rc != 0 {
		t.Fatalf("fleet publish: rc %d: %s", rc, stderr.String())
	}
	v1, _, _ := strings.Cut(strings.TrimPrefix(stdout.String(), "published "), ": ")
	s.waitFor(t, "fleet: new set in force")
	s.waitFor(t, "rules reloaded")

	send := func() int {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.WriteToUDP([]byte("fleet test"), conn.LocalAddr().(*net.UDPAddr)); err != nil {
			t.Fatal(err)
		}
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	before := send()
	time.Sleep(1500 * time.Millisecond) // the flow times out (1 s) under v1

	// the publisher refuses a bad set itself; one that gets through anyway
	// is refused by the sensor
	os.WriteFile(filepath.Join(rulesDir, "broken.yaml"), []byte("rules:\n  - id: PS-TEST-BROKEN\n    condition: no such ==\n"), 0o644)
	stderr.Reset()
	if rc := run([]string{"fleet", "publish", "--config", cfg, "--rules", rulesDir}, &stdout, &stderr); rc == 0 || !strings.Contains(stderr.String(), "refused") {
		t.Fatalf("fleet publish of a bad set: rc %d: %s", rc, stderr.String())
	}
	bad, err := fleet.ReadFiles([]string{rulesDir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	vBad, err := fleet.Publish(ctx, fleet.Config{Brokers: []string{broker}, Topic: topic}, bad)
	if err != nil {
		t.Fatal(err)
	}
	s.waitFor(t, "fleet: set refused")
	after := send()
	time.Sleep(2500 * time.Millisecond) // the flow times out; a stats event after the refusal
	s.cmd.Process.Signal(syscall.SIGTERM)
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("sensor: %v\n%s", err, s.stderr.String())
	}

	alerts := map[string]string{}
	var versions []string
	refused := false
	for _, ev := range readLiveEvents(t, out) {
		switch liveField(ev, "event.dataset") {
		case "packetsleuth.alert":
			alerts[liveField(ev, "source.port")] = liveField(ev, "rule.name")
		case "packetsleuth.stats":
			if liveField(ev, "observer.ingress.interface.name") != "" {
				continue
			}
			v := liveField(ev, "packetsleuth.stats.config_version")
			versions = append(versions, v)
			if e := liveField(ev, "packetsleuth.stats.config_error"); e != "" {
				refused = v == v1 && strings.Contains(e, vBad) && strings.Contains(e, "rules/broken.yaml")
			}
		}
	}
	if alerts[fmt.Sprint(before)] != "fleet rule v1" || alerts[fmt.Sprint(after)] != "fleet rule v1" {
		t.Errorf("alerts by source port: %v (before %d, after %d)", alerts, before, after)
	}
	if len(versions) == 0 || versions[len(versions)-1] != v1 || !refused {
		t.Errorf("stats: versions %v (want the last %s), refusal reported %v\n%s", versions, v1, refused, s.stderr.String())
	}
}
