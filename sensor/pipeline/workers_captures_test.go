package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/rules"
	"github.com/packetsleuth/packetsleuth/sensor/hosts"
)

// Every capture (the shared ones and the project's own) gives the same
// events with several workers as with one, event.id included: with the
// shipped rules, the host table, and state spanning host pairs (rule
// groups, anomaly rate limits). -short checks 2 workers only.
func TestWorkersGiveOneWorkersEvents(t *testing.T) {
	needShared(t)
	var captures []string
	for _, dir := range []string{sharedPcaps, ownPcaps} {
		all, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, c := range all {
			if st, err := os.Stat(c); err == nil && st.Mode().IsRegular() && !strings.HasSuffix(c, ".md") {
				captures = append(captures, c)
			}
		}
	}
	set := shippedSet(t)
	counts := []int{2, 3, 4}
	if testing.Short() {
		counts = counts[:1]
	}
	var differ []string
	for _, c := range captures {
		want := sortedLines(replayCapture(t, set, 1, c))
		for _, n := range counts {
			if got := sortedLines(replayCapture(t, set, n, c)); !slices.Equal(got, want) {
				differ = append(differ, fmt.Sprintf("%s, %d workers:\n%s", filepath.Base(c), n, lineDiff(want, got)))
				break
			}
		}
	}
	if len(differ) > 0 {
		t.Fatalf("%d of %d captures give other events with several workers:\n%s", len(differ), len(captures), strings.Join(differ, "\n"))
	}
}

// replayCapture replays path with the shipped rules and a host table, as
// the sensor is wired, and returns the events.
func replayCapture(t *testing.T, set *rules.Set, workers int, path string) [][]byte {
	t.Helper()
	cfg := Config{Workers: workers, Hosts: hosts.New(hosts.Config{}, nil), App: filesOn.App, NewDetector: detectors(set, workers)}
	out := &collector{}
	cfg.Output = out
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Replay(t.Context(), []string{path}); err != nil && !strings.Contains(path, "corrupt") {
		t.Fatalf("replay %s: %v", path, err)
	}
	return out.raw
}
