package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/textsafe"
	"github.com/packetsleuth/packetsleuth/rules"
	"github.com/packetsleuth/packetsleuth/rules/hunt"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/store"
	"github.com/packetsleuth/packetsleuth/store/export"
	"github.com/packetsleuth/packetsleuth/store/report"
)

const huntHelp = `Usage: sensor hunt [flags]

Retro-hunt: runs the rules (the shipped set plus --rules) over recorded
events, in event-time order and with thresholds, as a replay of the
original traffic would have, and writes the alerts as NDJSON.

Events come from the history store (--store/--dsn; flows, DNS, HTTP and
TLS, within --since/--until, of one sensor of a fleet with --sensor) or
from NDJSON files (--from, repeatable: a replay's --out). Alerts in the input are not evaluated. With --to-store
the alerts are also kept in the store read (an alert found again is not
stored twice: alerts are keyed by event.id).

Flags:
`

// huntReorder is how many events (and bytes of them) an NDJSON input may
// be out of time order by (several workers write one file).
const (
	huntReorder      = 100_000
	huntReorderBytes = 256 << 20
)

func cmdHunt(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hunt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, huntHelp); fs.PrintDefaults() }
	sf := addStoreFlags(fs)
	var rulePaths, from listFlag
	fs.Var(&rulePaths, "rules", "rule file or directory, repeatable (over the shipped rulesets)")
	fs.Var(&from, "from", "read events from this NDJSON file instead of the store, repeatable")
	homeNet := fs.String("home-net", "", "the sensor's home network, CIDR,... (the rules' list home_networks; default the private ranges)")
	since := fs.String("since", "", "store: start, RFC 3339 time or duration before --until (default: all)")
	until := fs.String("until", "", "store: end (exclusive), RFC 3339 time or duration before the newest data")
	sensor := fs.String("sensor", "", "store: this sensor's events only (its observer.name; default all sensors, whose thresholds then count together)")
	out := fs.String("out", "-", "alerts as NDJSON to this file (0600), - for stdout")
	toStore := fs.Bool("to-store", false, "also keep the alerts in the history store read")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(code int, err error) int { fmt.Fprintln(stderr, "sensor hunt:", err); return code }
	if fs.NArg() > 0 {
		return fail(2, fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	fromStore := len(from) == 0
	if !fromStore && (*sf.path != "" || *sf.dsn != "" || *since != "" || *until != "" || *sensor != "" || *toStore) {
		return fail(2, errors.New("--from cannot be used with --store, --dsn, --since, --until, --sensor or --to-store"))
	}
	set, errs := rules.LoadFiles(rules.Options{Defaults: true, HomeNet: []string{*homeNet}}, rulePaths...)
	if len(errs) > 0 {
		rules.WriteErrors(stderr, errs)
		return fail(2, fmt.Errorf("%d rule error(s)", len(errs)))
	}
	ctx := context.Background()
	var docs hunt.Stream
	var st *store.Store
	if fromStore {
		var err error
		if st, err = sf.open(ctx); err != nil {
			return fail(1, err)
		}
		defer st.Close()
		r, err := storeRange(ctx, st, *since, *until)
		if err != nil {
			return fail(2, err)
		}
		r.Sensor = *sensor
		var streams []hunt.Stream
		for _, ds := range append([]string{"flow"}, store.EventDatasets...) {
			streams = append(streams, storeStream(ctx, st, store.ListQuery{Dataset: ds, Range: r, Limit: 1000}))
		}
		docs = hunt.Merge(streams...)
	} else {
		var streams []hunt.Stream
		for _, f := range from {
			if _, err := os.Stat(f); err != nil {
				return fail(1, err)
			}
			streams = append(streams, hunt.Reorder(ndjsonStream(export.NDJSONFile(f)), huntReorder, huntReorderBytes))
		}
		docs = hunt.Merge(streams...)
	}

	w, flushTerminal := textsafe.ForTerminal(stdout)
	defer flushTerminal()
	if *out != "-" {
		f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fail(1, err)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	var batch []schemas.Record
	var kept store.InsertStats
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		s, err := st.Insert(ctx, batch)
		kept.Alerts += s.Alerts
		kept.Duplicates += s.Duplicates
		batch = batch[:0]
		return err
	}
	stats, err := hunt.Run(set, docs, func(a *schemas.Event) error {
		rec, err := schemas.NewRecord(a)
		if err != nil {
			return err
		}
		bw.Write(rec.JSON)
		bw.WriteByte('\n')
		if *toStore {
			batch = append(batch, rec)
			if len(batch) >= 500 {
				return flush()
			}
		}
		return nil
	})
	if err == nil && *toStore {
		err = flush()
	}
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	printHuntSummary(stderr, stats, *toStore, kept)
	if err != nil {
		return fail(1, err)
	}
	return 0
}

func printHuntSummary(w io.Writer, st hunt.Stats, toStore bool, kept store.InsertStats) {
	total := 0
	ids := make([]string, 0, len(st.Alerts))
	for id, n := range st.Alerts {
		ids = append(ids, id)
		total += n
	}
	sort.Strings(ids)
	fmt.Fprintf(w, "hunt: %d events evaluated (%d alerts in the input skipped), %d alerts\n", st.Events, st.Skipped, total)
	for _, id := range ids {
		fmt.Fprintf(w, "  %s %d\n", id, st.Alerts[id])
	}
	if toStore {
		fmt.Fprintf(w, "  stored %d alerts, %d already in the store\n", kept.Alerts, kept.Duplicates)
	}
}

// storeRange turns --since/--until into a range of the store's data
// (durations count back from its newest event).
func storeRange(ctx context.Context, st *store.Store, since, until string) (store.Range, error) {
	if since == "" && until == "" {
		return store.Range{}, nil
	}
	_, newest, err := st.Bounds(ctx)
	if err != nil {
		return store.Range{}, err
	}
	if since == "" {
		since = "1970-01-01T00:00:00Z"
	}
	return report.ParseRange(since, until, newest, time.Now())
}

// storeStream walks q's events, oldest first.
func storeStream(ctx context.Context, st *store.Store, q store.ListQuery) hunt.Stream {
	return func(yield func(hunt.Doc, error) bool) {
		stop := errors.New("stop")
		err := st.Each(ctx, q, func(it store.Item) error {
			if !yield(hunt.Doc{Time: it.Time, JSON: it.JSON}, nil) {
				return stop
			}
			return nil
		})
		if err != nil && err != stop {
			yield(hunt.Doc{}, err)
		}
	}
}

// ndjsonStream reads an export source's documents with their time.
func ndjsonStream(src export.Source) hunt.Stream {
	return func(yield func(hunt.Doc, error) bool) {
		stop := errors.New("stop")
		err := src(func(b []byte) error {
			d, err := hunt.DocOf(b)
			if err != nil {
				return err
			}
			d.JSON = append([]byte(nil), b...) // the source reuses its buffer
			if !yield(d, nil) {
				return stop
			}
			return nil
		})
		if err != nil && err != stop {
			yield(hunt.Doc{}, err)
		}
	}
}
