package schemas

// SMB is what an SMB connection showed (dataset packetsleuth.smb). One
// event per session setup (action session_setup), tree connect
// (tree_connect), file or pipe open until its close (file), connection
// that spoke SMB1 (smb1) and session that sent SMB3 encrypted messages
// (encrypted). The connection's negotiated dialect and signing are on
// each.
type SMB struct {
	// What the event is about: session_setup, tree_connect, file, smb1 or encrypted. Example: file
	Action string `json:"action,omitempty" expr:"action"`
	// SMB dialect the server chose (2.0.2, 2.1, 3.0, 3.0.2, 3.1.1; 2.??? answering an SMB1 negotiate; 1 for SMB1). Example: 3.1.1
	Dialect string `json:"dialect,omitempty" expr:"dialect"`
	// The server's negotiate response said signing is enabled. Example: true
	SigningEnabled bool `json:"signing_enabled,omitempty" expr:"signing_enabled"`
	// The server's negotiate response said signing is required. Example: false
	SigningRequired bool `json:"signing_required,omitempty" expr:"signing_required"`
	// The server can encrypt (SMB 3 encryption capability or a 3.1.1 encryption context). Example: true
	EncryptionCapable bool `json:"encryption_capable,omitempty" expr:"encryption_capable"`
	// Cipher of the server's 3.1.1 encryption context. Example: AES-128-GCM
	Cipher string `json:"cipher,omitempty" expr:"cipher"`
	// NTSTATUS of the server's answer (session setup, tree connect, create), in hex. Example: 0xc000006d
	Status string `json:"status,omitempty" expr:"status"`
	// Name of the NTSTATUS, for the common ones. Example: STATUS_LOGON_FAILURE
	StatusName string `json:"status_name,omitempty" expr:"status_name"`
	// SMB2 session id, in hex. Example: 0x0000040000000005
	SessionID string `json:"session_id,omitempty" expr:"session_id"`
	// Authentication mechanism of the session setup: ntlm or kerberos (empty when the setup was not seen). Example: ntlm
	AuthMechanism string `json:"auth_mechanism,omitempty" expr:"auth_mechanism"`
	// Kerberos AP exchange of the session setup (the ticket's service and realm on every event of the session; the client's name is encrypted).
	Kerberos KerberosAP `json:"kerberos,omitzero" expr:"kerberos"`
	// The server logged the session on as guest. Example: false
	Guest bool `json:"guest,omitempty" expr:"guest"`
	// Anonymous (null) session. Example: false
	Anonymous bool `json:"anonymous,omitempty" expr:"anonymous"`
	// The server requires the session (or the share) to be encrypted. Example: true
	EncryptData bool `json:"encrypt_data,omitempty" expr:"encrypt_data"`
	// Session setup round trips. Example: 2
	Legs int `json:"legs,omitempty" expr:"legs"`
	// The share path as the client sent it. Example: \\dc1\ADMIN$
	Share string `json:"share,omitempty" expr:"share"`
	// The share's name (last component of the path). Example: ADMIN$
	ShareName string `json:"share_name,omitempty" expr:"share_name"`
	// Share type the server answered: disk, pipe or print. Example: disk
	ShareType string `json:"share_type,omitempty" expr:"share_type"`
	// The share is an administrative share: ADMIN$, IPC$ or a drive letter and $ (C$). Example: true
	AdminShare bool `json:"admin_share,omitempty" expr:"admin_share"`
	// Name of the named pipe opened on IPC$. Example: svcctl
	Pipe string `json:"pipe,omitempty" expr:"pipe"`
	// Desired access of the create, as the names of its bits. Example: ["read_data", "write_data", "delete"]
	Access []string `json:"access,omitempty" expr:"access"`
	// Desired access mask of the create. Example: 1179785
	AccessMask int64 `json:"access_mask,omitempty" expr:"access_mask"`
	// Create disposition: supersede, open, create, open_if, overwrite, overwrite_if. Example: overwrite_if
	Disposition string `json:"disposition,omitempty" expr:"disposition"`
	// What the server did: superseded, opened, created, overwritten. Example: created
	CreateAction string `json:"create_action,omitempty" expr:"create_action"`
	// The open asked for delete-on-close. Example: false
	DeleteOnClose bool `json:"delete_on_close,omitempty" expr:"delete_on_close"`
	// The file was deleted (a delete disposition the server accepted, or delete-on-close at the close). Example: true
	Deleted bool `json:"deleted,omitempty" expr:"deleted"`
	// New name of a rename the server accepted. Example: report-final.docx
	RenamedTo string `json:"renamed_to,omitempty" expr:"renamed_to"`
	// Bytes read from the file (successful reads). Example: 65536
	ReadBytes int64 `json:"read_bytes,omitempty" expr:"read_bytes"`
	// Bytes written to the file (successful writes). Example: 381816
	WriteBytes int64 `json:"write_bytes,omitempty" expr:"write_bytes"`
	// Read requests answered. Example: 1
	Reads int `json:"reads,omitempty" expr:"reads"`
	// Write requests answered. Example: 6
	Writes int `json:"writes,omitempty" expr:"writes"`
	// On a named pipe: an executable this connection wrote to an administrative share before opening it (with pipe svcctl: the PsExec sequence). Example: PSEXESVC.exe
	AfterAdminExe string `json:"after_admin_exe,omitempty" expr:"after_admin_exe"`
	// Dialects an SMB1 client offered. Example: ["NT LM 0.12", "SMB 2.002"]
	SMB1Dialects []string `json:"smb1_dialects,omitempty" expr:"smb1_dialects"`
	// SMB1 messages seen on the connection. Example: 24
	SMB1Messages int `json:"smb1_messages,omitempty" expr:"smb1_messages"`
	// SMB3 encrypted (transform) messages of the session, client to server: their commands and data are not visible. Example: 40
	EncryptedMessagesToServer int64 `json:"encrypted_messages_to_server,omitempty" expr:"encrypted_messages_to_server"`
	// SMB3 encrypted messages of the session, server to client. Example: 40
	EncryptedMessagesToClient int64 `json:"encrypted_messages_to_client,omitempty" expr:"encrypted_messages_to_client"`
	// Bytes of the session's encrypted messages, both directions. Example: 81920
	EncryptedBytes int64 `json:"encrypted_bytes,omitempty" expr:"encrypted_bytes"`
}

