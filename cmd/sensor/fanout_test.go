package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// capture.fanout is the default of every interface, which may set its own;
// bad values are errors with the file and line, and --fanout replaces them
// all.
func TestConfigFanout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sensor.yaml")
	os.WriteFile(path, []byte(`capture:
  fanout: 4
interfaces:
  - eth9
  - name: eth8
    fanout: 2
`), 0o644)
	cfg, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := cfg.liveConfig(0).Fanout, cfg.liveConfig(1).Fanout; a != 4 || b != 2 {
		t.Errorf("fanout of eth9 %d, eth8 %d; want 4 and 2", a, b)
	}

	os.WriteFile(path, []byte(`capture:
  fanout: 65
interfaces:
  - name: eth9
    fanout: 1
  - name: eth8
    engine: pcap
    fanout: 2
  - name: eth7
    fanout: -1
`), 0o644)
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"config", "check", "--config", path}, &stdout, &stderr); rc != 1 {
		t.Fatalf("rc=%d: %s", rc, stderr.String())
	}
	for _, want := range []string{
		path + ": line 2: capture: fanout 65: want 1..64",
		path + ": line 6: interfaces[1]: fanout 2: needs engine afpacket or auto",
		path + ": line 9: interfaces[2]: fanout -1: want 1..64",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stderr.String())
		}
	}
	if strings.Contains(stderr.String(), "interfaces[0]") {
		t.Errorf("eth9 sets its own valid fanout:\n%s", stderr.String())
	}

	// --fanout replaces the config's, and is checked the same way.
	stderr.Reset()
	os.WriteFile(path, []byte("capture:\n  fanout: 2\ninterfaces:\n  - name: eth9\n    fanout: 4\n"), 0o644)
	if rc := run([]string{"run", "--config", path, "--fanout", "3", "--engine", "pcap", "--no-rules", "--out", "-"}, &stdout, &stderr); rc != 2 ||
		strings.Count(stderr.String(), "fanout 3: needs engine afpacket or auto") != 2 || strings.Contains(stderr.String(), "fanout 4") {
		t.Errorf("rc=%d: %s", rc, stderr.String())
	}
	stderr.Reset()
	if rc := run([]string{"run", "-i", "eth9", "--fanout", "100", "--no-rules", "--out", "-"}, &stdout, &stderr); rc != 2 ||
		!strings.Contains(stderr.String(), "fanout 100: want 1..64") {
		t.Errorf("rc=%d: %s", rc, stderr.String())
	}
}
