package main

import (
	"flag"
	"fmt"
	"io"
)

// cmdConfig is `sensor config check [--config FILE]`: it loads and checks
// the config as run and replay would, and prints ok or every error.
func cmdConfig(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(stderr, "Usage: sensor config check [--config FILE]")
		return 2
	}
	fs := flag.NewFlagSet("config check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "sensor.yaml", "config file to check")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() == 1 && *path == "sensor.yaml" {
		*path = fs.Arg(0) // sensor config check FILE
	} else if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sensor config check: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		errs := unjoin(err)
		for _, e := range errs {
			fmt.Fprintln(stderr, e)
		}
		fmt.Fprintf(stderr, "%d error(s)\n", len(errs))
		return 1
	}
	fmt.Fprintf(stdout, "ok: %s (%d interface(s), %d output(s))\n", *path, len(cfg.Interfaces), len(cfg.Outputs))
	return 0
}
