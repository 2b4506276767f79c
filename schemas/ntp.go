package schemas

// NTP is one NTP message (dataset packetsleuth.ntp): ECS has no NTP
// fields. One event per message, as Zeek's ntp.log.
type NTP struct {
	// Protocol version (1-4). Example: 4
	Version int `json:"version,omitempty" expr:"version"`
	// Mode: symmetric_active, symmetric_passive, client, server, broadcast, control (6), private (7). Example: client
	Mode string `json:"mode,omitempty" expr:"mode"`
	// Mode as its number. Example: 3
	ModeCode int `json:"mode_code,omitempty" expr:"mode_code"`
	// Stratum (modes 1-5): 0 unspecified or kiss-o'-death, 1 primary, 2-15 secondary, 16 unsynchronised. Example: 2
	Stratum int `json:"stratum" expr:"stratum"`
	// Poll interval exponent (log2 seconds). Example: 6
	Poll int `json:"poll,omitempty" expr:"poll"`
	// Reference id: a clock source for stratum 0-1 (GPS, a kiss code), else an IPv4 address (or IPv6 hash) in dotted form. Example: GPS
	ReferenceID string `json:"reference_id,omitempty" expr:"reference_id"`
	// Mode 6 or 7 (control or private): management queries, used for reconnaissance and, with monlist, amplification. Example: true
	Control bool `json:"control,omitempty" expr:"control"`
	// Mode 6 opcode or mode 7 request code, by name when known (readvar, mon_getlist_1) else its number. Example: mon_getlist_1
	Opcode string `json:"opcode,omitempty" expr:"opcode"`
	// A mode 6/7 message is a response. Example: false
	Response bool `json:"response,omitempty" expr:"response"`
	// Bytes after the 48-byte header (extension fields and a MAC). Example: 20
	TrailerBytes int `json:"trailer_bytes,omitempty" expr:"trailer_bytes"`
}
