// Package metrics serves PacketSleuth's counters as Prometheus metrics.
//
// Nothing on the hot path touches Prometheus. Each part of the sensor keeps
// its own counters and offers a snapshot function (pipeline.Stats,
// outputs.Stats, rules.Stats, enrich.Stats, ...); the collectors here call
// those functions when Prometheus scrapes and turn the snapshot into
// constant metrics. A scrape therefore costs one snapshot per source and
// nothing in between.
//
// Every metric is named packetsleuth_*; counters end in _total, durations
// are in seconds and sizes in bytes. Names lists them all (the shipped
// Grafana dashboard is checked against it).
//
// Wiring:
//
//	reg := prometheus.NewRegistry()
//	m, err := metrics.New(reg, metrics.Sources{Pipeline: p.Snapshot, Outputs: fan.Stats, ...})
//	http.Handle("/metrics", metrics.Handler(reg))
package metrics

import (
	"errors"
	"net/http"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/packetsleuth/packetsleuth/enrich"
	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/outputs/notify"
	"github.com/packetsleuth/packetsleuth/rules"
	"github.com/packetsleuth/packetsleuth/sensor/app"
	"github.com/packetsleuth/packetsleuth/sensor/pcapring"
	"github.com/packetsleuth/packetsleuth/sensor/pipeline"
)

// InterfaceStats are one capture interface's counters (live capture only).
// All of them are cumulative since the interface was opened.
type InterfaceStats struct {
	Name           string // interface name, e.g. eth0
	Packets        uint64 // frames the sensor received from it
	Bytes          uint64 // their length on the wire
	KernelDrops    uint64 // dropped by the kernel: buffer full (pcap ps_drop, AF_PACKET tp_drops)
	InterfaceDrops uint64 // dropped by the NIC or driver (pcap ps_ifdrop)
	SensorDrops    uint64 // dropped by the sensor itself (a worker queue was full)
}

// NotifierStats names one notifier's counters (the output's name and type,
// as in outputs.Stats).
type NotifierStats struct {
	Name  string
	Type  string
	Stats notify.Stats
}

// Sources are the snapshot functions the collectors read at scrape time.
// Each may be nil: its metrics are then not exported. Every function must be
// safe to call from the HTTP server's goroutines, concurrently with the hot
// path, and must return cumulative counters (Prometheus counters never go
// down).
type Sources struct {
	// Pipeline gives the totals of the capture/replay pipeline
	// (pipeline.(*Pipeline).Snapshot).
	Pipeline func() pipeline.Stats
	// Interfaces gives per-interface receive and drop counters.
	Interfaces func() []InterfaceStats
	// App gives the application layer's counters summed over workers:
	// detected protocols, parser errors and TCP reassembly.
	App func() app.Stats
	// ReassemblyPageSize is reassembly.Config.PageSize, used to report
	// reassembly memory in bytes (default reassembly.DefaultPageSize).
	ReassemblyPageSize int
	// Outputs gives one Stats per output runner (notifiers included).
	Outputs func() []outputs.Stats
	// Notifiers gives the notifiers' own counters (routing, grouping, rate
	// limiting); their queue and delivery counters come with Outputs.
	Notifiers func() []NotifierStats
	// Rules gives the rule evaluators' counters summed over workers (see
	// MergeRuleStats).
	Rules func() rules.Stats
	// RuleSeverity names a rule's severity (low, medium, high, critical) for
	// the severity label of packetsleuth_alerts_total; see SeverityOf. Nil or
	// an empty answer gives "unknown".
	RuleSeverity func(ruleID string) string
	// Enrich gives the enrichment counters (enrich.(*Shared).Stats).
	Enrich func() enrich.Stats
	// WebAuth gives the web server's login counters (web.(*Server).AuthStats).
	WebAuth func() WebAuthStats
	// PcapRing gives the packet ring's counters (pcapring.(*Ring).Stats).
	PcapRing func() pcapring.Stats
	// Version, when set, is exported as packetsleuth_build_info{version}.
	Version string
}

// WebAuthStats are the web server's authentication counters.
type WebAuthStats struct {
	FailedPasswords uint64 // wrong user name or password at POST /api/v1/login
	FailedTokens    uint64 // wrong bearer tokens
	Throttled       uint64 // requests answered 429 because their address or user was blocked
	Busy            uint64 // logins answered 429 because every password-check slot was taken
	Blocked         int    // client addresses and users blocked now
}

