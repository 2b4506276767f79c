package schemas

import "time"

// DHCP is one DHCPv4 or DHCPv6 message (dataset packetsleuth.dhcp;
// network.protocol dhcp or dhcpv6): ECS has no DHCP fields. A DHCPv6 relay
// message gives the event of the message it relays, with relay_type. One event per message, not per DISCOVER-OFFER-REQUEST-ACK
// exchange: each message is an observation of its own (a second server's
// OFFER is the rogue-server signal; NAK, DECLINE, RELEASE and INFORM stand
// alone), and the messages of one exchange travel between different
// address pairs (0.0.0.0 to broadcast, then server to client), so no flow
// holds them together. They share packetsleuth.dhcp.transaction_id.
type DHCP struct {
	// Message type (option 53): discover, offer, request, decline, ack, nak, release, inform (or its number); bootp without option 53. DHCPv6: solicit, advertise, request, confirm, renew, rebind, reply, release, decline, reconfigure, information-request. Example: offer
	MessageType string `json:"message_type,omitempty" expr:"message_type"`
	// Transaction id chosen by the client (xid; 24 bits in DHCPv6), in hex as tshark shows it. Example: 0x24593b3e
	TransactionID string `json:"transaction_id,omitempty" expr:"transaction_id"`
	// Client hardware address (chaddr), which may differ from the frame's source MAC when a relay forwards the message; DHCPv6: the Ethernet address of a DUID-LLT or DUID-LL client identifier. Example: 90:b1:1c:99:49:29
	ClientMAC string `json:"client_mac,omitempty" expr:"client_mac"`
	// Client's current address (ciaddr), when it has one. Example: 192.168.1.20
	ClientIP string `json:"client_ip,omitempty" expr:"client_ip" es:"ip"`
	// Address the server offers or assigns (yiaddr); DHCPv6: the first IA_NA address. Example: 192.168.0.10
	AssignedIP string `json:"assigned_ip,omitempty" expr:"assigned_ip" es:"ip"`
	// Address the client asks for (option 50). Example: 192.168.1.111
	RequestedIP string `json:"requested_ip,omitempty" expr:"requested_ip" es:"ip"`
	// Server identifier (option 54): the DHCP server that offers, acknowledges, or is chosen. Example: 192.168.0.1
	ServerID string `json:"server_id,omitempty" expr:"server_id" es:"ip"`
	// Relay agent address (giaddr); DHCPv6: the link address of the relay nearest the client. Example: 10.0.0.1
	RelayIP string `json:"relay_ip,omitempty" expr:"relay_ip" es:"ip"`
	// Client host name (option 12). Example: NicksMacBook
	Hostname string `json:"hostname,omitempty" expr:"hostname"`
	// Domain name (option 15). Example: corp.example.com
	Domain string `json:"domain,omitempty" expr:"domain"`
	// Vendor class identifier (option 60; DHCPv6: the first vendor-class-data of option 16). Example: MSFT 5.0
	VendorClass string `json:"vendor_class,omitempty" expr:"vendor_class"`
	// Client identifier (option 61; DHCPv6: the client DUID, option 1), in hex. Example: 0128cfdadc8d76
	ClientID string `json:"client_id,omitempty" expr:"client_id"`
	// DHCP fingerprint: the parameter request list (option 55; DHCPv6: the option request list, option 6) as decimal option codes in the client's order, the form Fingerbank matches operating systems on. Example: 1,3,6,15,119,252
	Fingerprint string `json:"fingerprint,omitempty" expr:"fingerprint"`
	// Lease time granted or asked for, in seconds (option 51); DHCPv6: the valid lifetime of the first IA_NA address, else of the first delegated prefix. Example: 86400
	LeaseTime int64 `json:"lease_time,omitempty" expr:"lease_time"`
	// Subnet mask (option 1). Example: 255.255.255.0
	SubnetMask string `json:"subnet_mask,omitempty" expr:"subnet_mask"`
	// First router (option 3). Example: 192.168.0.1
	Router string `json:"router,omitempty" expr:"router" es:"ip"`
	// Options continued in the file and/or sname fields (option 52), which were read too. Example: true
	Overloaded bool `json:"overloaded,omitempty" expr:"overloaded"`
	// DHCPv6: type of the client DUID (llt, en, ll, uuid). Example: llt
	DUIDType string `json:"duid_type,omitempty" expr:"duid_type"`
	// DHCPv6: the server DUID (option 2), in hex. Example: 000100012a3b4c5d90b11c994929
	ServerDUID string `json:"server_duid,omitempty" expr:"server_duid"`
	// DHCPv6: identity association id of the first IA_NA (else IA_PD), in hex as tshark shows it. Example: 0e000c29
	IAID string `json:"iaid,omitempty" expr:"iaid"`
	// DHCPv6: T1 of that IA, in seconds: when the client renews. Example: 1800
	RenewTime int64 `json:"renew_time,omitempty" expr:"renew_time"`
	// DHCPv6: T2 of that IA, in seconds: when the client rebinds. Example: 2880
	RebindTime int64 `json:"rebind_time,omitempty" expr:"rebind_time"`
	// DHCPv6: preferred lifetime of the first IA_NA address (else delegated prefix), in seconds. Example: 3600
	PreferredLifetime int64 `json:"preferred_lifetime,omitempty" expr:"preferred_lifetime"`
	// DHCPv6: IA_NA addresses in the message (the first is assigned_ip; every one is in related.ip). Example: 1
	AddressCount int64 `json:"address_count,omitempty" expr:"address_count"`
	// DHCPv6: the first prefix delegated (IA_PD). Example: 2001:db8:ff00::/56
	DelegatedPrefix string `json:"delegated_prefix,omitempty" expr:"delegated_prefix"`
	// DHCPv6: the client FQDN (option 39). Example: ws42.corp.example
	FQDN string `json:"fqdn,omitempty" expr:"fqdn"`
	// DHCPv6: status code of the message, else of its first IA (Success, NoAddrsAvail, NoBinding, NotOnLink, UseMulticast, NoPrefixAvail, or the number). Example: NoAddrsAvail
	Status string `json:"status,omitempty" expr:"status"`
	// DHCPv6: the relay message that carried this one (relay-forw, relay-repl). Example: relay-forw
	RelayType string `json:"relay_type,omitempty" expr:"relay_type"`
	// DHCPv6: relay messages around this one. Example: 1
	RelayHops int64 `json:"relay_hops,omitempty" expr:"relay_hops"`
	// DHCPv6: the client's address as the nearest relay saw it (peer-address). Example: fe80::9ab1:1cff:fe99:4929
	RelayPeerIP string    `json:"relay_peer_ip,omitempty" expr:"relay_peer_ip" es:"ip"`
	Lease       DHCPLease `json:"lease,omitzero" expr:"lease"`
}