// NTLM is what an NTLMSSP exchange showed (on SMB session setups and HTTP
// NTLM/Negotiate authentication): names, flags and the response version,
// never the challenge, the responses or keys. The user and domain are in
// ECS user.name and user.domain.
type NTLM struct {
	// NTLMSSP message types seen: negotiate, challenge, authenticate. Example: ["authenticate"]
	Messages []string `json:"messages,omitempty" expr:"messages"`
	// Response version of the AUTHENTICATE, from the NT response length: v1 (24 bytes, crackable), v2, lm or anonymous. Example: v2
	Version string `json:"version,omitempty" expr:"version"`
	// The client's workstation name. Example: WS-0042
	Workstation string `json:"workstation,omitempty" expr:"workstation"`
	// Negotiate flags of the last message, by name. Example: ["unicode", "ntlm", "extended_session_security", "128", "56"]
	Flags []string `json:"flags,omitempty" expr:"flags"`
	// Windows version the client sent. Example: 10.0.19041
	ClientOSVersion string `json:"client_os_version,omitempty" expr:"client_os_version"`
	// Target name of the server's CHALLENGE. Example: CONTOSO
	TargetName string `json:"target_name,omitempty" expr:"target_name"`
	// NetBIOS computer name of the server (CHALLENGE target info). Example: DC1
	ServerNbComputerName string `json:"server_nb_computer_name,omitempty" expr:"server_nb_computer_name"`
	// NetBIOS domain name of the server. Example: CONTOSO
	ServerNbDomainName string `json:"server_nb_domain_name,omitempty" expr:"server_nb_domain_name"`
	// DNS computer name of the server. Example: dc1.contoso.local
	ServerDNSComputerName string `json:"server_dns_computer_name,omitempty" expr:"server_dns_computer_name"`
	// DNS domain name of the server. Example: contoso.local
	ServerDNSDomainName string `json:"server_dns_domain_name,omitempty" expr:"server_dns_domain_name"`
	// DNS forest name of the server. Example: contoso.local
	ServerDNSTreeName string `json:"server_dns_tree_name,omitempty" expr:"server_dns_tree_name"`
	// Windows version the server sent. Example: 10.0.17763
	ServerOSVersion string `json:"server_os_version,omitempty" expr:"server_os_version"`
}
