package schemas

// DatasetKerberos holds Kerberos exchanges.
const DatasetKerberos = "packetsleuth.kerberos"

// Kerberos is one Kerberos exchange with a KDC (dataset
// packetsleuth.kerberos): a request (AS-REQ or TGS-REQ) and its answer
// (AS-REP, TGS-REP or KRB-ERROR), or one of them alone. ECS has no
// Kerberos fields; the client principal is also in related.user. Nothing
// encrypted (tickets, enc-parts, pre-authentication data) is reported.
type Kerberos struct {
	// Request message: AS-REQ or TGS-REQ; empty when only the answer was seen. Example: TGS-REQ
	Request string `json:"request,omitempty" expr:"request"`
	// Answer message: AS-REP, TGS-REP or KRB-ERROR; empty when none came. Example: KRB-ERROR
	Response string `json:"response,omitempty" expr:"response"`
	// Client principal name (cname), from the request or, for a TGS exchange, the answer; components joined as in service. Example: robin
	ClientName string `json:"client_name,omitempty" expr:"client_name"`
	// Client realm (the answer's crealm, else the request's realm). Example: CYLERA.LAB
	ClientRealm string `json:"client_realm,omitempty" expr:"client_realm"`
	// Client principal as cname@realm (RFC 1964: an "@" inside the name escaped with "\" too). Example: robin@CYLERA.LAB
	Client string `json:"client,omitempty" expr:"client"`
	// Service principal name (sname), components joined with "/" (a "/" or "\" inside one escaped with "\", RFC 1964). Example: http/1027814774sa
	Service string `json:"service,omitempty" expr:"service"`
	// Realm of the service (the request's realm). Example: CYLERA.LAB
	Realm string `json:"realm,omitempty" expr:"realm"`
	// Encryption types the client asked for, in its order (RFC 3961 numbers; 23 is RC4-HMAC, 17/18 AES128/256). Example: [18, 23]
	RequestedEtypes []int `json:"requested_etypes,omitempty" expr:"requested_etypes"`
	// Encryption type of the ticket the KDC returned. Example: 23
	TicketEtype int `json:"ticket_etype,omitempty" expr:"ticket_etype"`
	// Name of the ticket's encryption type. Example: rc4-hmac
	TicketCipher string `json:"ticket_cipher,omitempty" expr:"ticket_cipher"`
	// Encryption type of the answer's enc-part (the client's key for an AS-REP). Example: 18
	ReplyEtype int `json:"reply_etype,omitempty" expr:"reply_etype"`
	// KRB-ERROR code (RFC 4120 §7.5.9). Example: 24
	ErrorCode int `json:"error_code,omitempty" expr:"error_code"`
	// KRB-ERROR name. Example: KDC_ERR_PREAUTH_FAILED
	ErrorName string `json:"error_name,omitempty" expr:"error_name"`
	// KDC options the request set. Example: [forwardable, renewable, canonicalize]
	KDCOptions []string `json:"kdc_options,omitempty" expr:"kdc_options"`
	// Pre-authentication data types the request carried (2 PA-ENC-TIMESTAMP, 1 PA-TGS-REQ, 16 PA-PK-AS-REQ, 128 PA-PAC-REQUEST). Example: [2, 128]
	PADataTypes []int `json:"pa_data_types,omitempty" expr:"pa_data_types"`
	// The request carried encrypted-timestamp or PKINIT pre-authentication. Example: true
	PreAuth bool `json:"preauth" expr:"preauth"`
	// Ticket end time the client asked for (till). Example: 2037-09-13T02:48:05Z
	Till string `json:"till,omitempty" expr:"till" es:"date"`
	// Renewal end time the client asked for (rtime). Example: 2037-09-13T02:48:05Z
	RenewTill string `json:"renew_till,omitempty" expr:"renew_till" es:"date"`
	// Start time the client asked for (from, for a postdated ticket). Example: 2026-11-24T10:00:00Z
	From string `json:"from,omitempty" expr:"from" es:"date"`
}

// KerberosAP is a Kerberos AP exchange inside another protocol (an SMB
// session setup, a DCE/RPC connection's auth trailers): what the client's
// AP-REQ shows in the clear and the server's answer. The client's name
// and realm are in the AP-REQ's encrypted authenticator: not visible.
type KerberosAP struct {
	// Service principal of the ticket, components joined with "/" (a "/" or "\" inside one escaped with "\", RFC 1964). Example: cifs/dc1.contoso.local
	Service string `json:"service,omitempty" expr:"service"`
	// Realm of the ticket (the service's realm; the client's may differ). Example: CONTOSO.LOCAL
	Realm string `json:"realm,omitempty" expr:"realm"`
	// Encryption type of the ticket (RFC 3961 number; 23 is RC4-HMAC). Example: 18
	TicketEtype int `json:"ticket_etype,omitempty" expr:"ticket_etype"`
	// Name of the ticket's encryption type. Example: aes256-cts-hmac-sha1-96
	TicketCipher string `json:"ticket_cipher,omitempty" expr:"ticket_cipher"`
	// Encryption type of the AP-REQ's authenticator. Example: 18
	AuthenticatorEtype int `json:"authenticator_etype,omitempty" expr:"authenticator_etype"`
	// AP options the client set: use-session-key, mutual-required. Example: ["mutual-required"]
	APOptions []string `json:"ap_options,omitempty" expr:"ap_options"`
	// The server's answer: AP-REP (mutual authentication) or KRB-ERROR. Example: AP-REP
	Response string `json:"response,omitempty" expr:"response"`
	// KRB-ERROR code of the answer. Example: 37
	ErrorCode int `json:"error_code,omitempty" expr:"error_code"`
	// KRB-ERROR name of the answer. Example: KRB_AP_ERR_SKEW
	ErrorName string `json:"error_name,omitempty" expr:"error_name"`
}
