package tls

import (
	"crypto/dsa" //nolint:staticcheck // only to size legacy DSA keys
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// MaxCertificates caps how many certificates of one Certificate message are
// parsed; the rest are counted in Certificates' error.
const MaxCertificates = 16

// Certificate describes one X.509 certificate of a chain. Hashes are of the
// DER bytes, uppercase hex (as ECS tls.server.hash.* shows them). When
// crypto/x509 refuses the DER, Err says why and only the hashes (and Size) are
// set.
type Certificate struct {
	Size               int    // DER length in bytes
	SHA1, SHA256, MD5  string // uppercase hex of the DER's digests
	Version            int    // X.509 version (3 for v3)
	SerialNumber       string // uppercase hex, even number of digits, as ECS x509.serial_number
	Subject            string // RFC 4514 distinguished name
	SubjectCommonName  string
	Issuer             string // RFC 4514 distinguished name
	IssuerCommonName   string
	DNSNames           []string
	IPAddresses        []string
	NotBefore          time.Time
	NotAfter           time.Time
	PublicKeyAlgorithm string // "RSA", "ECDSA", "Ed25519", "DSA"
	PublicKeySize      int    // bits (RSA modulus, curve size), 0 if unknown
	PublicKeyCurve     string // named curve of an ECDSA key, e.g. "P-256"
	SignatureAlgorithm string // e.g. "SHA256-RSA"
	Err                error  // why crypto/x509 refused the DER, nil if parsed
}

// ParseCertificates parses a Certificate handshake message body in its TLS 1.2
// (and earlier) form: a 3-byte list length, then certificates each with a
// 3-byte length. Certificates come in wire order (leaf first). A certificate
// that crypto/x509 refuses still gets an entry, with Err set. The error is
// about the message framing; what was parsed before it is returned too.
func ParseCertificates(b []byte) ([]Certificate, error) {
	return (*CertCache)(nil).ParseCertificates(b)
}

// ParseCertificates is the package's ParseCertificates, each certificate
// described through the cache.
func (cc *CertCache) ParseCertificates(b []byte) ([]Certificate, error) {
	return cc.appendCertificates(nil, b)
}

// appendCertificates is ParseCertificates appending to certs, empty (a
// pooled Handshake's room).
func (cc *CertCache) appendCertificates(certs []Certificate, b []byte) ([]Certificate, error) {
	if len(b) < 3 {
		return nil, fmt.Errorf("certificate: %w: list length", ErrTruncated)
	}
	n := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
	b = b[3:]
	var err error
	if n > len(b) {
		err = fmt.Errorf("certificate: %w: list length %d, have %d", ErrTruncated, n, len(b))
	} else {
		b = b[:n]
	}
	for len(b) > 0 {
		if len(b) < 3 {
			return certs, fmt.Errorf("certificate: %w: entry length", ErrTruncated)
		}
		l := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
		b = b[3:]
		if l > len(b) {
			return certs, fmt.Errorf("certificate %d: %w: length %d, have %d", len(certs), ErrTruncated, l, len(b))
		}
		if len(certs) >= MaxCertificates {
			return certs, fmt.Errorf("certificate: more than %d certificates, rest ignored", MaxCertificates)
		}
		certs = append(certs, cc.Parse(b[:l]))
		b = b[l:]
	}
	return certs, err
}

// ParseCertificate describes one DER certificate. It never fails: when
// crypto/x509 refuses the DER, the result holds the hashes and Err.
func ParseCertificate(der []byte) Certificate {
	c := Certificate{Size: len(der)}
	s1 := sha1.Sum(der)
	s256 := sha256.Sum256(der)
	m5 := md5.Sum(der)
	c.SHA1 = strings.ToUpper(hex.EncodeToString(s1[:]))
	c.SHA256 = strings.ToUpper(hex.EncodeToString(s256[:]))
	c.MD5 = strings.ToUpper(hex.EncodeToString(m5[:]))
	x, err := x509.ParseCertificate(der)
	if err != nil {
		c.Err = err
		return c
	}
	c.Version = x.Version
	if x.SerialNumber != nil {
		c.SerialNumber = serialHex(x.SerialNumber.Text(16))
	}
	c.Subject = x.Subject.String()
	c.SubjectCommonName = x.Subject.CommonName
	c.Issuer = x.Issuer.String()
	c.IssuerCommonName = x.Issuer.CommonName
	c.DNSNames = x.DNSNames
	for _, ip := range x.IPAddresses {
		c.IPAddresses = append(c.IPAddresses, ip.String())
	}
	c.NotBefore, c.NotAfter = x.NotBefore, x.NotAfter
	c.PublicKeyAlgorithm = x.PublicKeyAlgorithm.String()
	switch k := x.PublicKey.(type) {
	case *rsa.PublicKey:
		c.PublicKeySize = k.N.BitLen()
	case *ecdsa.PublicKey:
		c.PublicKeySize = k.Curve.Params().BitSize
		c.PublicKeyCurve = k.Curve.Params().Name
	case ed25519.PublicKey:
		c.PublicKeySize = 256
	case *dsa.PublicKey:
		c.PublicKeySize = k.P.BitLen()
	}
	c.SignatureAlgorithm = x.SignatureAlgorithm.String()
	return c
}
