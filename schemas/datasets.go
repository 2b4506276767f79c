package schemas

// DatasetGroups says which fields each dataset can carry, as the json
// paths of groups (a group carries every field below it) or of single
// fields. It is part of the schema: `go generate ./schemas` reads it for
// the field reference and the field table the rule loader checks rules
// against (a rule reading a field its datasets never carry is a warning).
// A new dataset, or a group a dataset starts to fill, is a line here.
var DatasetGroups = map[string][]string{
	DatasetFlow:       withNetwork("packetsleuth.flow", "packetsleuth.ftp.control_community_id"),
	DatasetDNS:        withNetwork("dns", "packetsleuth.domain", "packetsleuth.notes"),
	DatasetHTTP:       withNetwork("http", "url", "user_agent", "user", "packetsleuth.http", "packetsleuth.ntlm", "packetsleuth.domain", "packetsleuth.notes"),
	DatasetTLS:        withNetwork("tls", "packetsleuth.tls", "packetsleuth.http.tunnel_target", "packetsleuth.domain", "packetsleuth.notes"),
	DatasetSSH:        withNetwork("packetsleuth.ssh", "packetsleuth.notes"),
	DatasetDHCP:       withNetwork("packetsleuth.dhcp", "packetsleuth.notes"),
	DatasetRDP:        withNetwork("packetsleuth.rdp", "packetsleuth.notes"),
	DatasetMySQL:      withNetwork("packetsleuth.mysql", "packetsleuth.notes"),
	DatasetPgSQL:      withNetwork("packetsleuth.pgsql", "packetsleuth.notes"),
	DatasetSMB:        withNetwork("user", "file", "packetsleuth.smb", "packetsleuth.ntlm", "packetsleuth.notes"),
	DatasetSMTP:       withNetwork("email", "packetsleuth.smtp", "packetsleuth.notes"),
	DatasetSIP:        withNetwork("packetsleuth.sip", "url.original", "user_agent", "packetsleuth.notes"),
	DatasetNTP:        withNetwork("packetsleuth.ntp"),
	DatasetFTP:        withNetwork("user", "file", "packetsleuth.ftp", "packetsleuth.notes"),
	DatasetSNMP:       withNetwork("packetsleuth.snmp"),
	DatasetAnomaly:    withNetwork("packetsleuth.anomaly"),
	DatasetFile:       withNetwork("file", "packetsleuth.file", "url", "http.request.method", "http.response.status_code", "packetsleuth.ftp.control_community_id", "packetsleuth.domain", "packetsleuth.notes"),
	DatasetStats:      withCommon("packetsleuth.stats"),
	DatasetTraffic:    withCommon("packetsleuth.peak"),
	DatasetTimeseries: withCommon("packetsleuth.traffic"),

	DatasetKerberos: withNetwork("packetsleuth.kerberos", "packetsleuth.notes"),
	DatasetDCERPC:   withNetwork("packetsleuth.dcerpc", "user", "packetsleuth.ntlm", "packetsleuth.notes"),

	// An alert copies the fields of the event that triggered it: one
	// group per line, so that a new protocol is a line of its own.
	DatasetAlert: withNetwork(
		"dns", "http", "url", "user_agent", "tls",
		"rule", "threat", "message",
		"packetsleuth.flow",
		"packetsleuth.tls",
		"packetsleuth.ssh",
		"user", "file", "packetsleuth.smb", "packetsleuth.ntlm",
		"packetsleuth.dhcp",
		"packetsleuth.rdp",
		"packetsleuth.mysql",
		"packetsleuth.pgsql",
		"email", "packetsleuth.smtp",
		"packetsleuth.sip",
		"packetsleuth.ntp",
		"packetsleuth.ftp",
		"packetsleuth.snmp",
		"packetsleuth.kerberos",
		"packetsleuth.dcerpc",
		"file", "packetsleuth.file",
		"packetsleuth.domain",
		"packetsleuth.alert",
		"packetsleuth.notes",
	),
}

// withCommon adds the fields every event has: its time, its ECS
// categorization and the sensor that saw it.
func withCommon(groups ...string) []string {
	return append([]string{"@timestamp", "ecs", "event", "observer", "agent", "tags"}, groups...)
}

// withNetwork adds the fields every event about a connection has: its
// endpoints (enriched with geo and intel matches) and its tunnel.
func withNetwork(groups ...string) []string {
	return withCommon(append([]string{"network", "source", "destination", "related", "threat.enrichments", "packetsleuth.tunnel"}, groups...)...)
}
