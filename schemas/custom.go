package schemas

import "time"

// Custom holds the fields ECS has no place for, under `packetsleuth.*`.
type Custom struct {
	Traffic Traffic   `json:"traffic,omitzero" expr:"traffic"`
	Flow    FlowInfo  `json:"flow,omitzero" expr:"flow"`
	Tunnel  Tunnel    `json:"tunnel,omitzero" expr:"tunnel"`
	HTTP    HTTPInfo  `json:"http,omitzero" expr:"http"`
	TLS     TLSInfo   `json:"tls,omitzero" expr:"tls"`
	SSH     SSH       `json:"ssh,omitzero" expr:"ssh"`
	DHCP    DHCP      `json:"dhcp,omitzero" expr:"dhcp"`
	RDP     RDP       `json:"rdp,omitzero" expr:"rdp"`
	MySQL   DBLogin   `json:"mysql,omitzero" expr:"mysql"`
	PgSQL   DBLogin   `json:"pgsql,omitzero" expr:"pgsql"`
	SMB     SMB       `json:"smb,omitzero" expr:"smb"`
	NTLM    NTLM      `json:"ntlm,omitzero" expr:"ntlm"`
	SMTP    SMTP      `json:"smtp,omitzero" expr:"smtp"`
	SIP     SIP       `json:"sip,omitzero" expr:"sip"`
	NTP     NTP       `json:"ntp,omitzero" expr:"ntp"`
	FTP     FTP       `json:"ftp,omitzero" expr:"ftp"`
	File    FileInfo  `json:"file,omitzero" expr:"file"`
	Domain  Domain    `json:"domain,omitzero" expr:"domain"`
	SNMP    SNMP      `json:"snmp,omitzero" expr:"snmp"`
	Alert   AlertInfo `json:"alert,omitzero" expr:"alert"`
	Stats   Stats     `json:"stats,omitzero" expr:"stats"`
	Peak    Peak      `json:"peak,omitzero" expr:"peak"`
	Anomaly Anomaly   `json:"anomaly,omitzero" expr:"anomaly"`

	// Windows protocols (issue 20).
	Kerberos Kerberos `json:"kerberos,omitzero" expr:"kerberos"`
	DCERPC   DCERPC   `json:"dcerpc,omitzero" expr:"dcerpc"`
	// What the parser noticed about the transaction (malformed parts, limits reached). Example: dns.answer_truncated
	Notes []string `json:"notes,omitempty" expr:"notes"`
}

// Domain is when the sensor first saw the registered domain of the event's
// DNS query, URL or TLS server name (enrich.first_seen).
type Domain struct {
	// The registered domain (eTLD+1) the first sighting is kept for. Example: example.com
	Name string `json:"name,omitempty" expr:"name"`
	// When the sensor first saw the domain (packet time; across restarts with enrich.first_seen.file). Example: 2026-03-01T08:00:00Z
	FirstSeen time.Time `json:"first_seen,omitzero" expr:"first_seen"`
	// The domain was first seen within enrich.first_seen.window, after the sensor had observed for the warm-up. Example: true
	New bool `json:"new,omitempty" expr:"new"`
}

// FlowInfo describes how a connection went, Zeek style.
type FlowInfo struct {
	// State is the Zeek conn_state: S0, S1, SF, REJ, S2, S3, RSTO, RSTR,
	// RSTOS0, RSTRH, SH, SHR, OTH. Example: SF
	State string `json:"state,omitempty" expr:"state" encode:"run"`
	// History is the Zeek history string (S, h, A, D, F, R…; upper case for
	// the originator, lower case for the responder). Example: ShADadFf
	History string `json:"history,omitempty" expr:"history" encode:"run"`
	// The TCP flags the originator sent. Example: FSPA
	TCPFlagsOrig string `json:"tcp_flags_orig,omitempty" expr:"tcp_flags_orig" encode:"run"`
	// The TCP flags the responder sent. Example: FSPA
	TCPFlagsResp string `json:"tcp_flags_resp,omitempty" expr:"tcp_flags_resp" encode:"run"`
	// EndReason says why the flow ended: fin, rst, timeout, evicted, eof. Example: fin
	EndReason string `json:"end_reason,omitempty" expr:"end_reason" encode:"run"`
	// Missed counts payload bytes lost in gaps (both directions). Example: 1448
	MissedBytes int64 `json:"missed_bytes,omitempty" expr:"missed_bytes"`
	// ICMP is the type and code of an ICMP flow's first message.
	ICMP ICMPInfo `json:"icmp,omitzero" expr:"icmp"`
}

