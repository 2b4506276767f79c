package schemas

// DatasetDCERPC holds DCE/RPC calls.
const DatasetDCERPC = "packetsleuth.dcerpc"

// DCERPC is one connection-oriented DCE/RPC call (dataset
// packetsleuth.dcerpc): a bind or alter_context with its answer, or a
// request with its response or fault, over TCP or an SMB named pipe.
// ECS has no RPC fields; event.action is the operation (or bind /
// alter_context) and event.outcome says whether it was accepted.
type DCERPC struct {
	// Kind of call: bind, alter_context or request. Example: request
	Kind string `json:"kind" expr:"kind"`
	// Call identifier (matches the request to its answer). Example: 2
	CallID int64 `json:"call_id" expr:"call_id"`
	// Interface of the request's presentation context, from the bind that set it up.
	Interface DCERPCInterface `json:"interface,omitzero" expr:"interface"`
	// Operation number of the request. Example: 3
	Opnum int `json:"opnum,omitempty" expr:"opnum"`
	// Operation name, for the well-known interfaces. Example: DRSGetNCChanges
	Operation string `json:"operation,omitempty" expr:"operation"`
	// Presentation context id of the request. Example: 0
	ContextID int `json:"context_id,omitempty" expr:"context_id"`
	// Presentation contexts a bind or alter_context offered, with the server's results.
	Contexts []DCERPCContext `json:"contexts,omitempty" expr:"contexts"`
	// Fragments of the request. Example: 1
	RequestFragments int `json:"request_fragments,omitempty" expr:"request_fragments"`
	// Fragments of the answer. Example: 1
	ResponseFragments int `json:"response_fragments,omitempty" expr:"response_fragments"`
	// Stub bytes of the request (with the authentication padding). Example: 148
	RequestBytes int64 `json:"request_bytes,omitempty" expr:"request_bytes"`
	// Stub bytes of the answer. Example: 1024
	ResponseBytes int64 `json:"response_bytes,omitempty" expr:"response_bytes"`
	// The server answered (a response, fault, bind_ack or bind_nak). Example: true
	Answered bool `json:"answered" expr:"answered"`
	// Status of a fault answer, hex. Example: 0x00000005
	FaultStatus string `json:"fault_status,omitempty" expr:"fault_status"`
	// Authentication of the call's trailer: ntlmssp, spnego, kerberos, netlogon, or the number. Example: ntlmssp
	AuthType string `json:"auth_type,omitempty" expr:"auth_type"`
	// Authentication level: connect, call, pkt, integrity, privacy. Example: privacy
	AuthLevel string `json:"auth_level,omitempty" expr:"auth_level"`
	// Kerberos AP exchange of the connection's auth trailers (Kerberos or SPNEGO binds); the client's name is encrypted.
	Kerberos KerberosAP `json:"kerberos,omitzero" expr:"kerberos"`
	// Endpoints an endpoint mapper answer announced.
	Endpoints []DCERPCEndpoint `json:"endpoints,omitempty" expr:"endpoints"`
	// Named pipe that carried the call over SMB. Example: \PIPE\svcctl
	Pipe string `json:"pipe,omitempty" expr:"pipe"`
}

// DCERPCInterface names an RPC interface.
type DCERPCInterface struct {
	// Interface UUID. Example: e3514235-4b06-11d1-ab04-00c04fc2dcd2
	UUID string `json:"uuid,omitempty" expr:"uuid"`
	// Well-known interface name. Example: drsuapi
	Name string `json:"name,omitempty" expr:"name"`
	// Interface version major.minor. Example: 4.0
	Version string `json:"version,omitempty" expr:"version"`
}

// DCERPCContext is one presentation context of a bind.
type DCERPCContext struct {
	// Context id. Example: 0
	ID int `json:"id" expr:"id"`
	// Interface UUID. Example: 367abb81-9844-35f1-ad32-98f038001003
	UUID string `json:"uuid,omitempty" expr:"uuid"`
	// Well-known interface name. Example: svcctl
	Name string `json:"name,omitempty" expr:"name"`
	// Interface version. Example: 2.0
	Version string `json:"version,omitempty" expr:"version"`
	// Server's result: acceptance, user_rejection, provider_rejection, negotiate_ack. Example: acceptance
	Result string `json:"result,omitempty" expr:"result"`
}

// DCERPCEndpoint is an endpoint the endpoint mapper announced.
type DCERPCEndpoint struct {
	// Interface UUID served there. Example: e3514235-4b06-11d1-ab04-00c04fc2dcd2
	UUID string `json:"uuid,omitempty" expr:"uuid"`
	// Well-known interface name. Example: drsuapi
	Name string `json:"name,omitempty" expr:"name"`
	// Transport: tcp or http. Example: tcp
	Transport string `json:"transport" expr:"transport"`
	// Address announced, when the tower names one. Example: 192.168.0.2
	IP string `json:"ip,omitempty" expr:"ip" es:"ip"`
	// Port announced. Example: 49667
	Port int `json:"port" expr:"port"`
}
