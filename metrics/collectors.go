package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/packetsleuth/packetsleuth/enrich"
	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/rules"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
	"github.com/packetsleuth/packetsleuth/sensor/app"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
	"github.com/packetsleuth/packetsleuth/sensor/pipeline"
	"github.com/packetsleuth/packetsleuth/sensor/reassembly"
)

// family is one metric family: its descriptor and how its values are typed.
type family struct {
	name      string
	typ       prometheus.ValueType
	histogram bool
	desc      *prometheus.Desc
}

// families holds every family defined below (for Names).
var families []*family

func newFamily(name, help string, typ prometheus.ValueType, labels ...string) *family {
	f := &family{name: name, typ: typ, desc: prometheus.NewDesc(name, help, labels, nil)}
	families = append(families, f)
	return f
}

func counter(name, help string, labels ...string) *family {
	return newFamily(name, help, prometheus.CounterValue, labels...)
}

func gauge(name, help string, labels ...string) *family {
	return newFamily(name, help, prometheus.GaugeValue, labels...)
}

func histogram(name, help string, labels ...string) *family {
	f := newFamily(name, help, prometheus.UntypedValue, labels...)
	f.histogram = true
	return f
}

// emit sends one sample. Bad label values (invalid UTF-8) surface as an
// error in the scrape instead of a panic.
func (f *family) emit(ch chan<- prometheus.Metric, v float64, lvs ...string) {
	m, err := prometheus.NewConstMetric(f.desc, f.typ, v, lvs...)
	if err != nil {
		m = prometheus.NewInvalidMetric(f.desc, err)
	}
	ch <- m
}