// ICMPInfo is an ICMP or ICMPv6 message type and code, with what the
// flow's messages showed: echo payload sizes and randomness (tunnels), and
// for an error message the flow of the packet it quotes.
type ICMPInfo struct {
	// ICMP or ICMPv6 message type of the flow's first message. Example: 8
	Type int `json:"type" expr:"type"`
	// ICMP or ICMPv6 message code of the flow's first message. Example: 0
	Code int `json:"code" expr:"code"`
	// Name of the type (IANA registry, snake case; type_N when unassigned). Example: destination_unreachable
	TypeName string `json:"type_name,omitempty" expr:"type_name"`
	// Name of the code, for types with named codes (code_N when unassigned). Example: port_unreachable
	CodeName string `json:"code_name,omitempty" expr:"code_name"`
	// Echo requests and replies of the flow. Example: 10
	EchoMessages int `json:"echo_messages,omitempty" expr:"echo_messages"`
	// Largest echo payload (bytes after identifier and sequence number). Example: 56
	EchoPayloadMax int `json:"echo_payload_max,omitempty" expr:"echo_payload_max"`
	// Echo payload bytes of the flow, both ways. Example: 560
	EchoPayloadBytes int64 `json:"echo_payload_bytes,omitempty" expr:"echo_payload_bytes"`
	// Highest randomness of an echo payload, bits per byte: the lower of the Shannon entropy of its bytes and of their successive differences (a ping's counting pattern is near 0, encrypted or compressed data near 8; at most log2 of the payload size). Example: 7.6
	EchoPayloadEntropy float64 `json:"echo_payload_entropy,omitempty" expr:"echo_payload_entropy"`
	// Error messages of the flow whose quoted packet was read. Example: 1
	Quoted int `json:"quoted,omitempty" expr:"quoted"`
	// Community ID of the flow of the packet the first error message quotes (its original flow). Example: 1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0=
	OriginalCommunityID string `json:"original_community_id,omitempty" expr:"original_community_id"`
	// Transport of the quoted packet. Example: udp
	OriginalTransport string `json:"original_transport,omitempty" expr:"original_transport"`
	// Source address of the quoted packet. Example: 192.168.1.102
	OriginalSourceIP string `json:"original_source_ip,omitempty" expr:"original_source_ip" es:"ip"`
	// Source port of the quoted packet (for a quoted ICMP message, its type). Example: 59207
	OriginalSourcePort int `json:"original_source_port,omitempty" expr:"original_source_port"`
	// Destination address of the quoted packet. Example: 192.168.1.1
	OriginalDestinationIP string `json:"original_destination_ip,omitempty" expr:"original_destination_ip" es:"ip"`
	// Destination port of the quoted packet (for a quoted ICMP message, its code). Example: 53
	OriginalDestinationPort int `json:"original_destination_port,omitempty" expr:"original_destination_port"`
}

// Tunnel keeps the outer header of a decapsulated packet (GRE, ERSPAN, VXLAN):
// ECS has no fields for outer addresses.
type Tunnel struct {
	// The encapsulation: gre, erspan or vxlan. Example: vxlan
	Type string `json:"type,omitempty" expr:"type"`
	// Source address of the outer header. Example: 172.16.0.1
	SourceIP string `json:"source_ip,omitempty" expr:"source_ip" es:"ip"`
	// Destination address of the outer header. Example: 172.16.0.2
	DestinationIP string `json:"destination_ip,omitempty" expr:"destination_ip" es:"ip"`
	// VXLAN network identifier. Example: 42
	VNI int `json:"vni,omitempty" expr:"vni"`
}

// AlertInfo carries what a threshold rule counted.
type AlertInfo struct {
	// What a threshold rule counted in its window (events, or distinct values). Example: 20
	Count int64 `json:"count,omitempty" expr:"count"`
	// The threshold rule's window. Example: 1m0s
	Window string `json:"window,omitempty" expr:"window"`
	// The group_by values of the threshold rule, in order. Example: 10.1.0.10
	Group []string `json:"group,omitempty" expr:"group"`
	// Of a distinct threshold: the values counted, sorted, at most 20 (count says how many). Example: 22
	Members []string `json:"members,omitempty" expr:"members"`
	// The alternatives of the rule condition's OR that held for the event, as written. Example: dns.question.name endsWith ".onion"
	Matched []string `json:"matched,omitempty" expr:"matched"`
}

