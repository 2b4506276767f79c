package report

import (
	"html/template"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/packetsleuth/packetsleuth/store"
)

// Chart geometry (SVG user units).
const (
	chartW, chartH = 900, 220
	marginL        = 70
	marginB        = 24
	maxDrawPoints  = 1200 // wider series are drawn as per-column maxima
	barW           = 420
)

type htmlBar struct {
	Label, Value string
	Y, W         int
}

type htmlBreakdown struct {
	Breakdown
	Bars   []htmlBar
	Height int
	Total  int64
}

type htmlData struct {
	*Report
	Since, Until, TotalBytes string
	Path                     string // SVG path of the series
	Markers                  []struct{ X, Y float64 }
	MaxLabel                 string
	HasSeries                bool
	Breakdowns               []htmlBreakdown
}

// WriteHTML writes one self-contained HTML page: inline CSS and inline SVG
// charts (traffic over time with peaks marked, a bar chart per breakdown),
// no scripts, fonts, images or links to anything outside the file, so it
// can be mailed and opened offline.
func (r *Report) WriteHTML(w io.Writer) error {
	d := htmlData{Report: r, Since: ts(r.Since), Until: ts(r.Until), TotalBytes: humanize.Bytes(uint64(r.Totals.Bytes))}
	d.chart()
	for _, b := range r.Top {
		hb := htmlBreakdown{Breakdown: b, Total: metricOf(r.Totals, b.By)}
		var top int64 = 1
		for _, row := range b.Rows {
			top = max(top, metricOf(row, b.By))
		}
		for i, row := range b.Rows {
			v := metricOf(row, b.By)
			label := strconv.FormatInt(v, 10)
			if b.By == store.ByBytes {
				label = humanize.Bytes(uint64(v))
			}
			hb.Bars = append(hb.Bars, htmlBar{Label: keyOr(row.Key), Value: label, Y: i * 22, W: max(1, int(float64(barW)*float64(v)/float64(top)))})
		}
		hb.Height = max(22, len(b.Rows)*22)
		d.Breakdowns = append(d.Breakdowns, hb)
	}
	return page().Execute(w, d)
}

// chart draws the bytes series as one SVG path, scaled to the chart.
func (d *htmlData) chart() {
	pts := d.Series
	if len(pts) == 0 {
		return
	}
	cols := min(len(pts), maxDrawPoints)
	vals := make([]int64, cols)
	var top int64
	for i, p := range pts {
		c := i * cols / len(pts)
		vals[c] = max(vals[c], p.Bytes)
		top = max(top, p.Bytes)
	}
	d.HasSeries = top > 0
	if top == 0 {
		top = 1
	}
	d.MaxLabel = humanize.Bytes(uint64(top))
	plotW, plotH := float64(chartW-marginL-10), float64(chartH-marginB-10)
	x := func(c int) float64 {
		if cols == 1 {
			return marginL
		}
		return marginL + plotW*float64(c)/float64(cols-1)
	}
	y := func(v int64) float64 { return 10 + plotH*(1-float64(v)/float64(top)) }
	var b strings.Builder
	for c, v := range vals {
		if c == 0 {
			b.WriteString("M")
		} else {
			b.WriteString(" L")
		}
		b.WriteString(strconv.FormatFloat(x(c), 'f', 1, 64) + " " + strconv.FormatFloat(y(v), 'f', 1, 64))
	}
	d.Path = b.String()
	index := map[time.Time]int{}
	for i, p := range pts {
		index[p.Time] = i
	}
	for _, ev := range d.Peaks {
		if i, ok := index[ev.Timestamp]; ok {
			c := i * cols / len(pts)
			d.Markers = append(d.Markers, struct{ X, Y float64 }{x(c), y(vals[c])})
		}
	}
}

