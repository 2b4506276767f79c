package schemas

// DNS is ECS `dns.*`, one per DNS transaction.
type DNS struct {
	ID           string      `json:"id,omitempty" expr:"id"`
	OpCode       string      `json:"op_code,omitempty" expr:"op_code"`
	HeaderFlags  []string    `json:"header_flags,omitempty" expr:"header_flags"`
	ResponseCode string      `json:"response_code,omitempty" expr:"response_code"`
	Type         string      `json:"type,omitempty" expr:"type"`
	Question     DNSQuestion `json:"question,omitzero" expr:"question"`
	Answers      []DNSAnswer `json:"answers,omitempty" expr:"answers"`
	ResolvedIP   []string    `json:"resolved_ip,omitempty" expr:"resolved_ip"`
}

// DNSQuestion is ECS `dns.question.*`.
type DNSQuestion struct {
	Name             string `json:"name,omitempty" expr:"name"`
	Type             string `json:"type,omitempty" expr:"type"`
	Class            string `json:"class,omitempty" expr:"class"`
	RegisteredDomain string `json:"registered_domain,omitempty" expr:"registered_domain"`
	Subdomain        string `json:"subdomain,omitempty" expr:"subdomain"`
	TopLevelDomain   string `json:"top_level_domain,omitempty" expr:"top_level_domain"`
}

// DNSAnswer is one element of ECS `dns.answers`.
type DNSAnswer struct {
	Name  string `json:"name,omitempty" expr:"name"`
	Type  string `json:"type,omitempty" expr:"type"`
	Class string `json:"class,omitempty" expr:"class"`
	TTL   int64  `json:"ttl" expr:"ttl"`
	Data  string `json:"data,omitempty" expr:"data"`
}