// Traffic is one bucket of a traffic time series (dataset
// packetsleuth.timeseries, event.kind metric): what one worker saw during
// [@timestamp, @timestamp+event.duration). Buckets of several workers with
// the same time and interface add up.
type Traffic struct {
	// The capture interface of the bucket ("" when the sensor reads one source). Example: eth0
	Interface string `json:"interface,omitempty" expr:"interface"`
	// Packets seen in the bucket. Example: 1200
	Packets int64 `json:"packets" expr:"packets"`
	// Bytes seen in the bucket (frame lengths on the wire). Example: 960000
	Bytes int64 `json:"bytes" expr:"bytes"`
	Flows int64 `json:"flows" expr:"flows"` // flows started in the bucket. Example: 14
	// BytesByProtocol splits Bytes by transport (tcp, udp, icmp, other). Example: {"tcp": 900000, "udp": 50000}
	BytesByProtocol map[string]int64 `json:"bytes_by_protocol,omitempty" expr:"bytes_by_protocol"`
}

// Peak describes a traffic peak (dataset packetsleuth.traffic, event.kind
// event): a bucket of the traffic series whose value passed the threshold,
// which is the rolling baseline mean plus K standard deviations over the
// preceding window, or an absolute limit from config.
type Peak struct {
	Metric     string  `json:"metric,omitempty" expr:"metric"`         // bytes, packets or flows. Example: bytes
	Resolution string  `json:"resolution,omitempty" expr:"resolution"` // bucket width, e.g. "1m0s". Example: 1m0s
	Value      float64 `json:"value" expr:"value"`                     // the bucket's value. Example: 960000
	Baseline   float64 `json:"baseline" expr:"baseline"`               // mean of the window. Example: 120000
	StdDev     float64 `json:"stddev" expr:"stddev"`                   // standard deviation of the window. Example: 15000
	Threshold  float64 `json:"threshold" expr:"threshold"`             // the limit that was passed. Example: 165000
	K          float64 `json:"k,omitempty" expr:"k"`                   // deviations above the mean. Example: 3
	Window     int     `json:"window,omitempty" expr:"window"`         // buckets in the baseline. Example: 60
	Reason     string  `json:"reason,omitempty" expr:"reason"`         // "baseline" or "absolute". Example: baseline
}

// Stats is one periodic capture-health report of a live sensor (dataset
// packetsleuth.stats, event.kind metric): one event per interface, and one
// with Interface "" for the sensor as a whole. Counters are cumulative since
// the start; *Delta fields count since the previous report.
type Stats struct {
	// The capture interface ("" for the sensor as a whole). Example: eth0
	Interface string `json:"interface,omitempty" expr:"interface"`
	Engine    string `json:"engine,omitempty" expr:"engine"` // pcap or afpacket. Example: afpacket
	// Received counts frames the capture delivered to the sensor, Bytes
	// their length on the wire. Example: 1048576
	Received int64 `json:"received" expr:"received"`
	// Length on the wire of the frames received. Example: 1048576
	Bytes int64 `json:"bytes" expr:"bytes"`
	// KernelDrops counts frames the kernel dropped (socket buffer or ring
	// full: the sensor did not keep up); IfDrops frames the interface or
	// driver dropped (libpcap only). Example: 12
	KernelDrops int64 `json:"kernel_drops" expr:"kernel_drops"`
	// Kernel drops since the previous report. Example: 0
	KernelDropsDelta int64 `json:"kernel_drops_delta" expr:"kernel_drops_delta"`
	// Frames the interface or driver dropped (libpcap only). Example: 0
	IfDrops int64 `json:"if_drops" expr:"if_drops"`
	// SensorDrops counts frames the sensor received but could not analyse
	// (malformed, unsupported link type); OutputDrops events the outputs
	// lost (whole sensor only). Example: 3
	SensorDrops int64 `json:"sensor_drops" expr:"sensor_drops"`
	// Sensor drops since the previous report. Example: 0
	SensorDropsDelta int64 `json:"sensor_drops_delta" expr:"sensor_drops_delta"`
	// Events the outputs lost (whole sensor only). Example: 0
	OutputDrops int64 `json:"output_drops,omitempty" expr:"output_drops"`
	Truncated   int64 `json:"truncated,omitempty" expr:"truncated"` // cut by the snaplen. Example: 0
	Filtered    int64 `json:"filtered,omitempty" expr:"filtered"`   // dropped by the BPF filter in user space. Example: 0
	Packets     int64 `json:"packets" expr:"packets"`               // frames with an IP flow. Example: 1048000
	// Flows in the flow tables. Example: 312
	FlowsActive int64 `json:"flows_active,omitempty" expr:"flows_active"`
	Flows       int64 `json:"flows,omitempty" expr:"flows"` // flows created. Example: 20480
	// Events emitted. Example: 5120
	Events int64 `json:"events,omitempty" expr:"events"`
	// Seconds since the sensor started. Example: 3600
	UptimeSeconds int64 `json:"uptime_seconds,omitempty" expr:"uptime_seconds"`
	// Version (SHA-256 of the content) of the fleet's rules and intel set in force (whole sensor only, with fleet: set). Example: sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
	ConfigVersion string `json:"config_version,omitempty" expr:"config_version"`
	// Why the newest fleet set published was refused; the set of config_version stays in force (empty when the newest is in force). Example: set sha256:60303ae2... refused: rules/local.yaml:4: unknown field
	ConfigError string `json:"config_error,omitempty" expr:"config_error"`
}

