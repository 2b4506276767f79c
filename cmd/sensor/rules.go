package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/packetsleuth/packetsleuth/enrich"
	"github.com/packetsleuth/packetsleuth/rules"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/pipeline"
)

const rulesUsage = `Usage:
  sensor rules validate [FILE|DIR...]   check rule files: every error with file:line:col, then warnings
  sensor rules test [--rule ID] [--format text|json|junit] [FILE|DIR...]   run the rules' own test cases
  sensor rules list [FILE|DIR...]       list the rules
  sensor rules fields [--dataset X]     the fields rules can read
  sensor rules import-sigma [--out F] FILE|DIR...   convert Sigma rules of network log sources

Without paths the commands work on the shipped rulesets; with paths the
shipped set loads first and the files may use and override it. validate,
test and list take --home-net CIDR,...: the sensor's home network, which
rules see as the list home_networks (default the private ranges).
`

// cmdRules is `sensor rules validate|test|list [PATH...]` and `sensor rules
// fields [--dataset X]`. Without paths it works on the shipped rulesets;
// with paths, the shipped set loads first and the files may override it.
func cmdRules(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, rulesUsage)
		return 2
	}
	sub := args[0]
	switch sub {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, rulesUsage)
		return 0
	case "fields":
		return cmdRulesFields(args[1:], stdout, stderr)
	case "import-sigma":
		return cmdImportSigma(args[1:], stdout, stderr)
	case "validate", "test", "list":
	default:
		fmt.Fprintf(stderr, "sensor rules: unknown subcommand %q\n\n%s", sub, rulesUsage)
		return 2
	}
	fs := flag.NewFlagSet("sensor rules "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	var opts rules.TestOptions
	var homeNet string
	fs.StringVar(&homeNet, "home-net", "", "the sensor's home network, CIDR,... (the list home_networks; default the private ranges)")
	if sub == "test" {
		fs.StringVar(&opts.Rule, "rule", "", "only the test cases of this rule id")
		fs.StringVar(&opts.Format, "format", "text", "text, json or junit (JUnit XML for CI)")
	}
	paths, err := parseInterspersed(fs, args[1:])
	if err != nil {
		out, code := stderr, 2
		if errors.Is(err, flag.ErrHelp) {
			out, code = stdout, 0
		}
		fmt.Fprint(out, rulesUsage)
		fmt.Fprintf(out, "\nFlags of %s:\n", sub)
		fs.SetOutput(out)
		fs.PrintDefaults()
		return code
	}
	set, errs := rules.LoadFiles(rules.Options{Defaults: true, HomeNet: []string{homeNet}}, paths...)
	if len(errs) > 0 {
		rules.WriteErrors(stderr, errs)
		fmt.Fprintf(stderr, "%d error(s)\n", len(errs))
		return 1
	}
	switch sub {
	case "validate":
		for _, w := range set.Warnings() {
			fmt.Fprintln(stderr, "warning:", w)
		}
		fmt.Fprintf(stdout, "ok: %d rules, %d warning(s)\n", len(set.Rules()), len(set.Warnings()))
	case "list":
		rules.List(set, stdout)
	case "test":
		sum, err := rules.RunTests(set, replayCase, stdout, opts)
		if err != nil {
			fmt.Fprintln(stderr, "sensor rules test:", err)
			return 2
		}
		if sum.Failed > 0 {
			return 1
		}
	}
	return 0
}

// parseInterspersed parses flags that may come before or after the
// positional arguments (`rules test DIR --rule X`), which it returns.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
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

// replayCase runs the capture of a rule test through the sensor (one
// worker, no rules), enriched with the case's intel and home_net, and
// returns its events.
func replayCase(tc *rules.TestCase) ([]schemas.Event, error) {
	out := &eventCollector{}
	cfg := pipeline.Config{Output: out}
	if len(tc.Intel) > 0 || len(tc.HomeNet) > 0 {
		shared, err := enrich.Open(enrich.Config{Intel: tc.Intel, HomeNet: tc.HomeNet}, nil)
		if err != nil {
			return nil, err
		}
		defer shared.Close()
		cfg.NewEnricher = func() pipeline.Enricher { return shared.NewWorker() }
	}
	p, err := pipeline.New(cfg)
	if err != nil {
		return nil, err
	}
	if _, err := p.Replay(context.Background(), []string{tc.Pcap}); err != nil {
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
