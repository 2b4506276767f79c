package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/packetsleuth/packetsleuth/internal/textsafe"
	"github.com/packetsleuth/packetsleuth/store"
)

// Formats lists what Write accepts.
var Formats = []string{"table", "csv", "json", "html"}

// Write writes r in one of Formats.
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case "", "table":
		return r.WriteTable(w)
	case "csv":
		return r.WriteCSV(w)
	case "json":
		return r.WriteJSON(w)
	case "html":
		return r.WriteHTML(w)
	}
	return fmt.Errorf("report: unknown format %q (known: table, csv, json, html)", format)
}

// WriteJSON writes the report as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func pct(part, whole int64) string {
	if whole == 0 {
		return "-"
	}
	return strconv.FormatFloat(100*float64(part)/float64(whole), 'f', 1, 64) + "%"
}

func keyOr(k string) string {
	if k == "" {
		return "(none)"
	}
	return k
}

func metricOf(r store.TopRow, m store.Metric) int64 {
	switch m {
	case store.ByPackets:
		return r.Packets
	case store.ByFlows:
		return r.Flows
	}
	return r.Bytes
}

// seriesSummary is what the text formats say about the series.
func (r *Report) seriesSummary() (buckets int, total, peak int64, peakAt time.Time) {
	for _, p := range r.Series {
		total += p.Bytes
		if p.Bytes > peak {
			peak, peakAt = p.Bytes, p.Time
		}
		if p.Bytes > 0 || p.Packets > 0 {
			buckets++
		}
	}
	return
}

// WriteTable writes aligned text sections (captured strings escaped, so
// they cannot drive a terminal): totals, one table per
// breakdown (with each row's share of the ranking metric), the series in
// brief, its peaks, and alert counts by rule.
func (r *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "PacketSleuth report %s .. %s", ts(r.Since), ts(r.Until))
	if r.Sensor != "" {
		fmt.Fprintf(w, ", sensor %q", r.Sensor)
	}
	fmt.Fprint(w, "\n\n")
	fmt.Fprintf(w, "Flows %d, bytes %d (%s), packets %d\n\n", r.Totals.Flows, r.Totals.Bytes, humanize.Bytes(uint64(r.Totals.Bytes)), r.Totals.Packets)
	for _, b := range r.Top {
		fmt.Fprintf(w, "Top %s by %s\n", b.Group, b.By)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "#\t%s\tbytes\tpackets\tflows\tshare\t\n", b.Group)
		for i, row := range b.Rows {
			fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%d\t%s\t\n", i+1, textsafe.Escape(keyOr(row.Key)), row.Bytes, row.Packets, row.Flows, pct(metricOf(row, b.By), metricOf(r.Totals, b.By)))
		}
		if len(b.Rows) == 0 {
			fmt.Fprintf(tw, "-\t(no flows)\t\t\t\t\t\n")
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	n, total, peak, at := r.seriesSummary()
	fmt.Fprintf(w, "Traffic series at %s: %d of %d buckets with traffic, %d bytes", r.Resolution, n, len(r.Series), total)
	if peak > 0 {
		fmt.Fprintf(w, ", busiest %s with %d bytes", ts(at), peak)
	}
	fmt.Fprint(w, "\n\n")
	fmt.Fprintf(w, "Peaks: %d\n", len(r.Peaks))
	if len(r.Peaks) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "bucket\tmetric\tvalue\tbaseline\tthreshold\treason\t\n")
		for _, ev := range r.Peaks {
			p := ev.Sensor.Peak
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", ts(ev.Timestamp), p.Metric, num(p.Value), num(p.Baseline), num(p.Threshold), p.Reason)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Alerts by rule: %d rule(s)\n", len(r.Alerts))
	if len(r.Alerts) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "rule\tname\tseverity\tcount\tunacked\t\n")
		for _, a := range r.Alerts {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t\n", textsafe.Escape(a.RuleID), textsafe.Escape(a.RuleName), a.MaxSeverity, a.Count, a.Unacknowledged)
		}
		return tw.Flush()
	}
	return nil
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// CSVHeader is the one header of the report's CSV: a "long" table where
// the section column says which other columns a row fills.
//
//	totals: time (since), name (until), bytes, packets, flows
//	top:    group (e.g. source.ip), rank, key, name (ranking metric), bytes, packets, flows
//	series: name (resolution), time (bucket start), bytes, packets, flows
//	peak:   key (metric), name (reason), time (bucket start), value, baseline, threshold
//	alert:  key (rule id), name, severity (highest), count, unacked
var CSVHeader = []string{"section", "group", "rank", "key", "name", "time", "bytes", "packets", "flows", "value", "baseline", "threshold", "severity", "count", "unacked"}

// WriteCSV writes the report as one CSV table (see CSVHeader), its cells
// made safe for spreadsheets (textsafe.CSVCell).
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	row := func(m map[string]string) {
		rec := make([]string, len(CSVHeader))
		for i, h := range CSVHeader {
			rec[i] = m[h]
		}
		cw.Write(textsafe.CSVCells(rec))
	}
	i64 := func(v int64) string { return strconv.FormatInt(v, 10) }
	cw.Write(CSVHeader)
	row(map[string]string{"section": "totals", "time": ts(r.Since), "name": ts(r.Until), "bytes": i64(r.Totals.Bytes), "packets": i64(r.Totals.Packets), "flows": i64(r.Totals.Flows)})
	for _, b := range r.Top {
		for i, t := range b.Rows {
			row(map[string]string{"section": "top", "group": b.Group, "rank": strconv.Itoa(i + 1), "key": t.Key, "name": string(b.By),
				"bytes": i64(t.Bytes), "packets": i64(t.Packets), "flows": i64(t.Flows)})
		}
	}
	for _, p := range r.Series {
		row(map[string]string{"section": "series", "name": r.Resolution, "time": ts(p.Time), "bytes": i64(p.Bytes), "packets": i64(p.Packets), "flows": i64(p.Flows)})
	}
	for _, ev := range r.Peaks {
		p := ev.Sensor.Peak
		row(map[string]string{"section": "peak", "key": p.Metric, "name": p.Reason, "time": ts(ev.Timestamp), "value": num(p.Value), "baseline": num(p.Baseline), "threshold": num(p.Threshold)})
	}
	for _, a := range r.Alerts {
		row(map[string]string{"section": "alert", "key": a.RuleID, "name": a.RuleName, "severity": strconv.Itoa(a.MaxSeverity), "count": i64(a.Count), "unacked": i64(a.Unacknowledged)})
	}
	cw.Flush()
	return cw.Error()
}
