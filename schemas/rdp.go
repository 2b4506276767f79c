package schemas

// RDP is the clear-text start of an RDP connection (dataset
// packetsleuth.rdp): ECS has no RDP fields. The routing cookie's user
// name is also in related.user. When TLS, CredSSP or RDSTLS is selected,
// the TLS handshake that follows gives its own packetsleuth.tls event
// (certificate, JA3, JA4) on the same flow.
type RDP struct {
	// User name of the routing cookie (Cookie: mstshash=NAME), as sent: clients truncate it and may pad it with spaces. Example: JOHN-PC
	Cookie string `json:"cookie,omitempty" expr:"cookie"`
	// A routing token that is not an mstshash cookie (a load balancer's msts= token). Example: msts=3640205228.15629.0000
	RoutingToken string `json:"routing_token,omitempty" expr:"routing_token"`
	// Security protocols the client offers (RDP_NEG_REQ): rdp (standard RDP security, no bit), tls, credssp, rdstls, credssp_early_user_auth, rdsaad. Example: ["tls", "credssp"]
	RequestedProtocols []string `json:"requested_protocols,omitempty" expr:"requested_protocols"`
	// Security protocol the server selects (RDP_NEG_RSP); rdp when the server answers without a negotiation response. Example: credssp
	SelectedProtocol string `json:"selected_protocol,omitempty" expr:"selected_protocol"`
	// Why the server refused the negotiation (RDP_NEG_FAILURE). Example: ssl_not_allowed_by_server
	NegotiationFailure string `json:"negotiation_failure,omitempty" expr:"negotiation_failure"`
	// The rest of the connection is TLS and is inspected as such (its own packetsleuth.tls event). Example: true
	TLS bool `json:"tls,omitempty" expr:"tls"`
	// Client computer name (standard RDP security only: client core data). Example: FROG-POND
	ClientName string `json:"client_name,omitempty" expr:"client_name"`
	// Client build number. Example: 9600
	ClientBuild int64 `json:"client_build,omitempty" expr:"client_build"`
	// Keyboard layout (Windows LCID). Example: 1033
	KeyboardLayout int64 `json:"keyboard_layout,omitempty" expr:"keyboard_layout"`
	// Requested desktop width in pixels. Example: 1920
	DesktopWidth int64 `json:"desktop_width,omitempty" expr:"desktop_width"`
	// Requested desktop height in pixels. Example: 1080
	DesktopHeight int64 `json:"desktop_height,omitempty" expr:"desktop_height"`
	// Encryption method the server chose under standard RDP security: none, 40bit, 128bit, 56bit, fips. Example: 128bit
	EncryptionMethod string `json:"encryption_method,omitempty" expr:"encryption_method"`
	// Encryption level under standard RDP security: none, low, client_compatible, high, fips. Example: client_compatible
	EncryptionLevel string `json:"encryption_level,omitempty" expr:"encryption_level"`
}