// HTTPInfo holds what an HTTP transaction showed beyond ECS http.*: body
// sizes after content decoding (gzip, deflate), the authorization scheme
// (never the credentials), how the connection changed protocol, and the
// proxy tunnel an event of any protocol came through.
type HTTPInfo struct {
	// Number of the transaction in its connection, from 1 in request order; the files of the transaction carry it as packetsleuth.file.transaction. Example: 2
	Transaction int64 `json:"transaction,omitempty" expr:"transaction"`
	// Size of the request body after content decoding (gzip, deflate). Example: 2048
	RequestBodyDecodedBytes int64 `json:"request_body_decoded_bytes,omitempty" expr:"request_body_decoded_bytes"`
	// Size of the response body after content decoding (gzip, deflate). Example: 16384
	ResponseBodyDecodedBytes int64 `json:"response_body_decoded_bytes,omitempty" expr:"response_body_decoded_bytes"`
	// The Authorization scheme of the request (never the credentials). Example: Basic
	AuthScheme string `json:"auth_scheme,omitempty" expr:"auth_scheme"`
	// The request asked for 100-continue. Example: true
	Continue100 bool   `json:"continue_100,omitempty" expr:"continue_100"`
	Upgrade     string `json:"upgrade,omitempty" expr:"upgrade"` // protocol after a 101, e.g. websocket. Example: websocket
	Tunnel      bool   `json:"tunnel,omitempty" expr:"tunnel"`   // CONNECT answered 2xx. Example: true
	// The CONNECT target (host:port) of the proxy tunnel this event's protocol was carried in, on the events found inside the tunnel (a TLS handshake through a proxy). Example: secure.example.com:443
	TunnelTarget string `json:"tunnel_target,omitempty" expr:"tunnel_target"`
	// The request headers kept by the http.headers setting, names lower-cased; credentials (Authorization, Cookie) are never kept, their values read "<redacted>" (Authorization keeps its scheme).
	RequestHeaders []HTTPHeader `json:"request_headers,omitempty" expr:"request_headers"`
	// The response headers kept by the http.headers setting, names lower-cased (Set-Cookie values read "<redacted>").
	ResponseHeaders []HTTPHeader `json:"response_headers,omitempty" expr:"response_headers"`
	// Headers of the transaction not kept (not selected by http.headers, or past 32 per direction). Example: 7
	HeadersDropped int `json:"headers_dropped,omitempty" expr:"headers_dropped"`
}

// HTTPHeader is one kept HTTP header.
type HTTPHeader struct {
	// Header name, lower case. Example: x-forwarded-for
	Name string `json:"name" expr:"name"`
	// Header value (at most 512 bytes). Example: 203.0.113.7
	Value string `json:"value" expr:"value"`
}

// TLSInfo holds what a TLS handshake showed beyond ECS tls.*.
type TLSInfo struct {
	// JA4 fingerprint of the client hello (ECS has JA3 only). Example: t13d1516h2_8daaf6152771_02713d6af862
	JA4 string `json:"ja4,omitempty" expr:"ja4"`
}

// Anomaly is one evasion- or resource-relevant oddity the sensor saw
// (dataset packetsleuth.anomaly), in the spirit of Suricata's stream and
// decoder events and Zeek's weird.log: a reset the receiver would ignore,
// overlapping data that differs, a limit reached. Events are rate-limited
// per kind and flow; Suppressed counts the occurrences of the kind that
// were folded into this one since the previous event of the kind.
type Anomaly struct {
	// Kind names the anomaly, "<layer>.<what>": tcp.rst_ignored,
	// tcp.overlap_conflict, ip.fragment_overlap, limit.memory, …. Example: tcp.rst_ignored
	Kind   string `json:"kind,omitempty" expr:"kind"`
	Layer  string `json:"layer,omitempty" expr:"layer"`   // ip, tcp, app, limit, capture, decode. Example: tcp
	Detail string `json:"detail,omitempty" expr:"detail"` // what exactly, for the analyst. Example: RST with sequence 1000 outside the window [5000, 70535)
	// Occurrences of the kind folded into this event since the previous one (rate limit). Example: 12
	Suppressed int64 `json:"suppressed,omitempty" expr:"suppressed"`
}
