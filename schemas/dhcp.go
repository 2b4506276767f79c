package schemas

// DHCP is one DHCPv4 message (dataset packetsleuth.dhcp): ECS has no DHCP
// fields. One event per message, not per DISCOVER-OFFER-REQUEST-ACK
// exchange: each message is an observation of its own (a second server's
// OFFER is the rogue-server signal; NAK, DECLINE, RELEASE and INFORM stand
// alone), and the messages of one exchange travel between different
// address pairs (0.0.0.0 to broadcast, then server to client), so no flow
// holds them together. They share packetsleuth.dhcp.transaction_id.
type DHCP struct {
	// Message type (option 53): discover, offer, request, decline, ack, nak, release, inform (or its number); bootp without option 53. Example: offer
	MessageType string `json:"message_type,omitempty" expr:"message_type"`
	// Transaction id chosen by the client (xid), in hex as tshark shows it. Example: 0x24593b3e
	TransactionID string `json:"transaction_id,omitempty" expr:"transaction_id"`
	// Client hardware address (chaddr), which may differ from the frame's source MAC when a relay forwards the message. Example: 90:b1:1c:99:49:29
	ClientMAC string `json:"client_mac,omitempty" expr:"client_mac"`
	// Client's current address (ciaddr), when it has one. Example: 192.168.1.20
	ClientIP string `json:"client_ip,omitempty" expr:"client_ip" es:"ip"`
	// Address the server offers or assigns (yiaddr). Example: 192.168.0.10
	AssignedIP string `json:"assigned_ip,omitempty" expr:"assigned_ip" es:"ip"`
	// Address the client asks for (option 50). Example: 192.168.1.111
	RequestedIP string `json:"requested_ip,omitempty" expr:"requested_ip" es:"ip"`
	// Server identifier (option 54): the DHCP server that offers, acknowledges, or is chosen. Example: 192.168.0.1
	ServerID string `json:"server_id,omitempty" expr:"server_id" es:"ip"`
	// Relay agent address (giaddr). Example: 10.0.0.1
	RelayIP string `json:"relay_ip,omitempty" expr:"relay_ip" es:"ip"`
	// Client host name (option 12). Example: NicksMacBook
	Hostname string `json:"hostname,omitempty" expr:"hostname"`
	// Domain name (option 15). Example: corp.example.com
	Domain string `json:"domain,omitempty" expr:"domain"`
	// Vendor class identifier (option 60). Example: MSFT 5.0
	VendorClass string `json:"vendor_class,omitempty" expr:"vendor_class"`
	// Client identifier (option 61), in hex. Example: 0128cfdadc8d76
	ClientID string `json:"client_id,omitempty" expr:"client_id"`
	// DHCP fingerprint: the parameter request list (option 55) as decimal option codes in the client's order, the form Fingerbank matches operating systems on. Example: 1,3,6,15,119,252
	Fingerprint string `json:"fingerprint,omitempty" expr:"fingerprint"`
	// Lease time granted or asked for, in seconds (option 51). Example: 86400
	LeaseTime int64 `json:"lease_time,omitempty" expr:"lease_time"`
	// Subnet mask (option 1). Example: 255.255.255.0
	SubnetMask string `json:"subnet_mask,omitempty" expr:"subnet_mask"`
	// First router (option 3). Example: 192.168.0.1
	Router string `json:"router,omitempty" expr:"router" es:"ip"`
	// Options continued in the file and/or sname fields (option 52), which were read too. Example: true
	Overloaded bool `json:"overloaded,omitempty" expr:"overloaded"`
}
