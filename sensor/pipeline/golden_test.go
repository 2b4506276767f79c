package pipeline

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

const (
	ownPcaps  = "../../testdata/pcaps"
	goldenDir = "../../testdata/golden"
)

// Golden NDJSON for every generated capture: with one worker the bytes must
// be identical (whether the worker has a goroutine of its own or is called
// inline by the feeder), with two the same lines in some order.
func TestGolden(t *testing.T) {
	captures, _ := filepath.Glob(filepath.Join(ownPcaps, "*"))
	if len(captures) == 0 {
		t.Fatal("no generated captures; run: go run ./cmd/pcapgen -testdata testdata/pcaps")
	}
	for _, c := range captures {
		name := filepath.Base(c)
		t.Run(name, func(t *testing.T) {
			out, _ := replay(t, Config{Workers: 1}, c)
			got := bytes.Join(out.raw, []byte("\n"))
			got = append(got, '\n')
			golden := filepath.Join(goldenDir, name+".ndjson")
			if *update {
				if err := os.MkdirAll(goldenDir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./sensor/pipeline -run TestGolden -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s:\n got: %s\nwant: %s", golden, got, want)
			}
			inline, _ := replay(t, Config{Workers: 1, Inline: true}, c)
			if got := bytes.Join(inline.raw, []byte("\n")); !bytes.Equal(got, want[:max(len(want)-1, 0)]) {
				t.Errorf("inline, output differs from %s:\n got: %s\nwant: %s", golden, got, want)
			}
			out2, _ := replay(t, Config{Workers: 2}, c)
			a, b := sortedLines(out.raw), sortedLines(out2.raw)
			if !slices.Equal(a, b) {
				t.Errorf("2 workers give other events:\n%v\nvs\n%v", b, a)
			}
		})
	}
}

func sortedLines(raw [][]byte) []string {
	s := make([]string, len(raw))
	for i, r := range raw {
		s[i] = string(r)
	}
	slices.Sort(s)
	return s
}

// Every golden event passes the official ECS field check.
func TestGoldenIsECS(t *testing.T) {
	check := "../../../shared/tools/ecs_check.py"
	if _, err := os.Stat(check); err != nil {
		t.Skip("../shared/tools/ecs_check.py is not beside the repository")
	}
	files, _ := filepath.Glob(filepath.Join(goldenDir, "*.ndjson"))
	args := append([]string{check, "--custom", "packetsleuth"}, files...)
	out, err := exec.Command("python3", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ecs_check: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), " 0 with problems") {
		t.Errorf("ecs_check: %s", out)
	}
}
