package schemas

import "time"

// TLS is ECS `tls.*`, one per handshake.
type TLS struct {
	Version         string    `json:"version,omitempty" expr:"version"`
	VersionProtocol string    `json:"version_protocol,omitempty" expr:"version_protocol"`
	Cipher          string    `json:"cipher,omitempty" expr:"cipher"`
	Curve           string    `json:"curve,omitempty" expr:"curve"`
	Established     bool      `json:"established" expr:"established"`
	Resumed         bool      `json:"resumed" expr:"resumed"`
	NextProtocol    string    `json:"next_protocol,omitempty" expr:"next_protocol"`
	Client          TLSClient `json:"client,omitzero" expr:"client"`
	Server          TLSServer `json:"server,omitzero" expr:"server"`
}

// TLSClient is ECS `tls.client.*`. JA4 is a custom field (not in ECS 9.4),
// placed where ECS keeps the other client fingerprints.
type TLSClient struct {
	ServerName       string   `json:"server_name,omitempty" expr:"server_name"`
	JA3              string   `json:"ja3,omitempty" expr:"ja3"`
	JA4              string   `json:"ja4,omitempty" expr:"ja4"`
	SupportedCiphers []string `json:"supported_ciphers,omitempty" expr:"supported_ciphers"`
}

// TLSServer is ECS `tls.server.*`.
type TLSServer struct {
	JA3S      string    `json:"ja3s,omitempty" expr:"ja3s"`
	Subject   string    `json:"subject,omitempty" expr:"subject"`
	Issuer    string    `json:"issuer,omitempty" expr:"issuer"`
	NotBefore time.Time `json:"not_before,omitzero" expr:"not_before"`
	NotAfter  time.Time `json:"not_after,omitzero" expr:"not_after"`
	Hash      Hashes    `json:"hash,omitzero" expr:"hash"`
	X509      X509      `json:"x509,omitzero" expr:"x509"`
}

// Hashes holds digests of a certificate's DER.
type Hashes struct {
	MD5    string `json:"md5,omitempty" expr:"md5"`
	SHA1   string `json:"sha1,omitempty" expr:"sha1"`
	SHA256 string `json:"sha256,omitempty" expr:"sha256"`
}

// X509 is ECS `x509.*` for the server's leaf certificate.
type X509 struct {
	VersionNumber      string    `json:"version_number,omitempty" expr:"version_number"`
	SerialNumber       string    `json:"serial_number,omitempty" expr:"serial_number"`
	Subject            X509Name  `json:"subject,omitzero" expr:"subject"`
	Issuer             X509Name  `json:"issuer,omitzero" expr:"issuer"`
	NotBefore          time.Time `json:"not_before,omitzero" expr:"not_before"`
	NotAfter           time.Time `json:"not_after,omitzero" expr:"not_after"`
	AlternativeNames   []string  `json:"alternative_names,omitempty" expr:"alternative_names"`
	PublicKeyAlgorithm string    `json:"public_key_algorithm,omitempty" expr:"public_key_algorithm"`
	PublicKeySize      int       `json:"public_key_size,omitempty" expr:"public_key_size"`
	SignatureAlgorithm string    `json:"signature_algorithm,omitempty" expr:"signature_algorithm"`
}

// X509Name is ECS `x509.subject` / `x509.issuer`.
type X509Name struct {
	DistinguishedName  string   `json:"distinguished_name,omitempty" expr:"distinguished_name"`
	CommonName         []string `json:"common_name,omitempty" expr:"common_name"`
	Organization       []string `json:"organization,omitempty" expr:"organization"`
	OrganizationalUnit []string `json:"organizational_unit,omitempty" expr:"organizational_unit"`
	Country            []string `json:"country,omitempty" expr:"country"`
}
