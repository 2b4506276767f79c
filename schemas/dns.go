package schemas

// DNS is ECS `dns.*`, one per DNS transaction.
type DNS struct {
	// The DNS packet identifier assigned by the program that generated the query. The identifier is copied to the response. Example: 4660
	ID string `json:"id,omitempty" expr:"id"`
	// The DNS operation code that specifies the kind of query in the message. Example: QUERY
	OpCode string `json:"op_code,omitempty" expr:"op_code"`
	// Array of DNS header flags. Example: RD
	HeaderFlags []string `json:"header_flags,omitempty" expr:"header_flags"`
	// The DNS response code. Example: NOERROR
	ResponseCode string `json:"response_code,omitempty" expr:"response_code"`
	// The type of DNS event captured, query or answer. Example: answer
	Type     string      `json:"type,omitempty" expr:"type"`
	Question DNSQuestion `json:"question,omitzero" expr:"question"`
	Answers  []DNSAnswer `json:"answers,omitempty" expr:"answers"`
	// Array containing all IPs seen in answers.data. Example: 93.184.216.34
	ResolvedIP []string `json:"resolved_ip,omitempty" expr:"resolved_ip" es:"ip"`
}

// DNSQuestion is ECS `dns.question.*`.
type DNSQuestion struct {
	// The name being queried. Example: www.example.com
	Name string `json:"name,omitempty" expr:"name"`
	// The type of record being queried. Example: A
	Type string `json:"type,omitempty" expr:"type"`
	// The class of records being queried. Example: IN
	Class string `json:"class,omitempty" expr:"class"`
	// The highest registered domain, stripped of the subdomain. Example: example.com
	RegisteredDomain string `json:"registered_domain,omitempty" expr:"registered_domain"`
	// The subdomain of the domain. Example: www
	Subdomain string `json:"subdomain,omitempty" expr:"subdomain"`
	// The effective top level domain (com, org, net, co.uk). Example: com
	TopLevelDomain string `json:"top_level_domain,omitempty" expr:"top_level_domain"`
}

// DNSAnswer is one element of ECS `dns.answers`.
type DNSAnswer struct {
	// The domain name to which this resource record pertains. Example: www.example.com
	Name string `json:"name,omitempty" expr:"name"`
	// The type of data contained in this resource record. Example: CNAME
	Type string `json:"type,omitempty" expr:"type"`
	// The class of DNS data contained in this resource record. Example: IN
	Class string `json:"class,omitempty" expr:"class"`
	// The time interval in seconds that this resource record may be cached before it should be discarded. Example: 180
	TTL int64 `json:"ttl" expr:"ttl"`
	// The data describing the resource. Example: 93.184.216.34
	Data string `json:"data,omitempty" expr:"data"`
}
