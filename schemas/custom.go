package schemas

// Custom holds the fields ECS has no place for, under `packetsleuth.*`.
type Custom struct {
	Traffic Traffic   `json:"traffic,omitzero" expr:"traffic"`
	Flow    FlowInfo  `json:"flow,omitzero" expr:"flow"`
	Tunnel  Tunnel    `json:"tunnel,omitzero" expr:"tunnel"`
	HTTP    HTTPInfo  `json:"http,omitzero" expr:"http"`
	Alert   AlertInfo `json:"alert,omitzero" expr:"alert"`
	Stats   Stats     `json:"stats,omitzero" expr:"stats"`
	Peak    Peak      `json:"peak,omitzero" expr:"peak"`
	Anomaly Anomaly   `json:"anomaly,omitzero" expr:"anomaly"`
	Notes   []string  `json:"notes,omitempty" expr:"notes"`
}

// FlowInfo describes how a connection went, Zeek style.
type FlowInfo struct {
	// State is the Zeek conn_state: S0, S1, SF, REJ, S2, S3, RSTO, RSTR,
	// RSTOS0, RSTRH, SH, SHR, OTH.
	State string `json:"state,omitempty" expr:"state"`
	// History is the Zeek history string (S, h, A, D, F, R…; upper case for
	// the originator, lower case for the responder).
	History string `json:"history,omitempty" expr:"history"`
	// TCPFlags are the flags seen per direction, e.g. "SA" "FPA".
	TCPFlagsOrig string `json:"tcp_flags_orig,omitempty" expr:"tcp_flags_orig"`
	TCPFlagsResp string `json:"tcp_flags_resp,omitempty" expr:"tcp_flags_resp"`
	// EndReason says why the flow ended: fin, rst, timeout, evicted, eof.
	EndReason string `json:"end_reason,omitempty" expr:"end_reason"`
	// Missed counts payload bytes lost in gaps (both directions).
	MissedBytes int64 `json:"missed_bytes,omitempty" expr:"missed_bytes"`
	// ICMP is the type and code of an ICMP flow's first message.
	ICMP ICMPInfo `json:"icmp,omitzero" expr:"icmp"`
}

// ICMPInfo is an ICMP or ICMPv6 message type and code.
type ICMPInfo struct {
	Type int `json:"type" expr:"type"`
	Code int `json:"code" expr:"code"`
}

// Tunnel keeps the outer header of a decapsulated packet (GRE, ERSPAN, VXLAN):
// ECS has no fields for outer addresses.
type Tunnel struct {
	Type          string `json:"type,omitempty" expr:"type"`
	SourceIP      string `json:"source_ip,omitempty" expr:"source_ip"`
	DestinationIP string `json:"destination_ip,omitempty" expr:"destination_ip"`
	VNI           int    `json:"vni,omitempty" expr:"vni"`
}

// AlertInfo carries what a threshold rule counted.
type AlertInfo struct {
	Count  int64    `json:"count,omitempty" expr:"count"`
	Window string   `json:"window,omitempty" expr:"window"`
	Group  []string `json:"group,omitempty" expr:"group"`
}

// Traffic is one bucket of a traffic time series (dataset
// packetsleuth.timeseries, event.kind metric): what one worker saw during
// [@timestamp, @timestamp+event.duration). Buckets of several workers with
// the same time and interface add up.
type Traffic struct {
	Interface string `json:"interface,omitempty" expr:"interface"`
	Packets   int64  `json:"packets" expr:"packets"`
	Bytes     int64  `json:"bytes" expr:"bytes"`
	Flows     int64  `json:"flows" expr:"flows"` // flows started in the bucket
	// BytesByProtocol splits Bytes by transport (tcp, udp, icmp, other).
	BytesByProtocol map[string]int64 `json:"bytes_by_protocol,omitempty" expr:"bytes_by_protocol"`
}

// Peak describes a traffic peak (dataset packetsleuth.traffic, event.kind
// event): a bucket of the traffic series whose value passed the threshold,
// which is the rolling baseline mean plus K standard deviations over the
// preceding window, or an absolute limit from config.
type Peak struct {
	Metric     string  `json:"metric,omitempty" expr:"metric"`         // bytes, packets or flows
	Resolution string  `json:"resolution,omitempty" expr:"resolution"` // bucket width, e.g. "1m0s"
	Value      float64 `json:"value" expr:"value"`                     // the bucket's value
	Baseline   float64 `json:"baseline" expr:"baseline"`               // mean of the window
	StdDev     float64 `json:"stddev" expr:"stddev"`                   // standard deviation of the window
	Threshold  float64 `json:"threshold" expr:"threshold"`             // the limit that was passed
	K          float64 `json:"k,omitempty" expr:"k"`                   // deviations above the mean
	Window     int     `json:"window,omitempty" expr:"window"`         // buckets in the baseline
	Reason     string  `json:"reason,omitempty" expr:"reason"`         // "baseline" or "absolute"
}