// Metrics is the set of collectors New registered.
type Metrics struct {
	reg        prometheus.Registerer
	collectors []prometheus.Collector
}

// New registers a collector for every non-nil source on reg. It never
// uses the global default registry. It fails if a metric name is already
// registered on reg (nothing is left registered then).
func New(reg prometheus.Registerer, src Sources) (*Metrics, error) {
	if reg == nil {
		return nil, errors.New("metrics: nil Registerer")
	}
	m := &Metrics{reg: reg}
	var cs []prometheus.Collector
	if src.Version != "" {
		cs = append(cs, buildInfoCollector(src.Version))
	}
	if src.Pipeline != nil {
		cs = append(cs, pipelineCollector(src.Pipeline))
	}
	if src.Interfaces != nil {
		cs = append(cs, interfaceCollector(src.Interfaces))
	}
	if src.App != nil {
		cs = append(cs, appCollector(src.App, src.ReassemblyPageSize))
	}
	if src.Outputs != nil {
		cs = append(cs, outputsCollector(src.Outputs))
	}
	if src.Notifiers != nil {
		cs = append(cs, notifierCollector(src.Notifiers))
	}
	if src.Rules != nil {
		cs = append(cs, rulesCollector(src.Rules, src.RuleSeverity))
	}
	if src.Enrich != nil {
		cs = append(cs, enrichCollector(src.Enrich))
	}
	if src.WebAuth != nil {
		cs = append(cs, webAuthCollector(src.WebAuth))
	}
	if src.PcapRing != nil {
		cs = append(cs, pcapRingCollector(src.PcapRing))
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			m.Unregister()
			return nil, err
		}
		m.collectors = append(m.collectors, c)
	}
	return m, nil
}

// Unregister removes the collectors from the registry.
func (m *Metrics) Unregister() {
	for _, c := range m.collectors {
		m.reg.Unregister(c)
	}
	m.collectors = nil
}

// Handler serves the metrics of g in the Prometheus exposition formats
// (text, OpenMetrics on request). A collector that fails reports its error
// in the scrape and the other metrics are still served.
func Handler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
	})
}

// Names returns the name of every metric family this package can export,
// sorted. Histograms are listed by their base name (their series add
// _bucket, _sum and _count).
func Names() []string {
	names := make([]string, 0, len(families))
	for _, f := range families {
		names = append(names, f.name)
	}
	slices.Sort(names)
	return names
}

// SeverityOf returns a RuleSeverity function over a loaded rule set.
func SeverityOf(set *rules.Set) func(string) string {
	return func(id string) string {
		if set == nil {
			return ""
		}
		if r := set.Rule(id); r != nil {
			return r.Severity
		}
		return ""
	}
}

// MergeRuleStats sums the Stats of several Evaluators (one per worker) into
// one, rule by rule. State is summed too: an Evaluator sharing its state
// (rules.EvalOptions.Shared) gives none, that is SharedState.Stats.
func MergeRuleStats(all ...rules.Stats) rules.Stats {
	var out rules.Stats
	idx := map[string]int{}
	for _, s := range all {
		out.Events += s.Events
		out.Skipped += s.Skipped
		out.Evaluations += s.Evaluations
		out.Matches += s.Matches
		out.Excepted += s.Excepted
		out.Alerts += s.Alerts
		out.Suppressed += s.Suppressed
		out.Errors += s.Errors
		out.State.Groups += s.State.Groups
		out.State.EvictedGroups += s.State.EvictedGroups
		out.State.ExpiredGroups += s.State.ExpiredGroups
		out.State.LateEvents += s.State.LateEvents
		out.State.SuppressKeys += s.State.SuppressKeys
		out.State.EvictedKeys += s.State.EvictedKeys
		out.State.Bytes += s.State.Bytes
		out.State.Refused += s.State.Refused
		for _, r := range s.Rules {
			i, ok := idx[r.ID]
			if !ok {
				idx[r.ID] = len(out.Rules)
				out.Rules = append(out.Rules, r)
				continue
			}
			o := &out.Rules[i]
			o.Evaluations += r.Evaluations
			o.Matches += r.Matches
			o.Excepted += r.Excepted
			o.Alerts += r.Alerts
			o.Suppressed += r.Suppressed
			o.Errors += r.Errors
			o.EvalTime += r.EvalTime
		}
	}
	return out
}
