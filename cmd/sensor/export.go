package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/packetsleuth/packetsleuth/internal/textsafe"
	"github.com/packetsleuth/packetsleuth/store"
	"github.com/packetsleuth/packetsleuth/store/export"
)

const exportHelp = `Usage: sensor export --dataset flow|dns|http|tls|alert [flags]
       sensor export --from FILE.ndjson [flags]

Writes stored events (or the events of an NDJSON file) as CSV, a JSON array
or NDJSON, oldest first.

--since/--until work as in "sensor report" but default to everything;
--sensor keeps one sensor's events of a fleet's store (its observer.name).
--where is a boolean expr-lang expression over the ECS event, with the field
names detection rules use, e.g.
  --where 'destination.port == 443 and source.ip startsWith "10."'
  --where 'dns.question.name endsWith ".example.org"'
It is evaluated on each event after loading; it never reaches the database.

CSV columns: ` + "@timestamp, event.dataset, event.kind, source.ip, source.port, destination.ip, destination.port, network.transport, network.protocol, network.community_id" + `
always come first, in that order, then every other dotted field in sorted
order; arrays are written as JSON. Cells are safe to open in a spreadsheet:
one that would start a formula (=, +, -, @, TAB, CR; numbers excepted) gets
a ' in front, and control characters are escaped (\x1b, \n); --raw-cells
writes them as captured (refused when the output is a terminal). Output to
a terminal has its control characters escaped in every format.

Flags:
`

func cmdExport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, exportHelp); fs.PrintDefaults() }
	sf := addStoreFlags(fs)
	dataset := fs.String("dataset", "", "flow, alert or a protocol dataset the store keeps: "+strings.Join(store.EventDatasets, ", "))
	from := fs.String("from", "", "read events from this NDJSON file instead of the store")
	format := fs.String("format", "csv", "csv, json or ndjson")
	since := fs.String("since", "", "start: RFC 3339 time or duration before --until (default: all)")
	until := fs.String("until", "", "end (exclusive): RFC 3339 time or duration before the newest data")
	where := fs.String("where", "", "keep only events for which this expr-lang expression is true")
	sensor := fs.String("sensor", "", "store: this sensor's events only (its observer.name; default all sensors)")
	out := fs.String("out", "-", "output file, - for stdout")
	raw := fs.Bool("raw-cells", false, "CSV cells exactly as captured: no ' before formulas, no escaping of control characters")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(code int, err error) int { fmt.Fprintln(stderr, "sensor export:", err); return code }
	if fs.NArg() > 0 {
		return fail(2, fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if (*from == "") == (*dataset == "") {
		return fail(2, fmt.Errorf("give --dataset (from the store) or --from FILE.ndjson"))
	}
	if *format != "csv" && *format != "json" && *format != "ndjson" {
		return fail(2, fmt.Errorf("--format %q: want csv, json or ndjson", *format))
	}
	var filter *export.Filter
	if *where != "" {
		var err error
		if filter, err = export.CompileFilter(*where); err != nil {
			return fail(2, err)
		}
	}
	ctx := context.Background()
	var src export.Source
	if *from != "" {
		if *sf.path != "" || *sf.dsn != "" || *since != "" || *until != "" || *sensor != "" {
			return fail(2, fmt.Errorf("--from cannot be used with --store, --dsn, --since, --until or --sensor (use --where on @timestamp or observer.name)"))
		}
		if _, err := os.Stat(*from); err != nil {
			return fail(1, err)
		}
		src = export.NDJSONFile(*from)
	} else {
		st, err := sf.open(ctx)
		if err != nil {
			return fail(1, err)
		}
		defer st.Close()
		q := store.ListQuery{Dataset: *dataset, Limit: 1000}
		if q.Range, err = storeRange(ctx, st, *since, *until); err != nil {
			return fail(2, err)
		}
		q.Range.Sensor = *sensor
		if _, err := st.List(ctx, store.ListQuery{Dataset: *dataset, Limit: 1}); err != nil {
			return fail(2, err)
		}
		src = export.Store(ctx, st, q)
	}
	w := stdout
	if *out == "-" {
		if *raw && textsafe.IsTerminal(stdout) {
			return fail(2, fmt.Errorf("--raw-cells to a terminal: give --out FILE"))
		}
		var flush func() error
		w, flush = textsafe.ForTerminal(stdout)
		defer flush()
	} else {
		// Exports hold what the wire carried: readable by the owner only.
		f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fail(1, err)
		}
		defer f.Close()
		w = f
	}
	if _, err := export.Write(w, *format, export.Where(src, filter), *raw); err != nil {
		return fail(1, err)
	}
	return 0
}
