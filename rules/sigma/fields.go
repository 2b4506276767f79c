package sigma

import "github.com/packetsleuth/packetsleuth/schemas"

// target is where a Sigma field lives in PacketSleuth's events.
type target struct {
	field string // ECS / packetsleuth field
	elem  string // set: field is an array of objects, match any element's elem
	ext   bool   // a file extension: matched at the end of the field (url.path)
	num   bool   // numeric: values compare as numbers
	// suffix is added to exact values: Zeek says "AS" where the sensor
	// says "AS-REQ".
	suffix string
}

// source is a Sigma log source PacketSleuth can evaluate: the dataset
// its events come in, and its field names.
type source struct {
	dataset string
	fields  map[string]target
}

// Field names per log source follow the Sigma taxonomy (dns, proxy,
// webserver, firewall) and Zeek's log fields for product zeek.
var (
	dnsFields = map[string]target{
		"query":       {field: "dns.question.name"},
		"record_type": {field: "dns.question.type"},
		"answer":      {field: "dns.answers", elem: "data"},
		"src_ip":      {field: "source.ip"},
		"dst_ip":      {field: "destination.ip"},
	}
	proxyFields = map[string]target{
		"c-uri":           {field: "url.original"},
		"cs-uri":          {field: "url.original"}, // older rules' name
		"c-uri-query":     {field: "url.query"},
		"c-uri-stem":      {field: "url.path"},
		"c-uri-extension": {field: "url.path", ext: true},
		"c-useragent":     {field: "user_agent.original"},
		"cs-host":         {field: "url.domain"},
		"r-dns":           {field: "url.domain"},
		"cs-method":       {field: "http.request.method"},
		"cs-referrer":     {field: "http.request.referrer"},
		"cs-version":      {field: "http.version"},
		"sc-status":       {field: "http.response.status_code", num: true},
		"cs-bytes":        {field: "http.request.bytes", num: true},
		"sc-bytes":        {field: "http.response.bytes", num: true},
		"c-ip":            {field: "source.ip"},
		"dst_ip":          {field: "destination.ip"},
		"src_ip":          {field: "source.ip"},
	}
	firewallFields = map[string]target{
		"src_ip":   {field: "source.ip"},
		"dst_ip":   {field: "destination.ip"},
		"src_port": {field: "source.port", num: true},
		"dst_port": {field: "destination.port", num: true},
	}
	zeekConn = map[string]target{
		"id.orig_h": {field: "source.ip"},
		"id.orig_p": {field: "source.port", num: true},
		"id.resp_h": {field: "destination.ip"},
		"id.resp_p": {field: "destination.port", num: true},
	}
)

var sources = map[string]source{
	"category:dns":                {schemas.DatasetDNS, dnsFields},
	"category:proxy":              {schemas.DatasetHTTP, proxyFields},
	"category:webserver":          {schemas.DatasetHTTP, proxyFields},
	"category:firewall":           {schemas.DatasetFlow, firewallFields},
	"category:network_connection": {schemas.DatasetFlow, firewallFields},
	"zeek:conn":                   {schemas.DatasetFlow, zeekConn},
	"zeek:dns": {schemas.DatasetDNS, with(zeekConn, map[string]target{
		"query":      {field: "dns.question.name"},
		"qtype_name": {field: "dns.question.type"},
		"rcode_name": {field: "dns.response_code"},
		"answers":    {field: "dns.answers", elem: "data"},
	})},
	"zeek:http": {schemas.DatasetHTTP, with(zeekConn, map[string]target{
		"host":        {field: "url.domain"},
		"uri":         {field: "url.original"},
		"method":      {field: "http.request.method"},
		"user_agent":  {field: "user_agent.original"},
		"status_code": {field: "http.response.status_code", num: true},
		"referrer":    {field: "http.request.referrer"},
		// Zeek lists the types it sniffed; PacketSleuth has the declared one
		"resp_mime_types": {field: "http.response.mime_type"},
	})},
	"zeek:dce_rpc": {schemas.DatasetDCERPC, with(zeekConn, map[string]target{
		"endpoint":  {field: "packetsleuth.dcerpc.interface.name"},
		"operation": {field: "packetsleuth.dcerpc.operation"},
	})},
	"zeek:kerberos": {schemas.DatasetKerberos, with(zeekConn, map[string]target{
		"request_type": {field: "packetsleuth.kerberos.request", suffix: "-req"},
		"client":       {field: "packetsleuth.kerberos.client"},
		"service":      {field: "packetsleuth.kerberos.service"},
		"cipher":       {field: "packetsleuth.kerberos.ticket_cipher"},
	})},
	"zeek:rdp": {schemas.DatasetRDP, with(zeekConn, map[string]target{
		"cookie": {field: "packetsleuth.rdp.cookie"},
	})},
	"zeek:x509": {schemas.DatasetTLS, map[string]target{
		"certificate.serial":  {field: "tls.server.x509.serial_number"},
		"certificate.subject": {field: "tls.server.x509.subject.distinguished_name"},
		"certificate.issuer":  {field: "tls.server.x509.issuer.distinguished_name"},
	}},
}

func with(a, b map[string]target) map[string]target {
	m := make(map[string]target, len(a)+len(b))
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}

// tactics maps Sigma's ATT&CK tactic tags to their ids.
var tactics = map[string]struct{ id, name string }{
	"reconnaissance":       {"TA0043", "Reconnaissance"},
	"resource-development": {"TA0042", "Resource Development"},
	"initial-access":       {"TA0001", "Initial Access"},
	"execution":            {"TA0002", "Execution"},
	"persistence":          {"TA0003", "Persistence"},
	"privilege-escalation": {"TA0004", "Privilege Escalation"},
	"defense-evasion":      {"TA0005", "Defense Evasion"},
	"credential-access":    {"TA0006", "Credential Access"},
	"discovery":            {"TA0007", "Discovery"},
	"lateral-movement":     {"TA0008", "Lateral Movement"},
	"collection":           {"TA0009", "Collection"},
	"exfiltration":         {"TA0010", "Exfiltration"},
	"command-and-control":  {"TA0011", "Command and Control"},
	"impact":               {"TA0040", "Impact"},
}
