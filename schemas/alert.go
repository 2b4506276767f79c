package schemas

// Rule is ECS `rule.*`: the detection rule behind an alert.
type Rule struct {
	// Rule ID. Example: ps-dns-tunnel-001
	ID string `json:"id,omitempty" expr:"id"`
	// Rule UUID. Example: 8f2d7c1e-4b1a-4d6e-9c3f-2a5b6c7d8e9f
	UUID string `json:"uuid,omitempty" expr:"uuid"`
	// Rule name. Example: DNS tunnelling: long query names
	Name string `json:"name,omitempty" expr:"name"`
	// Rule description. Example: A query name longer than 100 characters or with high label entropy.
	Description string `json:"description,omitempty" expr:"description"`
	// Rule category. Example: Command and Control
	Category string `json:"category,omitempty" expr:"category"`
	// Rule ruleset. Example: stable
	Ruleset string `json:"ruleset,omitempty" expr:"ruleset"`
	// Rule version. Example: 1
	Version string `json:"version,omitempty" expr:"version"`
	// Rule reference URL. Example: https://attack.mitre.org/techniques/T1071/004/
	Reference string `json:"reference,omitempty" expr:"reference"`
	// Rule author. Example: PacketSleuth
	Author []string `json:"author,omitempty" expr:"author"`
	// Rule license. Example: Apache-2.0
	License string `json:"license,omitempty" expr:"license"`
}

// Threat is ECS `threat.*`: the ATT&CK mapping of an alert and any
// threat-intel matches of an event.
type Threat struct {
	// Threat classification framework. Example: MITRE ATT&CK
	Framework   string             `json:"framework,omitempty" expr:"framework"`
	Tactic      ThreatRef          `json:"tactic,omitzero" expr:"tactic"`
	Technique   ThreatRef          `json:"technique,omitzero" expr:"technique"`
	Enrichments []ThreatEnrichment `json:"enrichments,omitempty" expr:"enrichments" es:"nested"`
}

// ThreatRef lists ATT&CK ids and names (ECS keeps them as parallel arrays).
type ThreatRef struct {
	// ATT&CK ids (tactics or techniques). Example: TA0011
	ID []string `json:"id,omitempty" expr:"id"`
	// ATT&CK names, parallel to the ids. Example: Command and Control
	Name []string `json:"name,omitempty" expr:"name"`
	// ATT&CK URLs, parallel to the ids. Example: https://attack.mitre.org/tactics/TA0011/
	Reference []string `json:"reference,omitempty" expr:"reference"`
}

// ThreatEnrichment is one element of ECS `threat.enrichments`: an indicator
// from a threat-intel list that matched a field of the event.
type ThreatEnrichment struct {
	Indicator ThreatIndicator `json:"indicator" expr:"indicator"`
	Matched   ThreatMatched   `json:"matched" expr:"matched"`
}

// ThreatIndicator is ECS `threat.enrichments.indicator.*` (the subset a list
// can carry).
type ThreatIndicator struct {
	// Type of indicator. Example: ipv4-addr
	Type string `json:"type,omitempty" expr:"type"`
	// Indicator IP address. Example: 192.0.2.66
	IP  string `json:"ip,omitempty" expr:"ip" es:"ip"`
	URL struct {
		// Unmodified original url as seen in the event source. Example: http://evil.example/payload
		Original string `json:"original,omitempty" expr:"original" es:"wildcard,text"`
		// Domain of the url. Example: evil.example
		Domain string `json:"domain,omitempty" expr:"domain"`
	} `json:"url,omitzero" expr:"url"`
	// Indicator description. Example: Feodo Tracker botnet C2
	Description string `json:"description,omitempty" expr:"description"`
	// Indicator provider. Example: blocklist.txt
	Provider string `json:"provider,omitempty" expr:"provider"`
	// Indicator confidence rating. Example: High
	Confidence string `json:"confidence,omitempty" expr:"confidence"`
	Marking    struct {
		// Indicator TLP marking. Example: AMBER
		TLP string `json:"tlp,omitempty" expr:"tlp"`
	} `json:"marking,omitzero" expr:"marking"`
}

// ThreatMatched is ECS `threat.enrichments.matched.*`.
type ThreatMatched struct {
	// Matched indicator value. Example: 192.0.2.66
	Atomic string `json:"atomic,omitempty" expr:"atomic"`
	// Matched indicator field. Example: destination.ip
	Field string `json:"field,omitempty" expr:"field"`
	// Type of indicator match. Example: indicator_match_rule
	Type string `json:"type,omitempty" expr:"type"`
}
