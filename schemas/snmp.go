package schemas

// SNMP is one SNMP message (dataset packetsleuth.snmp): ECS has no SNMP
// fields. One event per message. The community string is a password: it
// is never stored, only whether there is one, its length, and whether it
// is a well-known default (public, private, cisco…), which is what rules
// need. (A hash would not protect a short, guessable string.)
type SNMP struct {
	// Version: 1, 2c or 3. Example: 2c
	Version string `json:"version,omitempty" expr:"version"`
	// A community string came (v1/v2c). Example: true
	CommunityPresent bool `json:"community_present,omitempty" expr:"community_present"`
	// The community is a well-known default (public, private, cisco, manager…). Example: true
	CommunityDefault bool `json:"community_default,omitempty" expr:"community_default"`
	// Length of the community string. Example: 6
	CommunityLength int `json:"community_length,omitempty" expr:"community_length"`
	// v3 USM user name (also related.user). Example: monitor
	User string `json:"user,omitempty" expr:"user"`
	// v3 message with privacy: the PDU is encrypted. Example: false
	Encrypted bool `json:"encrypted,omitempty" expr:"encrypted"`
	// PDU type: get_request, get_next_request, response, set_request, trap, get_bulk_request, inform_request, snmpv2_trap, report. Example: get_request
	PDUType string `json:"pdu_type,omitempty" expr:"pdu_type"`
	// Request id. Example: 1804289383
	RequestID int64 `json:"request_id,omitempty" expr:"request_id"`
	// Error status of a response (0 noError, 2 noSuchName, 16 authorizationError…). Example: 0
	ErrorStatus int `json:"error_status,omitempty" expr:"error_status"`
	// OIDs of the variable bindings, in order (at most 16). Example: ["1.3.6.1.2.1.1.5.0"]
	OIDs []string `json:"oids,omitempty" expr:"oids"`
	// Variable bindings past the 16 OIDs kept. Example: 0
	OIDsMore int `json:"oids_more,omitempty" expr:"oids_more"`
}