// DHCPLease is what the sensor's host table (sensor/hosts) took from a
// message that grants or ends a lease: the client's name may come from an
// earlier message of the same client (the REQUEST names it, the ACK often
// does not). Stores keep it as their hosts table.
type DHCPLease struct {
	// assigned (a DHCPv4 ACK or DHCPv6 REPLY gave the address), released (RELEASE, DECLINE, a DHCPv6 REPLY with valid lifetime 0) or ignored (an answer from a sender not in hosts.servers). Example: assigned
	Action string `json:"action,omitempty" expr:"action"`
	// The leased address. Example: 192.168.0.10
	IP string `json:"ip,omitempty" expr:"ip" es:"ip"`
	// The client's MAC (chaddr, or of its DUID), in ECS notation. Example: 90-B1-1C-99-49-29
	MAC string `json:"mac,omitempty" expr:"mac"`
	// The client's host name (DHCPv4 option 12) or FQDN (DHCPv6 option 39), from this message or the client's last one that named it. Example: ws42.corp.example
	Hostname string `json:"hostname,omitempty" expr:"hostname"`
	// When the lease ends (packet time plus the lease time); absent for an infinite lease. Example: 2026-12-06T19:00:00Z
	End time.Time `json:"end,omitzero" expr:"end"`
}
