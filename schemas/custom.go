package schemas

// Custom holds the fields ECS has no place for, under `packetsleuth.*`.
type Custom struct {
	Traffic Traffic   `json:"traffic,omitzero" expr:"traffic"`
	Flow    FlowInfo  `json:"flow,omitzero" expr:"flow"`
	Tunnel  Tunnel    `json:"tunnel,omitzero" expr:"tunnel"`
	Alert   AlertInfo `json:"alert,omitzero" expr:"alert"`
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
