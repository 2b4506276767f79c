// Package schemas defines the ECS events PacketSleuth emits, as typed Go
// structs, and their JSON encoding.
//
// Every group is a value (not a pointer) tagged `omitzero`, so an event carries
// only what was set, and rule expressions can walk any dotted path
// (`dns.question.name`) without meeting a nil. The `expr` tags spell the ECS
// names that detection rules are written against.
package schemas

import (
	"time"
	"unsafe"
)

// ECSVersion is the ECS release the events follow.
const ECSVersion = "9.4.0"

// Dataset values, as used in event.dataset.
const (
	DatasetFlow    = "packetsleuth.flow"
	DatasetDNS     = "packetsleuth.dns"
	DatasetHTTP    = "packetsleuth.http"
	DatasetTLS     = "packetsleuth.tls"
	DatasetSSH     = "packetsleuth.ssh"
	DatasetDHCP    = "packetsleuth.dhcp"
	DatasetRDP     = "packetsleuth.rdp"
	DatasetMySQL   = "packetsleuth.mysql"
	DatasetPgSQL   = "packetsleuth.pgsql"
	DatasetSMB     = "packetsleuth.smb"
	DatasetSMTP    = "packetsleuth.smtp"
	DatasetSIP     = "packetsleuth.sip"
	DatasetNTP     = "packetsleuth.ntp"
	DatasetFTP     = "packetsleuth.ftp"
	DatasetFile    = "packetsleuth.file"
	DatasetSNMP    = "packetsleuth.snmp"
	DatasetAlert   = "packetsleuth.alert"
	DatasetTraffic = "packetsleuth.traffic"
	DatasetStats   = "packetsleuth.stats"
	DatasetAnomaly = "packetsleuth.anomaly"
	// DatasetTimeseries holds 1-second traffic buckets (event.kind metric);
	// DatasetTraffic holds detected traffic peaks (event.kind event).
	DatasetTimeseries = "packetsleuth.timeseries"
)

// HeldBytes is what an event kept in memory (an alert or an anomaly
// waiting for its turn) is charged to a memory budget: the struct, and
// about 1 KB of the lists and strings it points to.
const HeldBytes = int64(unsafe.Sizeof(Event{})) + 1<<10

// Event is one ECS document: a connection, a protocol transaction or an alert.
type Event struct {
	// When the event happened (packet time): a connection's end, a transaction's request, an alert's triggering event. Example: 2026-11-24T10:00:00.009Z
	Timestamp   time.Time `json:"@timestamp" expr:"timestamp"`
	ECS         ECS       `json:"ecs" expr:"ecs"`
	Event       EventMeta `json:"event" expr:"event"`
	Network     Network   `json:"network,omitzero" expr:"network"`
	Source      Endpoint  `json:"source,omitzero" expr:"source"`
	Destination Endpoint  `json:"destination,omitzero" expr:"destination"`
	Related     Related   `json:"related,omitzero" expr:"related"`
	Observer    Observer  `json:"observer,omitzero" expr:"observer"`
	Agent       Agent     `json:"agent,omitzero" expr:"agent"`
	DNS         DNS       `json:"dns,omitzero" expr:"dns"`
	HTTP        HTTP      `json:"http,omitzero" expr:"http"`
	URL         URL       `json:"url,omitzero" expr:"url"`
	UserAgent   UserAgent `json:"user_agent,omitzero" expr:"user_agent"`
	TLS         TLS       `json:"tls,omitzero" expr:"tls"`
	User        User      `json:"user,omitzero" expr:"user"`
	File        File      `json:"file,omitzero" expr:"file"`
	Email       Email     `json:"email,omitzero" expr:"email"`
	Rule        Rule      `json:"rule,omitzero" expr:"rule"`
	Threat      Threat    `json:"threat,omitzero" expr:"threat"`
	// List of keywords used to tag each event. Example: attack.command_and_control
	Tags []string `json:"tags,omitempty" expr:"tags"`
	// An alert's explanation, from its rule's output template. Example: port scan from 10.1.0.10: 120 ports in 1m0s
	Message string `json:"message,omitempty" expr:"message" es:"match_only_text"`
	Sensor  Custom `json:"packetsleuth,omitzero" expr:"packetsleuth"`
}

// Reset makes ev a new event (kind "event", this ECS version) of dataset at
// ts, keeping the backing array of related.ip so that an event reused for
// every packet's events does not allocate.
func (ev *Event) Reset(ts time.Time, dataset string, category, typ []string) {
	ip := ev.Related.IP[:0]
	*ev = Event{Timestamp: ts}
	ev.Related.IP = ip
	ev.ECS.Version = ECSVersion
	ev.Event.Kind = "event"
	ev.Event.Category, ev.Event.Type, ev.Event.Dataset = category, typ, dataset
}

// ECS carries ecs.version.
type ECS struct {
	// ECS version this event conforms to. Example: 9.4.0
	Version string `json:"version" expr:"version" encode:"run"`
}

