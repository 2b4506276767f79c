package schemas

// SSH is what an SSH connection showed in the clear (dataset
// packetsleuth.ssh): ECS has no SSH fields. Client and server are the SSH
// roles, which the key exchange decides (on a reverse SSH connection the
// TCP originator is the server).
type SSH struct {
	// Protocol version the two sides speak, as Zeek decides it: 2; 1 when one side offers SSH 1 only and the other SSH 1 too (SSH-1.99 offers both); 0 when one offers SSH 1 only and the other SSH 2 only. Example: 2
	Version int     `json:"version,omitempty" expr:"version"`
	Client  SSHSide `json:"client,omitzero" expr:"client"`
	Server  SSHSide `json:"server,omitzero" expr:"server"`
	// Key exchange method negotiated (RFC 4253 §7.1: the client's first the server also offers). Example: curve25519-sha256
	KexAlgorithm string `json:"kex_algorithm,omitempty" expr:"kex_algorithm"`
	// Host key algorithm negotiated. Example: ssh-ed25519
	HostKeyAlgorithm string `json:"host_key_algorithm,omitempty" expr:"host_key_algorithm"`
	// Cipher negotiated for the client-to-server direction. Example: aes128-ctr
	CipherAlgorithm string `json:"cipher_algorithm,omitempty" expr:"cipher_algorithm"`
	// Cipher negotiated for the server-to-client direction. Example: aes128-ctr
	CipherAlgorithmToClient string `json:"cipher_algorithm_to_client,omitempty" expr:"cipher_algorithm_to_client"`
	// MAC negotiated for the client-to-server direction (an AEAD cipher such as chacha20-poly1305 makes it unused). Example: hmac-sha2-256
	MACAlgorithm string `json:"mac_algorithm,omitempty" expr:"mac_algorithm"`
	// MAC negotiated for the server-to-client direction. Example: hmac-sha2-256
	MACAlgorithmToClient string `json:"mac_algorithm_to_client,omitempty" expr:"mac_algorithm_to_client"`
	// Compression negotiated for the client-to-server direction. Example: none
	CompressionAlgorithm string `json:"compression_algorithm,omitempty" expr:"compression_algorithm"`
	// Compression negotiated for the server-to-client direction. Example: zlib@openssh.com
	CompressionAlgorithmToClient string `json:"compression_algorithm_to_client,omitempty" expr:"compression_algorithm_to_client"`
	// The TCP originator is the SSH server (reverse SSH, decided by who starts the key exchange). Example: false
	Reversed bool `json:"reversed,omitempty" expr:"reversed"`
	// Both sides sent NEWKEYS: the rest of the connection is encrypted. Example: true
	Encrypted bool `json:"encrypted" expr:"encrypted"`
	// Authentication outcome inferred from the sizes of the server's encrypted packets, as Zeek does: success, failure (attempts seen, none succeeded) or unknown. Example: failure
	AuthResult string `json:"auth_result,omitempty" expr:"auth_result"`
	// Authentication attempts counted (failures, and the success if any). Example: 3
	AuthAttempts int `json:"auth_attempts,omitempty" expr:"auth_attempts"`
}

// SSHSide is what one SSH role sent: its version line and its KEXINIT.
type SSHSide struct {
	// The whole version line, without its line end. Example: SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13
	VersionString string `json:"version_string,omitempty" expr:"version_string"`
	// Protocol version of the version line. Example: 2.0
	ProtocolVersion string `json:"protocol_version,omitempty" expr:"protocol_version"`
	// Software version of the version line. Example: OpenSSH_9.6p1
	Software string `json:"software,omitempty" expr:"software"`
	// Comments after the software version. Example: Ubuntu-3ubuntu13
	Comments string `json:"comments,omitempty" expr:"comments"`
	// HASSH (client) or HASSHServer (server): MD5 of the hassh string. Example: 2dd6531c7e89d3c925db9214711be76a
	HASSH string `json:"hassh,omitempty" expr:"hassh"`
	// The string HASSH hashes: key exchange;encryption;MAC;compression lists of the side's KEXINIT, in its own sending direction. Example: curve25519-sha256,ext-info-c;aes128-ctr;hmac-sha2-256;none
	HASSHString string `json:"hassh_string,omitempty" expr:"hassh_string"`
	// Host key algorithms the side's KEXINIT offers, comma-separated. Example: ssh-ed25519,rsa-sha2-512
	HostKeyAlgorithms string `json:"host_key_algorithms,omitempty" expr:"host_key_algorithms"`
}
