package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The systemd units are valid (systemd-analyze verify), sandboxed (the
// offline security exposure stays "OK", at most 2.5 of 10), and the
// collector holds no capability at all.
func TestSystemdUnits(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	units, _ := filepath.Glob("systemd/*.service")
	if len(units) < 2 {
		t.Fatalf("units: %v, want the sensor's and the collector's", units)
	}
	exposure := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`)
	for _, u := range units {
		b, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		// the binary is not installed here: verify against one that exists
		tmp := filepath.Join(t.TempDir(), filepath.Base(u))
		if err := os.WriteFile(tmp, []byte(strings.ReplaceAll(string(b), "/usr/local/bin/sensor", "/bin/true")), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("systemd-analyze", "verify", tmp).CombinedOutput(); err != nil {
			t.Errorf("%s: systemd-analyze verify: %v\n%s", u, err, out)
		}
		out, _ := exec.Command("systemd-analyze", "security", "--offline=true", tmp).CombinedOutput()
		m := exposure.FindSubmatch(out)
		if m == nil {
			t.Errorf("%s: no exposure level in:\n%s", u, out)
			continue
		}
		level, _ := strconv.ParseFloat(string(m[1]), 64)
		if level > 2.5 {
			t.Errorf("%s: exposure %.1f, want at most 2.5:\n%s", u, level, out)
		}
		t.Logf("%s: exposure %.1f", u, level)
		if strings.Contains(u, "collector") {
			if !strings.Contains(string(b), "\nCapabilityBoundingSet=\n") || !strings.Contains(string(b), "sensor collect --config") {
				t.Errorf("%s: the collector should run `sensor collect` without capabilities", u)
			}
		}
	}
}
