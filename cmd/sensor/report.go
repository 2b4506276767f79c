package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/store"
	"github.com/packetsleuth/packetsleuth/store/report"
)

// storeFlags are the flags that pick the history database.
type storeFlags struct {
	path, dsn *string
}

func addStoreFlags(fs *flag.FlagSet) storeFlags {
	return storeFlags{
		path: fs.String("store", "", "SQLite history file (default "+store.DefaultPath+")"),
		dsn:  fs.String("dsn", "", "PostgreSQL DSN, or mysql://user:pw@tcp(host:3306)/db, instead of --store (env:NAME or file:PATH read it from there)"),
	}
}

func (f storeFlags) open(ctx context.Context) (*store.Store, error) {
	if *f.path != "" && *f.dsn != "" {
		return nil, errors.New("--store and --dsn cannot be used together")
	}
	cfg := f.config()
	if *f.dsn != "" {
		var s outputs.Secret
		if err := s.UnmarshalText([]byte(*f.dsn)); err != nil {
			return nil, fmt.Errorf("--dsn: %w", err)
		}
		cfg = store.DSNConfig(s.Value())
	}
	return store.Open(ctx, cfg)
}

// config is the store the flags name (the DSN's secret still unread).
func (f storeFlags) config() store.Config {
	if *f.dsn != "" {
		return store.Config{Driver: store.DSNConfig(*f.dsn).Driver}
	}
	return store.Config{Path: *f.path}
}

const reportHelp = `Usage: sensor report [flags]

Prints the traffic report of a time range from the history store: totals,
top talkers and breakdowns, the traffic series with its peaks, and alert
counts by rule.

--since and --until take an RFC 3339 time (or a date) or a duration (90s,
36h, 7d). Durations count back from the NEWEST DATA in the store, not from
the clock, so a replayed capture from last week reports on its own time:
--until defaults to the end of the newest second in the store, --since to
24h before --until.

Flags:
`

func cmdReport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, reportHelp); fs.PrintDefaults() }
	sf := addStoreFlags(fs)
	since := fs.String("since", "24h", "start: RFC 3339 time or duration before --until")
	until := fs.String("until", "", "end (exclusive): RFC 3339 time or duration before the newest data")
	sensor := fs.String("sensor", "", "report on this sensor's events only (its observer.name; default all sensors)")
	top := fs.Int("top", 10, "rows per breakdown")
	by := fs.String("by", "bytes", "rank by bytes, packets or flows")
	var groups listFlag
	fs.Var(&groups, "group", "breakdown, repeatable or comma-separated: "+strings.Join(store.GroupNames(), ", ")+" (default source.ip, destination.ip, destination.port, network.protocol)")
	format := fs.String("format", "table", "table, csv, json or html")
	res := fs.String("resolution", "", "series bucket width, e.g. 1s, 1m, 5m, 1h (default from the range: ≤1h 1s, ≤2d 1m, else 1h)")
	window := fs.Int("peak-window", 0, "buckets in the peak baseline (default 60)")
	k := fs.Float64("peak-k", 0, "a peak is above baseline mean + K standard deviations (default 3)")
	abs := fs.Float64("peak-threshold", 0, "also a peak: any bucket above this absolute value (0: off)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sensor report: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	o := report.Options{Top: *top, By: store.Metric(*by), Peaks: store.PeakOptions{Window: *window, K: *k, Absolute: *abs}}
	for _, g := range groups {
		for p := range strings.SplitSeq(g, ",") {
			if p = strings.TrimSpace(p); p != "" {
				o.Groups = append(o.Groups, p)
			}
		}
	}
	if *res != "" {
		d, err := store.ParseDuration(*res)
		if err != nil {
			fmt.Fprintln(stderr, "sensor report: --resolution:", err)
			return 2
		}
		o.Resolution = d
	}
	if !validFormat(*format, report.Formats) {
		fmt.Fprintf(stderr, "sensor report: --format %q: want one of %s\n", *format, strings.Join(report.Formats, ", "))
		return 2
	}
	ctx := context.Background()
	st, err := sf.open(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "sensor report:", err)
		return 1
	}
	defer st.Close()
	_, newest, err := st.Bounds(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "sensor report:", err)
		return 1
	}
	if o.Range, err = report.ParseRange(*since, *until, newest, time.Now()); err != nil {
		fmt.Fprintln(stderr, "sensor report:", err)
		return 2
	}
	o.Range.Sensor = *sensor
	r, err := report.Build(ctx, st, o)
	if err != nil {
		fmt.Fprintln(stderr, "sensor report:", err)
		return 1
	}
	if err := r.Write(stdout, *format); err != nil {
		fmt.Fprintln(stderr, "sensor report:", err)
		return 1
	}
	return 0
}

func validFormat(f string, known []string) bool {
	for _, k := range known {
		if f == k {
			return true
		}
	}
	return false
}
