// Command benchvs compares `sensor replay` with Suricata on one capture
// (`make bench` runs it on bench-large, see ../shared/bench/README.md):
// runs alternate (Suricata, then the sensor with each worker count, round
// after round) and each run's CPU time (user+sys of the process, from its
// rusage) and peak RSS are read from the kernel, so the figures hold on a
// shared, loaded machine better than wall time does. Each run's wall time
// is printed too, with the load average when it began: the goal for
// several workers is about time, and wall figures mean something only on
// an idle machine. Before each run the capture is read through once, so
// every run starts with it in the page cache (a machine under other load
// drops some of its pages between runs, and a run that meets them waits
// for the disk); each run's major page faults are printed, to show one
// that still did. It prints the median per-round CPU and wall ratios to
// Suricata, the 1→N-worker wall speed-up of each binary, then where one
// profiled 1-worker replay spends its CPU, stage by stage
// (internal/profstage).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/profstage"
)

func main() {
	pcap := flag.String("pcap", "", "capture to replay (bench-large)")
	sensor := flag.String("sensor", "bin/sensor", "sensor binary")
	baseline := flag.String("baseline", "", "another sensor binary (a build before a change) to run in the same rounds")
	suriConf := flag.String("suricata-config", "", "suricata.yaml logging what the sensor logs (../shared/bench/suricata.yaml)")
	runs := flag.Int("runs", 3, "rounds of alternating runs")
	workers := flag.String("workers", "1,2", "sensor worker counts, comma-separated")
	profile := flag.Bool("profile", true, "profile one 1-worker replay and print the stage breakdown")
	flag.Parse()
	if err := run(*pcap, *sensor, *baseline, *suriConf, *runs, *workers, *profile); err != nil {
		fmt.Fprintln(os.Stderr, "benchvs:", err)
		os.Exit(1)
	}
}

// usage is what one run cost, from its rusage.
type usage struct {
	cpu  time.Duration
	wall time.Duration
	rss  int64  // bytes
	load string // the 1-minute load average when the run began
	// majflt counts the run's major page faults: reads of its mapping (or
	// of its binary) that waited for the disk.
	majflt int64
}

// tool is one command line compared.
type tool struct {
	name    string
	label   string // "sensor" or "baseline" (empty for suricata)
	workers int
	args    func(dir string) []string
	runs    []usage
}

func run(pcap, sensor, baseline, suriConf string, rounds int, workerList string, profile bool) error {
	if pcap == "" || suriConf == "" {
		return fmt.Errorf("-pcap and -suricata-config are needed")
	}
	tmp, err := os.MkdirTemp("", "benchvs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	tools := []*tool{{name: "suricata", args: func(dir string) []string {
		return []string{"suricata", "-c", suriConf, "--runmode", "single", "-r", pcap, "-l", dir}
	}}}
	for _, w := range strings.Split(workerList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || n < 1 {
			return fmt.Errorf("bad worker count %q", w)
		}
		if baseline != "" {
			tools = append(tools, replayTool("baseline", baseline, pcap, n))
		}
		tools = append(tools, replayTool("sensor", sensor, pcap, n))
	}
	fmt.Printf("%s: %d rounds of alternating runs; CPU = user+sys of the process, wall = elapsed (meaningful on an idle machine only), load = 1-minute load average at the run's start\n", filepath.Base(pcap), rounds)
	for r := range rounds {
		for _, t := range tools {
			if err := warm(pcap); err != nil {
				return err
			}
			u, err := measure(tmp, t.args)
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			t.runs = append(t.runs, u)
			fmt.Printf("  round %d  %-20s cpu %6.2fs  wall %6.2fs  rss %4d MB  load %s  majflt %d\n", r+1, t.name, u.cpu.Seconds(), u.wall.Seconds(), u.rss>>20, u.load, u.majflt)
		}
	}
	fmt.Printf("%-20s %9s %9s %9s %9s %9s\n", "", "cpu", "ratio", "wall", "ratio", "peak RSS")
	for i, t := range tools {
		cpu := median(t.runs, func(u usage) float64 { return u.cpu.Seconds() })
		wall := median(t.runs, func(u usage) float64 { return u.wall.Seconds() })
		rss := median(t.runs, func(u usage) float64 { return float64(u.rss >> 20) })
		cpuRatio, wallRatio := "1.00", "1.00"
		if i > 0 {
			cpuRatio = fmt.Sprintf("%.2f", ratio(t, tools[0], func(u usage) time.Duration { return u.cpu }))
			wallRatio = fmt.Sprintf("%.2f", ratio(t, tools[0], func(u usage) time.Duration { return u.wall }))
		}
		fmt.Printf("%-20s %8.2fs %9s %8.2fs %9s %6.0f MB\n", t.name, cpu, cpuRatio, wall, wallRatio, rss)
	}
	fmt.Println("(median of each; ratio = median of the per-round ratios to suricata)")
	for _, t := range tools {
		if one := single(tools, t); one != nil && t.workers > 1 {
			fmt.Printf("%s: wall speed-up from 1 to %d workers %.2fx (median of the per-round ratios)\n",
				t.name, t.workers, 1/ratio(t, one, func(u usage) time.Duration { return u.wall }))
		}
	}
	if profile {
		return stages(tmp, sensor, pcap)
	}
	return nil
}

