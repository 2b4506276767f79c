// Package report builds the traffic report of `sensor report` from the
// store — totals, top talkers and breakdowns, the traffic series with its
// peaks, alert counts by rule — and writes it as an aligned table, CSV, JSON
// or one self-contained HTML file with inline SVG charts.
package report

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/store"
)

// DefaultGroups are the breakdowns of a report when none is asked for.
var DefaultGroups = []string{"source.ip", "destination.ip", "destination.port", "network.protocol"}

// Options say what a report covers.
type Options struct {
	Range  store.Range  // required, both ends
	Top    int          // rows per breakdown, default 10
	By     store.Metric // ranking, default bytes
	Groups []string     // breakdowns, default DefaultGroups
	// Resolution of the series; 0 picks one from the range length: up to
	// 1 h → 1 s, up to 2 days → 1 min, longer → 1 h.
	Resolution time.Duration
	Peaks      store.PeakOptions // Metric defaults to By (flows when By is flows)
}

// Breakdown is one top-N table.
type Breakdown struct {
	Group string         `json:"group"`
	By    store.Metric   `json:"by"`
	Rows  []store.TopRow `json:"rows"`
}

// Report is what Build found; every format writes the same data.
type Report struct {
	Since      time.Time          `json:"since"`
	Until      time.Time          `json:"until"`
	Sensor     string             `json:"sensor,omitempty"` // the one sensor reported on; empty: all
	Resolution string             `json:"resolution"`
	Totals     store.TopRow       `json:"totals"`
	Top        []Breakdown        `json:"top"`
	Series     []store.Point      `json:"series"`
	Peaks      []schemas.Event    `json:"peaks"`
	Alerts     []store.AlertCount `json:"alerts"`
}

// AutoResolution picks the series resolution for a range length.
func AutoResolution(d time.Duration) time.Duration {
	switch {
	case d <= time.Hour:
		return time.Second
	case d <= 48*time.Hour:
		return time.Minute
	}
	return time.Hour
}

// Build runs the report's queries.
func Build(ctx context.Context, st *store.Store, o Options) (*Report, error) {
	if o.Range.Since.IsZero() || o.Range.Until.IsZero() || !o.Range.Since.Before(o.Range.Until) {
		return nil, fmt.Errorf("report: the range needs since before until")
	}
	if o.Top <= 0 {
		o.Top = 10
	}
	if o.By == "" {
		o.By = store.ByBytes
	}
	if len(o.Groups) == 0 {
		o.Groups = DefaultGroups
	}
	if o.Resolution <= 0 {
		o.Resolution = AutoResolution(o.Range.Until.Sub(o.Range.Since))
	}
	if o.Peaks.Metric == "" {
		o.Peaks.Metric = o.By
	}
	r := &Report{Since: o.Range.Since.UTC(), Until: o.Range.Until.UTC(), Sensor: o.Range.Sensor, Resolution: o.Resolution.String(),
		Top: []Breakdown{}, Peaks: []schemas.Event{}, Alerts: []store.AlertCount{}}
	var err error
	if r.Totals, err = st.Totals(ctx, o.Range); err != nil {
		return nil, err
	}
	for _, g := range o.Groups {
		rows, err := st.Top(ctx, store.TopQuery{Range: o.Range, By: o.By, Group: g, Limit: o.Top})
		if err != nil {
			return nil, err
		}
		if rows == nil {
			rows = []store.TopRow{}
		}
		r.Top = append(r.Top, Breakdown{Group: g, By: o.By, Rows: rows})
	}
	sq := store.SeriesQuery{Range: o.Range, Resolution: o.Resolution}
	if r.Series, err = st.Series(ctx, sq); err != nil {
		return nil, err
	}
	o.Peaks.Resolution = o.Resolution
	if p := store.DetectPeaks(r.Series, o.Peaks); p != nil {
		r.Peaks = p
	}
	if a, err := st.AlertCounts(ctx, o.Range); err != nil {
		return nil, err
	} else if a != nil {
		r.Alerts = a
	}
	return r, nil
}

// ParseRange resolves --since and --until. Each is an RFC 3339 time or a
// duration (36h, 7d, see store.ParseDuration). A duration --until counts
// back from the newest data; an empty --until is the end of the second of
// the newest data in the store (so a replayed capture from last week reports
// on its own time, not today's); a duration --since counts back from until.
// An empty --since means 24h. newest is store.Bounds' newest time; when the
// store is empty and a relative time is needed, now is used.
func ParseRange(since, until string, newest, now time.Time) (store.Range, error) {
	if newest.IsZero() {
		newest = now
	}
	end := newest.UTC().Truncate(time.Second).Add(time.Second)
	if until != "" {
		t, err := parseTime(until)
		if err == nil {
			end = t
		} else if d, derr := store.ParseDuration(until); derr == nil {
			end = end.Add(-d)
		} else {
			return store.Range{}, fmt.Errorf("--until %q: not an RFC 3339 time or a duration", until)
		}
	}
	if since == "" {
		since = "24h"
	}
	var start time.Time
	if t, err := parseTime(since); err == nil {
		start = t
	} else if d, derr := store.ParseDuration(since); derr == nil {
		start = end.Add(-d)
	} else {
		return store.Range{}, fmt.Errorf("--since %q: not an RFC 3339 time or a duration", since)
	}
	if !start.Before(end) {
		return store.Range{}, fmt.Errorf("--since %s is not before --until %s", start.Format(time.RFC3339), end.Format(time.RFC3339))
	}
	return store.Range{Since: start.UTC(), Until: end.UTC()}, nil
}

func parseTime(s string) (time.Time, error) {
	if strings.ContainsAny(s, "T:") {
		return time.Parse(time.RFC3339Nano, s)
	}
	return time.Parse("2006-01-02", s)
}
