package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/packetsleuth/packetsleuth/rules"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/pipeline"
)

// cmdRules is `sensor rules validate|test|list [PATH...]` and `sensor rules
// fields [--dataset X]`. Without paths it works on the shipped rulesets;
// with paths, the shipped set loads first and the files may override it.
func cmdRules(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "Usage: sensor rules validate|test|list [FILE|DIR...] | fields [--dataset X]")
		return 2
	}
	if args[0] == "fields" {
		return cmdRulesFields(args[1:], stdout, stderr)
	}
	set, errs := rules.LoadFiles(true, args[1:]...)
	if len(errs) > 0 {
		rules.WriteErrors(stderr, errs)
		fmt.Fprintf(stderr, "%d error(s)\n", len(errs))
		return 1
	}
	switch args[0] {
	case "validate":
		for _, w := range set.Warnings() {
			fmt.Fprintln(stderr, "warning:", w)
		}
		fmt.Fprintf(stdout, "ok: %d rules, %d warning(s)\n", len(set.Rules()), len(set.Warnings()))
	case "list":
		rules.List(set, stdout)
	case "test":
		_, failed, _ := rules.RunTests(set, replayEvents, stdout)
		if failed > 0 {
			return 1
		}
	default:
		fmt.Fprintf(stderr, "sensor rules: unknown subcommand %q\n", args[0])
		return 2
	}
	return 0
}

// cmdRulesFields prints the fields rules can read: every field, or those
// the events of one dataset can carry.
func cmdRulesFields(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sensor rules fields", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataset := fs.String("dataset", "", "only the fields of this dataset (event.dataset, e.g. packetsleuth.dns)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, "Usage: sensor rules fields [--dataset X]")
		return 2
	}
	if *dataset != "" && !slices.Contains(schemas.Datasets(), *dataset) {
		fmt.Fprintf(stderr, "sensor rules fields: unknown dataset %q (one of %s)\n", *dataset, strings.Join(schemas.Datasets(), ", "))
		return 2
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FIELD\tTYPE\tSET\tDESCRIPTION")
	for _, f := range schemas.Fields(*dataset) {
		typ, set := f.Type, "ecs"
		if f.Array {
			typ += "[]"
		}
		if f.Custom() {
			set = "custom"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Name, typ, set, f.Description)
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintln(stderr, "sensor rules fields:", err)
		return 1
	}
	return 0
}

// replayEvents runs a capture through the sensor (one worker, no rules) and
// returns its events, for rule tests that name a pcap.
func replayEvents(path string) ([]schemas.Event, error) {
	out := &eventCollector{}
	p, err := pipeline.New(pipeline.Config{Output: out})
	if err != nil {
		return nil, err
	}
	if _, err := p.Replay(context.Background(), []string{path}); err != nil {
		return nil, err
	}
	return out.events, out.err
}

type eventCollector struct {
	mu     sync.Mutex
	events []schemas.Event
	err    error
}

func (c *eventCollector) Write(recs []schemas.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range recs {
		var ev schemas.Event
		if err := schemas.Decode(r.JSON, &ev); err != nil {
			c.err = err
			return err
		}
		c.events = append(c.events, ev)
	}
	return nil
}