// replayTool is `sensor replay` of pcap with n workers.
func replayTool(name, bin, pcap string, n int) *tool {
	return &tool{name: fmt.Sprintf("%s workers=%d", name, n), label: name, workers: n, args: func(dir string) []string {
		return []string{bin, "replay", "--quiet", "--workers", strconv.Itoa(n), "--out", filepath.Join(dir, "events.ndjson"), pcap}
	}}
}

// measure runs a command with its output in a fresh directory under tmp and
// returns its CPU time, wall time and peak RSS.
func measure(tmp string, args func(dir string) []string) (usage, error) {
	dir, err := os.MkdirTemp(tmp, "run-")
	if err != nil {
		return usage{}, err
	}
	defer os.RemoveAll(dir)
	a := args(dir)
	cmd := exec.Command(a[0], a[1:]...)
	load := loadAverage()
	start := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(start)
	if err != nil {
		return usage{}, fmt.Errorf("%v: %s", err, tail(out))
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return usage{}, fmt.Errorf("no rusage on this system")
	}
	return usage{
		cpu:    time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		wall:   wall,
		rss:    ru.Maxrss << 10, // kilobytes on Linux
		load:   load,
		majflt: ru.Majflt,
	}, nil
}

// warm reads the file through, so that a run finds it in the page cache.
func warm(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.CopyBuffer(io.Discard, f, make([]byte, 1<<20))
	return err
}

// stages profiles one 1-worker replay and prints its stage breakdown.
func stages(tmp, sensor, pcap string) error {
	prof := filepath.Join(tmp, "cpu.prof")
	if _, err := measure(tmp, func(dir string) []string {
		return []string{sensor, "replay", "--quiet", "--workers", "1", "--cpuprofile", prof, "--out", filepath.Join(dir, "events.ndjson"), pcap}
	}); err != nil {
		return fmt.Errorf("profiled replay: %w", err)
	}
	f, err := os.Open(prof)
	if err != nil {
		return err
	}
	defer f.Close()
	b, err := profstage.Read(f)
	if err != nil {
		return err
	}
	fmt.Println("\nwhere a 1-worker replay spends its CPU (samples of one profiled run, by the innermost stage package on the stack):")
	fmt.Print(b)
	return nil
}

// ratio is the median over the rounds of t's figure divided by base's.
func ratio(t, base *tool, f func(usage) time.Duration) float64 {
	r := make([]float64, len(t.runs))
	for i := range t.runs {
		r[i] = f(t.runs[i]).Seconds() / f(base.runs[i]).Seconds()
	}
	slices.Sort(r)
	return r[len(r)/2]
}

// single is the 1-worker run of t's build, if the rounds have one.
func single(tools []*tool, t *tool) *tool {
	for _, o := range tools {
		if o.label != "" && o.label == t.label && o.workers == 1 {
			return o
		}
	}
	return nil
}

// loadAverage is the 1-minute load average ("?" where /proc has none).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

func median(us []usage, f func(usage) float64) float64 {
	v := make([]float64, len(us))
	for i, u := range us {
		v[i] = f(u)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// tail is the end of a failed command's output, for the error.
func tail(b []byte) string {
	const n = 500
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}