// collector is a prometheus.Collector over a fixed list of families whose
// values come from one snapshot per Collect.
type collector struct {
	fams    []*family
	collect func(ch chan<- prometheus.Metric)
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range c.fams {
		ch <- f.desc
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }

// ---- build info ----

var buildInfo = gauge("packetsleuth_build_info", "Always 1; the labels name the running sensor's version.", "version")

func buildInfoCollector(version string) prometheus.Collector {
	return &collector{fams: []*family{buildInfo}, collect: func(ch chan<- prometheus.Metric) {
		buildInfo.emit(ch, 1, version)
	}}
}

// ---- pipeline ----

var (
	pPackets      = counter("packetsleuth_packets_total", "Frames read from all sources (live interfaces and capture files).")
	pBytes        = counter("packetsleuth_bytes_total", "Wire length of the frames read, in bytes.")
	pIPPackets    = counter("packetsleuth_ip_packets_total", "Frames that carried an IP flow.")
	pFiltered     = counter("packetsleuth_filtered_packets_total", "Frames the BPF filter dropped.")
	pDecodeErrors = counter("packetsleuth_decode_errors_total", "Malformed frames by the layer that failed.", "kind")
	pNotIP        = counter("packetsleuth_non_ip_packets_total", "Frames without an IP layer.")
	pTunnelled    = counter("packetsleuth_tunnelled_packets_total", "Packets decapsulated from a tunnel (GRE, ERSPAN, VXLAN...).")
	pFragments    = counter("packetsleuth_ip_fragments_total", "IP fragments received.")
	pReassembled  = counter("packetsleuth_ip_fragments_reassembled_total", "IP datagrams rebuilt from fragments.")
	pFragTimeouts = counter("packetsleuth_ip_fragment_timeouts_total", "Incomplete IP datagrams dropped at timeout.")
	pFragLimited  = counter("packetsleuth_ip_fragment_limited_total", "Incomplete IP datagrams dropped at a bound (datagrams, bytes, fragments per datagram, memory budget).")
	pFragOverlaps = counter("packetsleuth_ip_fragment_overlaps_total", "IP fragments overlapping bytes already held.")
	pFragConflict = counter("packetsleuth_ip_fragment_conflicts_total", "IP fragments overlapping held bytes with different ones (the first copy is kept).")
	pFlowsCreated = counter("packetsleuth_flows_created_total", "Flows created in the flow table.")
	pFlowsEnded   = counter("packetsleuth_flows_ended_total", "Flows ended, by reason (timeout, fin, rst, evicted, eof).", "reason")
	pFlowsEvicted = counter("packetsleuth_flows_evicted_total", "Flows pushed out of the flow table, by its max-flows bound or for the memory budget (least valuable first).")
	pFlowsActive  = gauge("packetsleuth_flows_active", "Flows in the flow table now.")
	pEvents       = counter("packetsleuth_events_total", "Events produced, by event.dataset.", "dataset")
	pEncodeErrors = counter("packetsleuth_encode_errors_total", "Events that could not be encoded to JSON.")
	pEnqueueErrs  = counter("packetsleuth_enqueue_errors_total", "Failures handing events to the outputs.")
	pFiles        = counter("packetsleuth_source_files_total", "Capture files opened (replay).")
	pFilesFailed  = counter("packetsleuth_source_files_failed_total", "Capture files that could not be opened or stopped early.")
	pBudget       = gauge("packetsleuth_memory_budget_bytes", "The process's memory budget (limits.memory); 0: unlimited.")
	pBudgetUsed   = gauge("packetsleuth_memory_budget_used_bytes", "Bytes of the memory budget reserved now, by pool.", "pool")
	pBudgetDenied = counter("packetsleuth_memory_budget_denied_total", "Reservations the memory budget refused, by pool (each led to an eviction, a skip or a count).", "pool")
	pHostLeases   = gauge("packetsleuth_hosts_leases", "DHCP leases held in the host table now.")
	pHostChanges  = counter("packetsleuth_hosts_leases_total", "DHCP leases of the host table, by what happened: learned, released, expired (swept), refused (table full or memory budget), ignored (an answer from a sender not in hosts.servers).", "what")
	pHostNamed    = counter("packetsleuth_hosts_named_total", "Event endpoints named from the host table.")
	pHostLimited  = counter("packetsleuth_hosts_dhcp_limited_total", "DHCP messages the host table did not learn from: past hosts.max_learn_rate in their second.")
	pHostBarriers = counter("packetsleuth_hosts_barriers_total", "DHCP packets the other workers waited for, to use the host table in packet order (replay with several workers).")
)

func pipelineCollector(get func() pipeline.Stats) prometheus.Collector {
	fams := []*family{pPackets, pBytes, pIPPackets, pFiltered, pDecodeErrors, pNotIP, pTunnelled, pFragments,
		pReassembled, pFragTimeouts, pFragLimited, pFragOverlaps, pFragConflict, pFlowsCreated, pFlowsEnded, pFlowsEvicted, pFlowsActive,
		pEvents, pEncodeErrors, pEnqueueErrs, pFiles, pFilesFailed, pBudget, pBudgetUsed, pBudgetDenied,
		pHostLeases, pHostChanges, pHostNamed, pHostLimited, pHostBarriers}
	return &collector{fams: fams, collect: func(ch chan<- prometheus.Metric) {
		s := get()
		pPackets.emit(ch, float64(s.Frames))
		pBytes.emit(ch, float64(s.Bytes))
		pIPPackets.emit(ch, float64(s.Packets))
		pFiltered.emit(ch, float64(s.Filtered))
		for k, n := range s.Decode.Errors {
			pDecodeErrors.emit(ch, float64(n), decode.ErrKind(k).String())
		}
		pNotIP.emit(ch, float64(s.Decode.NotIP))
		pTunnelled.emit(ch, float64(s.Decode.Tunnelled))
		pFragments.emit(ch, float64(s.Decode.Fragments))
		pReassembled.emit(ch, float64(s.Decode.Reassembled))
		pFragTimeouts.emit(ch, float64(s.Decode.FragTimeouts))
		pFragLimited.emit(ch, float64(s.Decode.FragLimited))
		pFragOverlaps.emit(ch, float64(s.Decode.FragOverlaps))
		pFragConflict.emit(ch, float64(s.Decode.FragConflict))
		pFlowsCreated.emit(ch, float64(s.Flows.Created))
		for r, n := range s.Flows.Ended {
			pFlowsEnded.emit(ch, float64(n), flow.EndReason(r).String())
		}
		pFlowsEvicted.emit(ch, float64(s.Flows.Ended[flow.EndEvicted]))
		pFlowsActive.emit(ch, float64(s.Flows.Active))
		for ds, n := range s.Events {
			pEvents.emit(ch, float64(n), ds)
		}
		pEncodeErrors.emit(ch, float64(s.EncodeErrors))
		pEnqueueErrs.emit(ch, float64(s.OutputErrors))
		pFiles.emit(ch, float64(s.Files))
		pFilesFailed.emit(ch, float64(s.FilesFailed))
		pBudget.emit(ch, float64(max(s.Budget.Limit, 0)))
		for p, ps := range s.Budget.Pools {
			pBudgetUsed.emit(ch, float64(ps.Used), budget.Pool(p).String())
			pBudgetDenied.emit(ch, float64(ps.Denied), budget.Pool(p).String())
		}
		h := s.Hosts
		pHostLeases.emit(ch, float64(h.Leases))
		for what, n := range map[string]uint64{"learned": h.Learned, "released": h.Released, "expired": h.Expired, "refused": h.Refused, "ignored": h.Ignored} {
			pHostChanges.emit(ch, float64(n), what)
		}
		pHostNamed.emit(ch, float64(h.Enriched))
		pHostLimited.emit(ch, float64(h.Limited))
		pHostBarriers.emit(ch, float64(s.HostBarriers))
	}}
}

// ---- interfaces ----

var (
	iPackets = counter("packetsleuth_interface_packets_total", "Frames received per capture interface.", "interface")
	iBytes   = counter("packetsleuth_interface_bytes_total", "Bytes received per capture interface.", "interface")
	iDrops   = counter("packetsleuth_dropped_packets_total",
		"Frames lost per capture interface, by where: kernel (capture buffer full), interface (NIC or driver), sensor (worker queue full).",
		"interface", "reason")
)

func interfaceCollector(get func() []InterfaceStats) prometheus.Collector {
	return &collector{fams: []*family{iPackets, iBytes, iDrops}, collect: func(ch chan<- prometheus.Metric) {
		for _, s := range get() {
			iPackets.emit(ch, float64(s.Packets), s.Name)
			iBytes.emit(ch, float64(s.Bytes), s.Name)
			iDrops.emit(ch, float64(s.KernelDrops), s.Name, "kernel")
			iDrops.emit(ch, float64(s.InterfaceDrops), s.Name, "interface")
			iDrops.emit(ch, float64(s.SensorDrops), s.Name, "sensor")
		}
	}}
}

// ---- application layer and reassembly ----

var (
	aDetected     = counter("packetsleuth_app_flows_total", "Flows whose application protocol was detected, by network.protocol.", "protocol")
	aParserErrors = counter("packetsleuth_parser_errors_total", "Messages a parser could not decode (DNS: each still gives its event, with a note) and streams a parser gave up on, by protocol.", "protocol")
	rSegments     = counter("packetsleuth_reassembly_segments_total", "TCP segments passed to reassembly.")
	rBytes        = counter("packetsleuth_reassembly_bytes_total", "TCP payload bytes passed to reassembly.")
	rDelivered    = counter("packetsleuth_reassembly_delivered_bytes_total", "Reassembled bytes delivered to the protocol parsers.")
	rOutOfOrder   = counter("packetsleuth_reassembly_out_of_order_segments_total", "Segments that arrived ahead of a hole and were buffered.")
	rRetrans      = counter("packetsleuth_reassembly_retransmitted_bytes_total", "Already delivered bytes that came again and were dropped.")
	rOverlap      = counter("packetsleuth_reassembly_overlap_bytes_total", "Bytes that came again while held out of order.")
	rConflicts    = counter("packetsleuth_reassembly_conflicts_total", "Segments whose repeated bytes differ from the first copy.")
	rGaps         = counter("packetsleuth_reassembly_gaps_total", "Holes in TCP streams that were skipped.")
	rGapBytes     = counter("packetsleuth_reassembly_gap_bytes_total", "Bytes in the skipped holes.")
	rDropped      = counter("packetsleuth_reassembly_dropped_bytes_total", "Bytes dropped beyond a FIN or the window, after RST or a parser error.")
	rMidStream    = counter("packetsleuth_reassembly_midstream_total", "Stream directions picked up without a SYN.")
	rCapHits      = counter("packetsleuth_reassembly_limit_hits_total", "Holes skipped because a memory limit was reached, by limit (connection, total).", "limit")
	rBuffered     = gauge("packetsleuth_reassembly_buffered_bytes", "Out-of-order bytes held now.")
	rBufferedPeak = gauge("packetsleuth_reassembly_buffered_peak_bytes", "Highest out-of-order bytes held.")
	rMemory       = gauge("packetsleuth_reassembly_memory_bytes", "Memory in reassembly pages in use now.")
	rMemoryPeak   = gauge("packetsleuth_reassembly_memory_peak_bytes", "Highest memory in reassembly pages in use.")
	rMemoryAlloc  = gauge("packetsleuth_reassembly_memory_allocated_bytes", "Memory of all reassembly pages allocated (in use and free).")
	rClosed       = counter("packetsleuth_reassembly_streams_closed_total", "TCP streams closed.")
	anSeen        = counter("packetsleuth_anomalies_total", "Anomalies seen (evasion signs, limits reached), by kind.", "kind")
	anEmitted     = counter("packetsleuth_anomaly_events_total", "Anomaly events emitted after rate limiting, by kind.", "kind")
)

func appCollector(get func() app.Stats, pageSize int) prometheus.Collector {
	if pageSize <= 0 {
		pageSize = reassembly.DefaultPageSize
	}
	ps := float64(pageSize)
	fams := []*family{aDetected, aParserErrors, rSegments, rBytes, rDelivered, rOutOfOrder, rRetrans, rOverlap,
		rConflicts, rGaps, rGapBytes, rDropped, rMidStream, rCapHits, rBuffered, rBufferedPeak, rMemory,
		rMemoryPeak, rMemoryAlloc, rClosed, anSeen, anEmitted}
	return &collector{fams: fams, collect: func(ch chan<- prometheus.Metric) {
		s := get()
		for p, n := range s.Detected {
			aDetected.emit(ch, float64(n), p)
		}
		for p, n := range s.ParserErrors {
			aParserErrors.emit(ch, float64(n), p)
		}
		r := &s.Reassembly
		rSegments.emit(ch, float64(r.Segments))
		rBytes.emit(ch, float64(r.Bytes))
		rDelivered.emit(ch, float64(r.Delivered))
		rOutOfOrder.emit(ch, float64(r.OutOfOrder))
		rRetrans.emit(ch, float64(r.RetransBytes))
		rOverlap.emit(ch, float64(r.OverlapBytes))
		rConflicts.emit(ch, float64(r.Conflicts))
		rGaps.emit(ch, float64(r.Gaps))
		rGapBytes.emit(ch, float64(r.GapBytes))
		rDropped.emit(ch, float64(r.DroppedBytes))
		rMidStream.emit(ch, float64(r.MidStream))
		rCapHits.emit(ch, float64(r.ConnCapHits), "connection")
		rCapHits.emit(ch, float64(r.TotalCapHits), "total")
		rBuffered.emit(ch, float64(r.Buffered))
		rBufferedPeak.emit(ch, float64(r.BufferedPeak))
		rMemory.emit(ch, float64(r.Pages)*ps)
		rMemoryPeak.emit(ch, float64(r.PagesPeak)*ps)
		rMemoryAlloc.emit(ch, float64(r.PagesAlloc)*ps)
		rClosed.emit(ch, float64(r.Closed))
		for k := range anomaly.NumKinds {
			anSeen.emit(ch, float64(s.Anomalies.Seen[k]), k.String())
			anEmitted.emit(ch, float64(s.Anomalies.Emitted[k]), k.String())
		}
	}}
}

// ---- outputs ----

var outLabels = []string{"output", "type"}

var (
	oQueued      = counter("packetsleuth_output_records_queued_total", "Records accepted for an output (into memory or the spool).", outLabels...)
	oSent        = counter("packetsleuth_output_records_sent_total", "Records the output's far end accepted.", outLabels...)
	oRetried     = counter("packetsleuth_output_records_retried_total", "Record deliveries that failed and were tried again.", outLabels...)
	oSpooled     = counter("packetsleuth_output_records_spooled_total", "Records written to the output's disk spool.", outLabels...)
	oOffered     = counter("packetsleuth_output_records_offered_total", "Records given to the output; each ends sent, in the spool, dead-lettered, dropped or lost (or is in the queue).", outLabels...)
	oFiltered    = counter("packetsleuth_output_records_filtered_total", "Records the output's route (datasets, min_severity, rules) left out; not in offered.", outLabels...)
	oDropped     = counter("packetsleuth_output_records_dropped_total", "Records discarded by policy (full queue with on_full: drop, spool over its size, a stats event that found the queue full).", outLabels...)
	oLost        = counter("packetsleuth_output_records_lost_total", "Records discarded by a failure (spool write error, corrupt spool, shutdown with no spool).", outLabels...)
	oResent      = counter("packetsleuth_output_records_resent_total", "Delivered records sent again after a reconnect: possible duplicates at the far end (syslog).", outLabels...)
	oMaybeLost   = counter("packetsleuth_output_records_possibly_lost_total", "Delivered records written to a connection that broke before they were known to be read (syslog).", outLabels...)
	oRefused     = counter("packetsleuth_output_records_budget_refused_total", "Records the memory budget (pool outputs) refused queue room; each then waited, went to the spool or was dropped as on_full says.", outLabels...)
	oBlocked     = gauge("packetsleuth_output_blocked_writers", "Writers waiting for room in the output's full queue (on_full: block).", outLabels...)
	oDead        = counter("packetsleuth_output_records_dead_lettered_total", "Records the far end rejected for good.", outLabels...)
	oErrors      = counter("packetsleuth_output_errors_total", "Failed connect or write calls.", outLabels...)
	oReconnects  = counter("packetsleuth_output_reconnects_total", "Reconnections after the first connect.", outLabels...)
	oQueueLen    = gauge("packetsleuth_output_queue_records", "Records held in memory now (queue and the batch in flight).", outLabels...)
	oQueueBytes  = gauge("packetsleuth_output_queue_bytes", "JSON bytes held in memory now.", outLabels...)
	oSpoolRecs   = gauge("packetsleuth_output_spool_records", "Records in the disk spool not yet delivered.", outLabels...)
	oSpoolBytes  = gauge("packetsleuth_output_spool_bytes", "Size of the disk spool files.", outLabels...)
	oSpoolCorr   = counter("packetsleuth_output_spool_corrupt_bytes_total", "Corrupt spool bytes truncated.", outLabels...)
	oLastErrTime = gauge("packetsleuth_output_last_error_timestamp_seconds", "Unix time of the output's last error (0: none).", outLabels...)
	oLatency     = histogram("packetsleuth_output_write_duration_seconds", "Time one write to the output took (successful or not).", outLabels...)
)

// latencyBounds are outputs.LatencyBuckets in seconds.
var latencyBounds = func() []float64 {
	b := make([]float64, len(outputs.LatencyBuckets))
	for i, d := range outputs.LatencyBuckets {
		b[i] = d.Seconds()
	}
	return b
}()

func outputsCollector(get func() []outputs.Stats) prometheus.Collector {
	fams := []*family{oOffered, oFiltered, oQueued, oSent, oRetried, oSpooled, oDropped, oLost, oResent, oMaybeLost, oRefused, oBlocked, oDead, oErrors, oReconnects, oQueueLen,
		oQueueBytes, oSpoolRecs, oSpoolBytes, oSpoolCorr, oLastErrTime, oLatency}
	return &collector{fams: fams, collect: func(ch chan<- prometheus.Metric) {
		buckets := make(map[float64]uint64, len(latencyBounds))
		for _, s := range get() {
			l := []string{s.Name, s.Type}
			oQueued.emit(ch, float64(s.Enqueued), l...)
			oSent.emit(ch, float64(s.Sent), l...)
			oRetried.emit(ch, float64(s.Retried), l...)
			oSpooled.emit(ch, float64(s.Spooled), l...)
			oOffered.emit(ch, float64(s.Offered), l...)
			oFiltered.emit(ch, float64(s.Filtered), l...)
			oDropped.emit(ch, float64(s.Dropped), l...)
			oLost.emit(ch, float64(s.Lost), l...)
			oRefused.emit(ch, float64(s.BudgetRefused), l...)
			oBlocked.emit(ch, float64(s.Blocked), l...)
			oResent.emit(ch, float64(s.Resent), l...)
			oMaybeLost.emit(ch, float64(s.PossiblyLost), l...)
			oDead.emit(ch, float64(s.DeadLettered), l...)
			oErrors.emit(ch, float64(s.Errors), l...)
			oReconnects.emit(ch, float64(s.Reconnects), l...)
			oQueueLen.emit(ch, float64(s.QueueLen), l...)
			oQueueBytes.emit(ch, float64(s.QueueBytes), l...)
			oSpoolRecs.emit(ch, float64(s.SpoolRecords), l...)
			oSpoolBytes.emit(ch, float64(s.SpoolBytes), l...)
			oSpoolCorr.emit(ch, float64(s.SpoolCorrupt), l...)
			oLastErrTime.emit(ch, unixSeconds(s.LastErrorTime), l...)
			// Stats buckets are per bucket; Prometheus wants them cumulative.
			var cum uint64
			for i, le := range latencyBounds {
				cum += s.Latency.Buckets[i]
				buckets[le] = cum
			}
			m, err := prometheus.NewConstHistogram(oLatency.desc, s.Latency.Count, s.Latency.Sum.Seconds(), buckets, l...)
			if err != nil {
				m = prometheus.NewInvalidMetric(oLatency.desc, err)
			}
			ch <- m
		}
	}}
}

func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

// ---- notifiers ----

var (
	nReceived = counter("packetsleuth_notifier_alerts_received_total", "Alert records a notifier received.", outLabels...)
	nFiltered = counter("packetsleuth_notifier_alerts_filtered_total", "Alerts a notifier's route (min_severity, tags, rules) left out.", outLabels...)
	nInvalid  = counter("packetsleuth_notifier_alerts_invalid_total", "Alert records a notifier could not decode.", outLabels...)
	nNotified = counter("packetsleuth_notifier_alerts_notified_total", "Alerts included in sent messages.", outLabels...)
	nDropped  = counter("packetsleuth_notifier_alerts_dropped_total", "Grouped alerts given up on after max_attempts.", outLabels...)
	nMessages = counter("packetsleuth_notifier_messages_sent_total", "Messages a notifier sent.", outLabels...)
	nFailures = counter("packetsleuth_notifier_send_failures_total", "Failed message send attempts.", outLabels...)
	nLimited  = counter("packetsleuth_notifier_rate_limited_total", "Times a message was held back by the rate limit.", outLabels...)
	nPending  = gauge("packetsleuth_notifier_pending_alerts", "Alerts waiting in groups now.", outLabels...)
)

func notifierCollector(get func() []NotifierStats) prometheus.Collector {
	fams := []*family{nReceived, nFiltered, nInvalid, nNotified, nDropped, nMessages, nFailures, nLimited, nPending}
	return &collector{fams: fams, collect: func(ch chan<- prometheus.Metric) {
		for _, n := range get() {
			l, s := []string{n.Name, n.Type}, &n.Stats
			nReceived.emit(ch, float64(s.Alerts), l...)
			nFiltered.emit(ch, float64(s.Filtered), l...)
			nInvalid.emit(ch, float64(s.Invalid), l...)
			nNotified.emit(ch, float64(s.Notified), l...)
			nDropped.emit(ch, float64(s.Dropped), l...)
			nMessages.emit(ch, float64(s.Messages), l...)
			nFailures.emit(ch, float64(s.Failures), l...)
			nLimited.emit(ch, float64(s.RateLimited), l...)
			nPending.emit(ch, float64(s.Pending), l...)
		}
	}}
}

// ---- rules ----

var (
	ruEvents      = counter("packetsleuth_rule_events_total", "Events passed to the rule engine.")
	ruSkipped     = counter("packetsleuth_rule_skipped_events_total", "Events no rule applied to.")
	ruEvals       = counter("packetsleuth_rule_evaluations_total", "Rule condition evaluations, by rule.", "rule")
	ruMatches     = counter("packetsleuth_rule_matches_total", "Rule conditions that were true, by rule.", "rule")
	ruExcepted    = counter("packetsleuth_rule_excepted_total", "Matches silenced by a rule exception, by rule.", "rule")
	ruAlerts      = counter("packetsleuth_alerts_total", "Alerts emitted, by rule and severity.", "rule", "severity")
	ruSuppressed  = counter("packetsleuth_alerts_suppressed_total", "Alerts dropped by a rule's suppression, by rule.", "rule")
	ruErrors      = counter("packetsleuth_rule_errors_total", "Runtime errors of rule conditions, by rule.", "rule")
	ruEvalTime    = counter("packetsleuth_rule_evaluation_seconds_total", "Time spent evaluating each rule (only with rule profiling on).", "rule")
	ruGroups      = gauge("packetsleuth_rule_threshold_groups", "Live threshold groups of stateful rules.")
	ruEvictGroups = counter("packetsleuth_rule_threshold_groups_evicted_total", "Threshold groups dropped for room while live.")
	ruExpGroups   = counter("packetsleuth_rule_threshold_groups_expired_total", "Threshold groups dropped after their window passed.")
	ruLate        = counter("packetsleuth_rule_late_events_total", "Events older than their threshold group's window.")
	ruSuppKeys    = gauge("packetsleuth_rule_suppression_keys", "Live suppression keys.")
	ruEvictKeys   = counter("packetsleuth_rule_suppression_keys_evicted_total", "Suppression keys dropped for room.")
	ruStateBytes  = gauge("packetsleuth_rule_state_bytes", "Memory reserved for threshold and suppression state.")
	ruRefused     = counter("packetsleuth_rule_state_refused_total", "Threshold groups, suppression keys and distinct values not tracked: the rule's state bytes or the memory budget were spent.")
)

func rulesCollector(get func() rules.Stats, severity func(string) string) prometheus.Collector {
	fams := []*family{ruEvents, ruSkipped, ruEvals, ruMatches, ruExcepted, ruAlerts, ruSuppressed, ruErrors,
		ruEvalTime, ruGroups, ruEvictGroups, ruExpGroups, ruLate, ruSuppKeys, ruEvictKeys, ruStateBytes, ruRefused}
	return &collector{fams: fams, collect: func(ch chan<- prometheus.Metric) {
		s := get()
		ruEvents.emit(ch, float64(s.Events))
		ruSkipped.emit(ch, float64(s.Skipped))
		for _, r := range s.Rules {
			sev := ""
			if severity != nil {
				sev = severity(r.ID)
			}
			if sev == "" {
				sev = "unknown"
			}
			ruEvals.emit(ch, float64(r.Evaluations), r.ID)
			ruMatches.emit(ch, float64(r.Matches), r.ID)
			ruExcepted.emit(ch, float64(r.Excepted), r.ID)
			ruAlerts.emit(ch, float64(r.Alerts), r.ID, sev)
			ruSuppressed.emit(ch, float64(r.Suppressed), r.ID)
			ruErrors.emit(ch, float64(r.Errors), r.ID)
			ruEvalTime.emit(ch, r.EvalTime.Seconds(), r.ID)
		}
		ruGroups.emit(ch, float64(s.State.Groups))
		ruEvictGroups.emit(ch, float64(s.State.EvictedGroups))
		ruExpGroups.emit(ch, float64(s.State.ExpiredGroups))
		ruLate.emit(ch, float64(s.State.LateEvents))
		ruSuppKeys.emit(ch, float64(s.State.SuppressKeys))
		ruEvictKeys.emit(ch, float64(s.State.EvictedKeys))
		ruStateBytes.emit(ch, float64(s.State.Bytes))
		ruRefused.emit(ch, float64(s.State.Refused))
	}}
}

// ---- enrichment ----

var (
	eHits         = counter("packetsleuth_enrich_cache_hits_total", "Address enrichments served from a worker cache.")
	eMisses       = counter("packetsleuth_enrich_cache_misses_total", "Address enrichments computed.")
	eHitRatio     = gauge("packetsleuth_enrich_cache_hit_ratio", "Cache hits / (hits + misses) since start (use rate() of the counters for a recent ratio).")
	eGeoLookups   = counter("packetsleuth_geoip_lookups_total", "GeoIP database lookups (City/Country and ASN each count).")
	eGeoErrors    = counter("packetsleuth_geoip_errors_total", "GeoIP lookups that failed to decode.")
	eGeoSkipped   = counter("packetsleuth_geoip_skipped_total", "Non-global addresses not looked up.")
	eIntelLookups = counter("packetsleuth_intel_lookups_total", "Event fields checked against the threat-intel lists.")
	eIntelMatches = counter("packetsleuth_intel_matches_total", "Threat-intel matches added to events (threat.enrichments).")
	eIndicators   = gauge("packetsleuth_intel_indicators", "Threat-intel indicators loaded, by type.", "type")
	eReloads      = counter("packetsleuth_enrich_reloads_total", "Reloads of the enrichment data.")
	eReloadErrors = counter("packetsleuth_enrich_reload_errors_total", "Reloads that failed (the previous data stays in use).")
	eLoadedAt     = gauge("packetsleuth_enrich_loaded_timestamp_seconds", "Unix time the enrichment data in use was loaded.")
	eFSDomains    = gauge("packetsleuth_first_seen_domains", "Domains the first-seen table holds (enrich.first_seen).")
	eFSEvicted    = counter("packetsleuth_first_seen_evicted_total", "Domains the first-seen table forgot, least recently seen first, by reason (max_entries, memory: for a new domain the budget refused).", "reason")
	eFSRefused    = counter("packetsleuth_first_seen_refused_total", "New domains the first-seen table could not hold: the memory budget refused, with nothing in their shard to forget.")
)

func enrichCollector(get func() enrich.Stats) prometheus.Collector {
	fams := []*family{eHits, eMisses, eHitRatio, eGeoLookups, eGeoErrors, eGeoSkipped, eIntelLookups, eIntelMatches,
		eIndicators, eReloads, eReloadErrors, eLoadedAt, eFSDomains, eFSEvicted, eFSRefused}
	return &collector{fams: fams, collect: func(ch chan<- prometheus.Metric) {
		s := get()
		eHits.emit(ch, float64(s.CacheHits))
		eMisses.emit(ch, float64(s.CacheMisses))
		eHitRatio.emit(ch, s.HitRate())
		eGeoLookups.emit(ch, float64(s.GeoLookups))
		eGeoErrors.emit(ch, float64(s.GeoErrors))
		eGeoSkipped.emit(ch, float64(s.GeoSkipped))
		eIntelLookups.emit(ch, float64(s.IntelLookups))
		eIntelMatches.emit(ch, float64(s.IntelMatches))
		for _, kv := range []struct {
			t string
			n int
		}{{"ipv4", s.Intel.IPv4}, {"ipv6", s.Intel.IPv6}, {"domain", s.Intel.Domains}, {"url", s.Intel.URLs},
			{"ja3", s.Intel.JA3}, {"ja3s", s.Intel.JA3S}, {"ja4", s.Intel.JA4}} {
			eIndicators.emit(ch, float64(kv.n), kv.t)
		}
		eReloads.emit(ch, float64(s.Reloads))
		eReloadErrors.emit(ch, float64(s.ReloadErrors))
		eLoadedAt.emit(ch, unixSeconds(s.LoadedAt))
		fs := s.FirstSeen
		eFSDomains.emit(ch, float64(fs.Domains))
		eFSEvicted.emit(ch, float64(fs.Evicted), "max_entries")
		eFSEvicted.emit(ch, float64(fs.EvictedMemory), "memory")
		eFSRefused.emit(ch, float64(fs.Refused))
	}}
}

// ---- web authentication ----

var (
	wFailed    = counter("packetsleuth_web_login_failures_total", "Failed authentications at the web server, by method (password, token).", "method")
	wThrottled = counter("packetsleuth_web_login_throttled_total", "Login or bearer requests answered 429, by reason (blocked: the address or user is blocked; busy: no password-check slot).", "reason")
	wBlocked   = gauge("packetsleuth_web_login_blocked", "Client addresses and user names blocked now after failed logins.")
)

func webAuthCollector(get func() WebAuthStats) prometheus.Collector {
	return &collector{fams: []*family{wFailed, wThrottled, wBlocked}, collect: func(ch chan<- prometheus.Metric) {
		s := get()
		wFailed.emit(ch, float64(s.FailedPasswords), "password")
		wFailed.emit(ch, float64(s.FailedTokens), "token")
		wThrottled.emit(ch, float64(s.Throttled), "blocked")
		wThrottled.emit(ch, float64(s.Busy), "busy")
		wBlocked.emit(ch, float64(s.Blocked))
	}}
}
