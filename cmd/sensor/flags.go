package main

import (
	"flag"
	"strings"

	"github.com/packetsleuth/packetsleuth/outputs"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// commonFlags are the flags replay and run share: the config file, where
// events go, the workers, the BPF filter, the rules, flows-only and quiet.
type commonFlags struct {
	config    string
	out       string
	outputs   listFlag
	bpf       string
	workers   int
	rules     listFlag
	noRules   bool
	flowsOnly bool
	quiet     bool
	memory    outputs.ByteSize
}

// register declares the flags on fs. The help of --bpf and --output is the
// command's own (where the filter applies; the example).
func (c *commonFlags) register(fs *flag.FlagSet, bpfHelp, outputHelp string) {
	fs.StringVar(&c.out, "out", "", "NDJSON output file, - for stdout (default out/events-<time>.ndjson)")
	fs.Var(&c.outputs, "output", outputHelp)
	fs.StringVar(&c.bpf, "bpf", "", bpfHelp)
	fs.IntVar(&c.workers, "workers", 0, "worker goroutines (default: config, else one per CPU)")
	fs.StringVar(&c.config, "config", "", "sensor.yaml to read")
	fs.BoolVar(&c.quiet, "quiet", false, "no summary on stderr")
	fs.BoolVar(&c.flowsOnly, "flows-only", false, "flow events only: no reassembly or protocol parsing")
	fs.Var(&c.rules, "rules", "rule file or directory, repeatable (loaded over the shipped rulesets)")
	fs.BoolVar(&c.noRules, "no-rules", false, "evaluate no detection rules")
	fs.Var(sizeFlag{&c.memory}, "memory-limit", "memory budget of the process, e.g. 2GiB (default: config limits.memory, else a quarter of RAM)")
}

// apply puts the flags given on the command line (set) over cfg; --rules
// add to the config's rule paths. --flows-only and --quiet are read by the
// command itself.
func (c *commonFlags) apply(cfg *Config, set map[string]bool) {
	if set["workers"] {
		cfg.Workers = c.workers
	}
	if set["bpf"] {
		cfg.BPF = c.bpf
	}
	if set["memory-limit"] {
		cfg.Limits.Memory = c.memory
	}
	cfg.Rules.Paths = append(cfg.Rules.Paths, c.rules...)
	if c.noRules {
		cfg.Rules.Disabled = true
	}
}

// sinks are the outputs of cfg, --output and --out (see replaySinks), and
// the file --out writes.
func (c *commonFlags) sinks(cfg *Config) ([]outputs.SinkConfig, outFile, error) {
	return replaySinks(cfg.Outputs, c.out, c.outputs)
}

// visited is the set of the flags given on the command line.
func visited(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}
