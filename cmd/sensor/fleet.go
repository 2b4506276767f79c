package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/packetsleuth/packetsleuth/fleet"
	"github.com/packetsleuth/packetsleuth/outputs"
)

const fleetHelp = `Usage: sensor fleet publish --config sensor.yaml [--rules PATH]... [--intel PATH]...

Publishes a set of rules and intel lists to every sensor of the fleet: one
message on the compacted topic of the config's fleet: section (created when
missing). Each sensor checks the set and puts it in force with a hot
reload, or keeps the set it has and reports why (config_error in its stats
events, the Sensors page). The set is checked here first: rules must
compile and lists parse. A directory stands for the files in it.

Flags:
`

func cmdFleet(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "publish" {
		fmt.Fprint(stderr, fleetHelp)
		return 2
	}
	fs := flag.NewFlagSet("fleet publish", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, fleetHelp); fs.PrintDefaults() }
	path := fs.String("config", "", "sensor.yaml with the fleet: section (required)")
	var rulesPaths, intelPaths listFlag
	fs.Var(&rulesPaths, "rules", "rule file or directory (repeatable)")
	fs.Var(&intelPaths, "intel", "intel list or directory (repeatable)")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *path == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		fmt.Fprintln(stderr, "sensor fleet publish:", outputs.Redact(err.Error()))
		return 1
	}
	if !cfg.Fleet.Enabled() {
		fmt.Fprintf(stderr, "sensor fleet publish: %s has no fleet.brokers\n", *path)
		return 1
	}
	b, err := fleet.ReadFiles(rulesPaths, intelPaths)
	if err != nil {
		fmt.Fprintln(stderr, "sensor fleet publish:", err)
		return 1
	}
	// checked as a sensor will: staged in a directory of its own
	tmp, err := os.MkdirTemp("", "packetsleuth-fleet-")
	if err != nil {
		fmt.Fprintln(stderr, "sensor fleet publish:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	check := cfg
	check.Rules.Paths = nil // the sensors' own rules are not the publisher's
	if _, err := fleet.Dir(filepath.Join(tmp, "check")).Install(b, fleetChecker(&check)); err != nil {
		fmt.Fprintln(stderr, "sensor fleet publish: the set is refused:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	version, err := fleet.Publish(ctx, cfg.Fleet, b)
	if err != nil {
		fmt.Fprintln(stderr, "sensor fleet publish:", outputs.Redact(err.Error()))
		return 1
	}
	fmt.Fprintf(stdout, "published %s: %d rule file(s), %d intel list(s) to %s\n", version, len(b.Rules), len(b.Intel), cfg.Fleet.WithDefaults().Topic)
	return 0
}
