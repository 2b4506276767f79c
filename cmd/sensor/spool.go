package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/packetsleuth/packetsleuth/outputs"
)

const spoolUsage = `Usage:
  sensor spool inspect [--config F] [DIR...]   what each spool holds (read only)
  sensor spool drain [--config F] [--output NAME] [--timeout 5m]   deliver the spools of the config's outputs, without new input`

// cmdSpool is `sensor spool inspect|drain`.
func cmdSpool(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "inspect" && args[0] != "drain") {
		fmt.Fprintln(stderr, spoolUsage)
		return 2
	}
	fs := flag.NewFlagSet("spool "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "sensor.yaml whose outputs have spool_dir")
	name := fs.String("output", "", "drain only the output of this name")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up draining after this long (what is left stays in the spool)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	cfg, err := loadConfig(*config)
	if err != nil {
		fmt.Fprintln(stderr, "sensor spool:", err)
		return 2
	}
	var spooled []outputs.SinkConfig
	for _, o := range cfg.Outputs {
		if o.SpoolDir != "" && (*name == "" || o.WithDefaults().Name == *name) {
			spooled = append(spooled, o)
		}
	}
	if args[0] == "inspect" {
		dirs := fs.Args()
		for _, o := range spooled {
			dirs = append(dirs, o.SpoolDir)
		}
		if len(dirs) == 0 {
			fmt.Fprintln(stderr, "sensor spool inspect: give spool directories or a --config whose outputs have spool_dir")
			return 2
		}
		return inspectSpools(dirs, stdout, stderr)
	}
	if fs.NArg() > 0 || len(spooled) == 0 {
		fmt.Fprintln(stderr, "sensor spool drain: no output with spool_dir in --config (or none named --output)")
		return 2
	}
	return drainSpools(spooled, *timeout, cmp(cfg.ShutdownTimeout, defaultShutdownTimeout), stdout, stderr)
}

func inspectSpools(dirs []string, stdout, stderr io.Writer) int {
	rc := 0
	for _, d := range dirs {
		info, err := outputs.InspectSpool(d)
		if err != nil {
			fmt.Fprintf(stderr, "sensor spool inspect: %v\n", err)
			rc = 1
			continue
		}
		fmt.Fprintf(stdout, "%s: %d records to deliver, %s in %d segment(s)", d, info.Records, humanize.IBytes(uint64(info.Bytes)), info.Segments)
		if info.CorruptBytes > 0 {
			fmt.Fprintf(stdout, ", %d corrupt bytes (cut off when a sensor opens it)", info.CorruptBytes)
		}
		fmt.Fprintln(stdout)
		if info.Records > 0 {
			fmt.Fprintf(stdout, "  datasets: %s\n", countList(toUint(info.Datasets)))
			fmt.Fprintf(stdout, "  event time: %s to %s\n", info.Oldest.UTC().Format(time.RFC3339), info.Newest.UTC().Format(time.RFC3339))
		}
	}
	return rc
}

func toUint(m map[string]int64) map[string]uint64 {
	out := make(map[string]uint64, len(m))
	for k, v := range m {
		out[k] = uint64(v)
	}
	return out
}

// drainSpools opens the outputs (each Runner resends its spool first) and
// waits until their spools and queues are empty or timeout passes.
func drainSpools(sinks []outputs.SinkConfig, timeout, closeTimeout time.Duration, stdout, stderr io.Writer) int {
	log := slog.New(outputs.RedactHandler(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	fan, err := outputs.Open(sinks, outputs.WithLogger(log))
	if err != nil {
		fmt.Fprintln(stderr, "sensor spool drain:", outputs.Redact(err.Error()))
		return 2
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && slices.ContainsFunc(fan.Stats(), func(s outputs.Stats) bool {
		return s.SpoolRecords > 0 || s.QueueLen > 0
	}) {
		time.Sleep(100 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	sums, err := fan.Close(ctx)
	for _, s := range sums {
		fmt.Fprintf(stdout, "output %s\n", s)
	}
	if err != nil {
		fmt.Fprintln(stderr, "sensor spool drain: not everything was delivered")
		return 1
	}
	return 0
}