// EventMeta is ECS `event.*`.
type EventMeta struct {
	// Unique ID to describe the event. Example: Fv5QuS7aEhy6nbp5
	ID string `json:"id,omitempty" expr:"id"`
	// The kind of the event: event, alert or metric. Example: event
	Kind string `json:"kind" expr:"kind" encode:"run"`
	// Event category: network, plus web or intrusion_detection where they apply. Example: network
	Category []string `json:"category" expr:"category" encode:"run"`
	// Event type: connection, protocol, info, start, end. Example: connection
	Type []string `json:"type,omitempty" expr:"type" encode:"run"`
	// Name of the dataset: packetsleuth.<what>. Example: packetsleuth.dns
	Dataset string `json:"dataset" expr:"dataset" encode:"run"`
	// Name of the module the event comes from. Example: packetsleuth
	Module string `json:"module,omitempty" expr:"module" encode:"run"`
	// The action captured by the event (a rule's id for an alert). Example: network_flow
	Action string `json:"action,omitempty" expr:"action" encode:"run"`
	// The outcome of the event. The lowest level categorization field in the hierarchy. Example: success
	Outcome string `json:"outcome,omitempty" expr:"outcome" encode:"run"`
	// Reason why this event happened, according to the source. Example: DNS tunnelling - long or high-entropy query name
	Reason string `json:"reason,omitempty" expr:"reason" encode:"run"`
	// `event.start` contains the date when the event started or when the activity was first observed. Example: 2026-11-24T10:00:00Z
	Start time.Time `json:"start,omitzero" expr:"start"`
	// `event.end` contains the date when the event ended or when the activity was last observed. Example: 2026-11-24T10:00:00.009Z
	End time.Time `json:"end,omitzero" expr:"end"`
	// Duration of the event in nanoseconds. Example: 9000000
	Duration time.Duration `json:"duration,omitempty" expr:"duration"`
	// Numeric severity of the event. Example: 73
	Severity int `json:"severity,omitempty" expr:"severity"`
	// Risk score of an alert, from its rule. Example: 73
	RiskScore float64 `json:"risk_score,omitempty" expr:"risk_score" es:"float"`
}

// Related is ECS `related.*`: values an analyst pivots on.
type Related struct {
	// All of the IPs seen on your event. Example: 10.1.0.10
	IP []string `json:"ip,omitempty" expr:"ip" es:"ip"`
	// All the host identifiers seen on your event. Example: www.example.com
	Hosts []string `json:"hosts,omitempty" expr:"hosts"`
	// All the hashes seen on your event. Example: b4d1c5e0b1a7f2ffe0c3b1d4a8e7f6c5d4b3a2e1f0d9c8b7a6e5f4d3c2b1a0f9
	Hash []string `json:"hash,omitempty" expr:"hash"`
	// All the user names or other user identifiers seen on the event. Example: alice
	User []string `json:"user,omitempty" expr:"user"`
}

// Observer is ECS `observer.*`: the sensor that saw the traffic.
type Observer struct {
	// Custom name of the observer (sensor.name in the config; the hostname by default). Example: edge-paris-1
	Name string `json:"name,omitempty" expr:"name"`
	// Hostname of the observer. Example: sensor-1
	Hostname string `json:"hostname,omitempty" expr:"hostname"`
	// The type of the observer the data is coming from. Example: sensor
	Type string `json:"type,omitempty" expr:"type"`
	// Vendor name of the observer. Example: PacketSleuth
	Vendor string `json:"vendor,omitempty" expr:"vendor"`
	// The product name of the observer. Example: PacketSleuth
	Product string `json:"product,omitempty" expr:"product"`
	// Observer version. Example: 0.9.0
	Version string          `json:"version,omitempty" expr:"version"`
	Geo     ObserverGeo     `json:"geo,omitzero" expr:"geo"`
	Ingress ObserverIngress `json:"ingress,omitzero" expr:"ingress"`
}

// ObserverGeo is ECS `observer.geo.*`: where the sensor stands.
type ObserverGeo struct {
	// User-defined description of a location: the sensor's site (sensor.site in the config). Example: paris-dc
	Name string `json:"name,omitempty" expr:"name"`
}

// Agent is ECS `agent.*`: the sensor process that made the event, with an
// id that stays the same across restarts and upgrades.
type Agent struct {
	// Unique identifier of this agent, kept in the sensor's id file. Example: 8a4f500d-6f4d-4c32-a5c4-8d0e2c0c7f1e
	ID string `json:"id,omitempty" expr:"id"`
	// Custom name of the agent (the sensor's name). Example: edge-paris-1
	Name string `json:"name,omitempty" expr:"name"`
	// Type of the agent. Example: packetsleuth
	Type string `json:"type,omitempty" expr:"type"`
	// Version of the agent. Example: 0.9.0
	Version string `json:"version,omitempty" expr:"version"`
}

// ObserverIngress names the interface a packet came in on.
type ObserverIngress struct {
	Interface struct {
		// Interface name. Example: eth0
		Name string `json:"name,omitempty" expr:"name"`
	} `json:"interface,omitzero" expr:"interface"`
}

// UserAgent is ECS `user_agent.*`.
type UserAgent struct {
	// Unparsed user_agent string. Example: curl/8.5.0
	Original string `json:"original,omitempty" expr:"original" es:"keyword,text"`
}
