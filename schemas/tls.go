package schemas

import "time"

// TLS is ECS `tls.*`, one per handshake.
type TLS struct {
	// Numeric part of the version parsed from the original string. Example: 1.3
	Version string `json:"version,omitempty" expr:"version"`
	// Normalized lowercase protocol name parsed from original string. Example: tls
	VersionProtocol string `json:"version_protocol,omitempty" expr:"version_protocol"`
	// String indicating the cipher used during the current connection. Example: TLS_AES_128_GCM_SHA256
	Cipher string `json:"cipher,omitempty" expr:"cipher"`
	// String indicating the curve used for the given cipher, when applicable. Example: x25519
	Curve string `json:"curve,omitempty" expr:"curve"`
	// Boolean flag indicating if the TLS negotiation was successful and transitioned to an encrypted tunnel. Example: true
	Established bool `json:"established" expr:"established"`
	// Boolean flag indicating if this TLS connection was resumed from an existing TLS negotiation. Example: false
	Resumed bool `json:"resumed" expr:"resumed"`
	// String indicating the protocol being tunneled. Example: h2
	NextProtocol string    `json:"next_protocol,omitempty" expr:"next_protocol"`
	Client       TLSClient `json:"client,omitzero" expr:"client"`
	Server       TLSServer `json:"server,omitzero" expr:"server"`
}

// TLSClient is ECS `tls.client.*`. ECS 9.4 has no JA4 field: the client's
// JA4 is packetsleuth.tls.ja4 (TLSInfo).
type TLSClient struct {
	// Hostname the client is trying to connect to. Also called the SNI. Example: www.example.com
	ServerName string `json:"server_name,omitempty" expr:"server_name"`
	// A hash that identifies clients based on how they perform an SSL/TLS handshake. Example: 771d9a4d0f0e2bd6d0b3e0f1f7b8f5a4c
	JA3 string `json:"ja3,omitempty" expr:"ja3"`
	// Array of ciphers offered by the client during the client hello. Example: TLS_AES_128_GCM_SHA256
	SupportedCiphers []string `json:"supported_ciphers,omitempty" expr:"supported_ciphers" encode:"memo"`
}

// TLSServer is ECS `tls.server.*`.
type TLSServer struct {
	// A hash that identifies servers based on how they perform an SSL/TLS handshake. Example: eb1d94daa7e0344597e756a1fb6e7054
	JA3S string `json:"ja3s,omitempty" expr:"ja3s"`
	// Subject of the x.509 certificate presented by the server. Example: CN=www.example.com,O=Example Inc,C=US
	Subject string `json:"subject,omitempty" expr:"subject"`
	// Subject of the issuer of the x.509 certificate presented by the server. Example: CN=Example CA R3,O=Example Trust,C=US
	Issuer string `json:"issuer,omitempty" expr:"issuer"`
	// Timestamp indicating when server certificate is first considered valid. Example: 2026-01-15T00:00:00Z
	NotBefore time.Time `json:"not_before,omitzero" expr:"not_before"`
	// Timestamp indicating when server certificate is no longer considered valid. Example: 2027-02-14T23:59:59Z
	NotAfter time.Time `json:"not_after,omitzero" expr:"not_after"`
	Hash     Hashes    `json:"hash,omitzero" expr:"hash"`
	X509     X509      `json:"x509,omitzero" expr:"x509"`
}

// Hashes holds digests of a certificate's DER.
type Hashes struct {
	// MD5 digest of the DER-encoded certificate the server offered. Example: 6e2a3f1c9b8d7e6f5a4b3c2d1e0f9a8b
	MD5 string `json:"md5,omitempty" expr:"md5"`
	// SHA1 digest of the DER-encoded certificate the server offered. Example: 0a1b2c3d4e5f60718293a4b5c6d7e8f901234567
	SHA1 string `json:"sha1,omitempty" expr:"sha1"`
	// SHA256 digest of the DER-encoded certificate the server offered. Example: b4d1c5e0b1a7f2ffe0c3b1d4a8e7f6c5d4b3a2e1f0d9c8b7a6e5f4d3c2b1a0f9
	SHA256 string `json:"sha256,omitempty" expr:"sha256"`
}

// X509 is ECS `x509.*` for the server's leaf certificate.
type X509 struct {
	// Version of x509 format. Example: 3
	VersionNumber string `json:"version_number,omitempty" expr:"version_number"`
	// Unique serial number issued by the certificate authority. Example: 55FBB9C7DEBF09809D12CCAA
	SerialNumber string   `json:"serial_number,omitempty" expr:"serial_number"`
	Subject      X509Name `json:"subject,omitzero" expr:"subject"`
	Issuer       X509Name `json:"issuer,omitzero" expr:"issuer"`
	// Time at which the certificate is first considered valid. Example: 2026-01-15T00:00:00Z
	NotBefore time.Time `json:"not_before,omitzero" expr:"not_before"`
	// Time at which the certificate is no longer considered valid. Example: 2027-02-14T23:59:59Z
	NotAfter time.Time `json:"not_after,omitzero" expr:"not_after"`
	// List of subject alternative names (SAN). Example: *.cdn.example.com
	AlternativeNames []string `json:"alternative_names,omitempty" expr:"alternative_names"`
	// Algorithm used to generate the public key. Example: ECDSA
	PublicKeyAlgorithm string `json:"public_key_algorithm,omitempty" expr:"public_key_algorithm"`
	// The size of the public key space in bits. Example: 256
	PublicKeySize int `json:"public_key_size,omitempty" expr:"public_key_size"`
	// Identifier for certificate signature algorithm. Example: SHA256-RSA
	SignatureAlgorithm string `json:"signature_algorithm,omitempty" expr:"signature_algorithm"`
}

// X509Name is ECS `x509.subject` / `x509.issuer`.
type X509Name struct {
	// Distinguished name (DN) of the entity. Example: CN=www.example.com,O=Example Inc,C=US
	DistinguishedName string `json:"distinguished_name,omitempty" expr:"distinguished_name"`
	// List of common names (CN). Example: www.example.com
	CommonName []string `json:"common_name,omitempty" expr:"common_name"`
	// List of organizations (O). Example: Example Inc
	Organization []string `json:"organization,omitempty" expr:"organization"`
	// List of organizational units (OU). Example: Infrastructure
	OrganizationalUnit []string `json:"organizational_unit,omitempty" expr:"organizational_unit"`
	// List of country (C) codes. Example: US
	Country []string `json:"country,omitempty" expr:"country"`
}
