package schemas

// Rule is ECS `rule.*`: the detection rule behind an alert.
type Rule struct {
	ID          string   `json:"id,omitempty" expr:"id"`
	UUID        string   `json:"uuid,omitempty" expr:"uuid"`
	Name        string   `json:"name,omitempty" expr:"name"`
	Description string   `json:"description,omitempty" expr:"description"`
	Category    string   `json:"category,omitempty" expr:"category"`
	Ruleset     string   `json:"ruleset,omitempty" expr:"ruleset"`
	Version     string   `json:"version,omitempty" expr:"version"`
	Reference   string   `json:"reference,omitempty" expr:"reference"`
	Author      []string `json:"author,omitempty" expr:"author"`
	License     string   `json:"license,omitempty" expr:"license"`
}

// Threat is ECS `threat.*`: the ATT&CK mapping of an alert and any
// threat-intel matches of an event.
type Threat struct {
	Framework   string             `json:"framework,omitempty" expr:"framework"`
	Tactic      ThreatRef          `json:"tactic,omitzero" expr:"tactic"`
	Technique   ThreatRef          `json:"technique,omitzero" expr:"technique"`
	Enrichments []ThreatEnrichment `json:"enrichments,omitempty" expr:"enrichments"`
}

// ThreatRef lists ATT&CK ids and names (ECS keeps them as parallel arrays).
type ThreatRef struct {
	ID        []string `json:"id,omitempty" expr:"id"`
	Name      []string `json:"name,omitempty" expr:"name"`
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
	Type string `json:"type,omitempty" expr:"type"`
	IP   string `json:"ip,omitempty" expr:"ip"`
	URL  struct {
		Original string `json:"original,omitempty" expr:"original"`
		Domain   string `json:"domain,omitempty" expr:"domain"`
	} `json:"url,omitzero" expr:"url"`
	Description string `json:"description,omitempty" expr:"description"`
	Provider    string `json:"provider,omitempty" expr:"provider"`
	Confidence  string `json:"confidence,omitempty" expr:"confidence"`
	Marking     struct {
		TLP string `json:"tlp,omitempty" expr:"tlp"`
	} `json:"marking,omitzero" expr:"marking"`
}

// ThreatMatched is ECS `threat.enrichments.matched.*`.
type ThreatMatched struct {
	Atomic string `json:"atomic,omitempty" expr:"atomic"`
	Field  string `json:"field,omitempty" expr:"field"`
	Type   string `json:"type,omitempty" expr:"type"`
}
