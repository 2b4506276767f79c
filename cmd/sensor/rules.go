package main

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/packetsleuth/packetsleuth/rules"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/pipeline"
)

// cmdRules is `sensor rules validate|test|list [PATH...]`. Without paths it
// works on the shipped rulesets; with paths, the shipped set loads first and
// the files may override it.
func cmdRules(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "Usage: sensor rules validate|test|list [FILE|DIR...]")
		return 2
	}
	set, errs := rules.LoadFiles(true, args[1:]...)
	if len(errs) > 0 {
		rules.WriteErrors(stderr, errs)
		fmt.Fprintf(stderr, "%d error(s)\n", len(errs))
		return 1
	}
	switch args[0] {
	case "validate":
		fmt.Fprintf(stdout, "ok: %d rules\n", len(set.Rules()))
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