// page is parsed at its first use: the sensor binary runs this package's
// init at every start, and most runs (a replay, a live sensor) write no
// HTML report.
var page = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Funcs(template.FuncMap{
		"ts":    ts,
		"num":   num,
		"bytes": func(v int64) string { return humanize.Bytes(uint64(v)) },
		"pct":   pct,
		"metric": func(r store.TopRow, m store.Metric) int64 {
			return metricOf(r, m)
		},
		"keyOr": keyOr,
		"add":   func(a, b int) int { return a + b },
	}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>PacketSleuth report {{.Since}} .. {{.Until}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2733;background:#fff}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}th,td{padding:3px 10px;border-bottom:1px solid #dde3ea;text-align:right}
th:nth-child(2),td:nth-child(2){text-align:left}
.summary span{display:inline-block;margin-right:24px}
svg text{font:11px system-ui,sans-serif;fill:#44505c}
.line{fill:none;stroke:#2f6db5;stroke-width:1.5}.bar{fill:#2f6db5}.peak{fill:#c8322b}
.empty{color:#6b7785}
</style>
</head>
<body>
<h1>PacketSleuth report</h1>
<p class="summary"><span>{{.Since}} .. {{.Until}}</span>{{with .Report.Sensor}}<span>sensor {{.}}</span>{{end}}<span>{{.Totals.Flows}} flows</span><span>{{.TotalBytes}}</span><span>{{.Totals.Packets}} packets</span></p>

<h2>Traffic over time ({{.Resolution}} buckets, bytes)</h2>
{{if .HasSeries}}<svg class="chart" width="{{900}}" height="{{220}}" viewBox="0 0 900 220" role="img" aria-label="traffic over time">
<line x1="70" y1="10" x2="70" y2="196" stroke="#99a3ad"/><line x1="70" y1="196" x2="890" y2="196" stroke="#99a3ad"/>
<text x="64" y="14" text-anchor="end">{{.MaxLabel}}</text><text x="64" y="196" text-anchor="end">0</text>
<text x="70" y="214">{{.Since}}</text><text x="890" y="214" text-anchor="end">{{.Until}}</text>
<path class="line" d="{{.Path}}"/>
{{range .Markers}}<circle class="peak" cx="{{printf "%.1f" .X}}" cy="{{printf "%.1f" .Y}}" r="4"/>
{{end}}</svg>{{else}}<p class="empty">No traffic series in this range (the store keeps packetsleuth.timeseries buckets).</p>{{end}}

<h2>Peaks ({{len .Peaks}})</h2>
{{if .Peaks}}<table><tr><th>bucket</th><th>metric</th><th>value</th><th>baseline</th><th>threshold</th><th>reason</th></tr>
{{range .Peaks}}<tr><td>{{ts .Timestamp}}</td><td>{{.Sensor.Peak.Metric}}</td><td>{{num .Sensor.Peak.Value}}</td><td>{{num .Sensor.Peak.Baseline}}</td><td>{{num .Sensor.Peak.Threshold}}</td><td>{{.Sensor.Peak.Reason}}</td></tr>
{{end}}</table>{{else}}<p class="empty">No peaks.</p>{{end}}
{{range .Breakdowns}}
<h2>Top {{.Group}} by {{.By}}</h2>
{{if .Rows}}<svg class="bars" width="900" height="{{.Height}}" viewBox="0 0 900 {{.Height}}" role="img" aria-label="top {{.Group}}">
{{range .Bars}}<text x="0" y="{{add .Y 15}}">{{.Label}}</text><rect class="bar" x="260" y="{{add .Y 3}}" width="{{.W}}" height="16"/><text x="{{add .W 266}}" y="{{add .Y 15}}">{{.Value}}</text>
{{end}}</svg>
<table><tr><th>#</th><th>{{.Group}}</th><th>bytes</th><th>packets</th><th>flows</th><th>share</th></tr>
{{$b := .}}{{range $i, $r := .Rows}}<tr><td>{{add $i 1}}</td><td>{{keyOr $r.Key}}</td><td>{{$r.Bytes}}</td><td>{{$r.Packets}}</td><td>{{$r.Flows}}</td><td>{{pct (metric $r $b.By) $b.Total}}</td></tr>
{{end}}</table>{{else}}<p class="empty">No flows.</p>{{end}}
{{end}}
<h2>Alerts by rule ({{len .Alerts}})</h2>
{{if .Alerts}}<table><tr><th>rule</th><th>name</th><th>severity</th><th>count</th><th>unacknowledged</th></tr>
{{range .Alerts}}<tr><td>{{.RuleID}}</td><td>{{.RuleName}}</td><td>{{.MaxSeverity}}</td><td>{{.Count}}</td><td>{{.Unacknowledged}}</td></tr>
{{end}}</table>{{else}}<p class="empty">No alerts.</p>{{end}}
</body>
</html>
`))
})
