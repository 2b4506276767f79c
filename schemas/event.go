// Package schemas defines the ECS events PacketSleuth emits, as typed Go
// structs, and their JSON encoding.
//
// Every group is a value (not a pointer) tagged `omitzero`, so an event carries
// only what was set, and rule expressions can walk any dotted path
// (`dns.question.name`) without meeting a nil. The `expr` tags spell the ECS
// names that detection rules are written against.
package schemas

import "time"

// ECSVersion is the ECS release the events follow.
const ECSVersion = "9.4.0"

// Dataset values, as used in event.dataset.
const (
	DatasetFlow    = "packetsleuth.flow"
	DatasetDNS     = "packetsleuth.dns"
	DatasetHTTP    = "packetsleuth.http"
	DatasetTLS     = "packetsleuth.tls"
	DatasetAlert   = "packetsleuth.alert"
	DatasetTraffic = "packetsleuth.traffic"
	DatasetStats   = "packetsleuth.stats"
	DatasetAnomaly = "packetsleuth.anomaly"
	// DatasetTimeseries holds 1-second traffic buckets (event.kind metric);
	// DatasetTraffic holds detected traffic peaks (event.kind event).
	DatasetTimeseries = "packetsleuth.timeseries"
)

// Event is one ECS document: a connection, a protocol transaction or an alert.
type Event struct {
	Timestamp   time.Time `json:"@timestamp" expr:"timestamp"`
	ECS         ECS       `json:"ecs" expr:"ecs"`
	Event       EventMeta `json:"event" expr:"event"`
	Network     Network   `json:"network,omitzero" expr:"network"`
	Source      Endpoint  `json:"source,omitzero" expr:"source"`
	Destination Endpoint  `json:"destination,omitzero" expr:"destination"`
	Related     Related   `json:"related,omitzero" expr:"related"`
	Observer    Observer  `json:"observer,omitzero" expr:"observer"`
	DNS         DNS       `json:"dns,omitzero" expr:"dns"`
	HTTP        HTTP      `json:"http,omitzero" expr:"http"`
	URL         URL       `json:"url,omitzero" expr:"url"`
	UserAgent   UserAgent `json:"user_agent,omitzero" expr:"user_agent"`
	TLS         TLS       `json:"tls,omitzero" expr:"tls"`
	Rule        Rule      `json:"rule,omitzero" expr:"rule"`
	Threat      Threat    `json:"threat,omitzero" expr:"threat"`
	Tags        []string  `json:"tags,omitempty" expr:"tags"`
	Sensor      Custom    `json:"packetsleuth,omitzero" expr:"packetsleuth"`
}

// ECS carries ecs.version.
type ECS struct {
	Version string `json:"version" expr:"version"`
}

// EventMeta is ECS `event.*`.
type EventMeta struct {
	ID        string        `json:"id,omitempty" expr:"id"`
	Kind      string        `json:"kind" expr:"kind"`
	Category  []string      `json:"category" expr:"category"`
	Type      []string      `json:"type,omitempty" expr:"type"`
	Dataset   string        `json:"dataset" expr:"dataset"`
	Module    string        `json:"module,omitempty" expr:"module"`
	Action    string        `json:"action,omitempty" expr:"action"`
	Outcome   string        `json:"outcome,omitempty" expr:"outcome"`
	Reason    string        `json:"reason,omitempty" expr:"reason"`
	Start     time.Time     `json:"start,omitzero" expr:"start"`
	End       time.Time     `json:"end,omitzero" expr:"end"`
	Duration  time.Duration `json:"duration,omitempty" expr:"duration"`
	Severity  int           `json:"severity,omitempty" expr:"severity"`
	RiskScore float64       `json:"risk_score,omitempty" expr:"risk_score"`
}

// Related is ECS `related.*`: values an analyst pivots on.
type Related struct {
	IP    []string `json:"ip,omitempty" expr:"ip"`
	Hosts []string `json:"hosts,omitempty" expr:"hosts"`
	Hash  []string `json:"hash,omitempty" expr:"hash"`
	User  []string `json:"user,omitempty" expr:"user"`
}

// Observer is ECS `observer.*`: the sensor that saw the traffic.
type Observer struct {
	Hostname string          `json:"hostname,omitempty" expr:"hostname"`
	Type     string          `json:"type,omitempty" expr:"type"`
	Vendor   string          `json:"vendor,omitempty" expr:"vendor"`
	Product  string          `json:"product,omitempty" expr:"product"`
	Version  string          `json:"version,omitempty" expr:"version"`
	Ingress  ObserverIngress `json:"ingress,omitzero" expr:"ingress"`
}

// ObserverIngress names the interface a packet came in on.
type ObserverIngress struct {
	Interface struct {
		Name string `json:"name,omitempty" expr:"name"`
	} `json:"interface,omitzero" expr:"interface"`
}

// UserAgent is ECS `user_agent.*`.
type UserAgent struct {
	Original string `json:"original,omitempty" expr:"original"`
}