// Stats is one periodic capture-health report of a live sensor (dataset
// packetsleuth.stats, event.kind metric): one event per interface, and one
// with Interface "" for the sensor as a whole. Counters are cumulative since
// the start; *Delta fields count since the previous report.
type Stats struct {
	Interface string `json:"interface,omitempty" expr:"interface"`
	Engine    string `json:"engine,omitempty" expr:"engine"` // pcap or afpacket
	// Received counts frames the capture delivered to the sensor, Bytes
	// their length on the wire.
	Received int64 `json:"received" expr:"received"`
	Bytes    int64 `json:"bytes" expr:"bytes"`
	// KernelDrops counts frames the kernel dropped (socket buffer or ring
	// full: the sensor did not keep up); IfDrops frames the interface or
	// driver dropped (libpcap only).
	KernelDrops      int64 `json:"kernel_drops" expr:"kernel_drops"`
	KernelDropsDelta int64 `json:"kernel_drops_delta" expr:"kernel_drops_delta"`
	IfDrops          int64 `json:"if_drops" expr:"if_drops"`
	// SensorDrops counts frames the sensor received but could not analyse
	// (malformed, unsupported link type); OutputDrops events the outputs
	// lost (whole sensor only).
	SensorDrops      int64 `json:"sensor_drops" expr:"sensor_drops"`
	SensorDropsDelta int64 `json:"sensor_drops_delta" expr:"sensor_drops_delta"`
	OutputDrops      int64 `json:"output_drops,omitempty" expr:"output_drops"`
	Truncated        int64 `json:"truncated,omitempty" expr:"truncated"` // cut by the snaplen
	Filtered         int64 `json:"filtered,omitempty" expr:"filtered"`   // dropped by the BPF filter in user space
	Packets          int64 `json:"packets" expr:"packets"`               // frames with an IP flow
	FlowsActive      int64 `json:"flows_active,omitempty" expr:"flows_active"`
	Flows            int64 `json:"flows,omitempty" expr:"flows"` // flows created
	Events           int64 `json:"events,omitempty" expr:"events"`
	UptimeSeconds    int64 `json:"uptime_seconds,omitempty" expr:"uptime_seconds"`
}

// HTTPInfo holds what an HTTP transaction showed beyond ECS http.*: body
// sizes after content decoding (gzip, deflate), the authorization scheme
// (never the credentials), and how the connection changed protocol.
type HTTPInfo struct {
	RequestBodyDecodedBytes  int64  `json:"request_body_decoded_bytes,omitempty" expr:"request_body_decoded_bytes"`
	ResponseBodyDecodedBytes int64  `json:"response_body_decoded_bytes,omitempty" expr:"response_body_decoded_bytes"`
	AuthScheme               string `json:"auth_scheme,omitempty" expr:"auth_scheme"`
	Continue100              bool   `json:"continue_100,omitempty" expr:"continue_100"`
	Upgrade                  string `json:"upgrade,omitempty" expr:"upgrade"` // protocol after a 101, e.g. websocket
	Tunnel                   bool   `json:"tunnel,omitempty" expr:"tunnel"`   // CONNECT answered 2xx
}

// Anomaly is one evasion- or resource-relevant oddity the sensor saw
// (dataset packetsleuth.anomaly), in the spirit of Suricata's stream and
// decoder events and Zeek's weird.log: a reset the receiver would ignore,
// overlapping data that differs, a limit reached. Events are rate-limited
// per kind and flow; Suppressed counts the occurrences of the kind that
// were folded into this one since the previous event of the kind.
type Anomaly struct {
	// Kind names the anomaly, "<layer>.<what>": tcp.rst_ignored,
	// tcp.overlap_conflict, ip.fragment_overlap, limit.memory, …
	Kind       string `json:"kind,omitempty" expr:"kind"`
	Layer      string `json:"layer,omitempty" expr:"layer"`   // ip, tcp, app, limit, capture
	Detail     string `json:"detail,omitempty" expr:"detail"` // what exactly, for the analyst
	Suppressed int64  `json:"suppressed,omitempty" expr:"suppressed"`
}
