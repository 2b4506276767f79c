package tls

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"
)

// OCSPStaple is the OCSP response a server stapled in a CertificateStatus
// message (TLS <= 1.2, status_request). Its signature is checked against the
// responder certificate it embeds, not against a trust store.
type OCSPStaple struct {
	Size         int
	Status       string // "good", "revoked", "unknown"
	SerialNumber string // serial of the certificate the response is about (uppercase hex)
	ProducedAt   time.Time
	ThisUpdate   time.Time
	NextUpdate   time.Time
	RevokedAt    time.Time
	// Responder is the certificate embedded to sign the response, if any.
	Responder *Certificate
	Err       error // why the response could not be parsed
}

// ParseCertificateStatus parses a CertificateStatus handshake message body.
func ParseCertificateStatus(b []byte) (*OCSPStaple, error) {
	r := reader{b: b}
	typ := r.u8("status_type")
	if r.err == nil && typ != 1 {
		return nil, fmt.Errorf("certificate status: %w: status_type %d", ErrMalformed, typ)
	}
	if len(r.b) < 3 {
		return nil, fmt.Errorf("certificate status: %w", ErrTruncated)
	}
	n := int(r.b[0])<<16 | int(r.b[1])<<8 | int(r.b[2])
	der := r.b[3:]
	if n > len(der) {
		return nil, fmt.Errorf("certificate status: %w: length %d, have %d", ErrTruncated, n, len(der))
	}
	der = der[:n]
	s := &OCSPStaple{Size: n}
	resp, err := ocsp.ParseResponse(der, nil)
	if resp == nil {
		s.Err = err
		return s, nil
	}
	switch resp.Status {
	case ocsp.Good:
		s.Status = "good"
	case ocsp.Revoked:
		s.Status = "revoked"
	default:
		s.Status = "unknown"
	}
	if resp.SerialNumber != nil {
		s.SerialNumber = serialHex(resp.SerialNumber.Text(16))
	}
	s.ProducedAt, s.ThisUpdate, s.NextUpdate, s.RevokedAt = resp.ProducedAt, resp.ThisUpdate, resp.NextUpdate, resp.RevokedAt
	if resp.Certificate != nil {
		c := ParseCertificate(resp.Certificate.Raw)
		s.Responder = &c
	}
	s.Err = err
	return s, nil
}

func serialHex(s string) string {
	s = strings.ToUpper(s)
	if len(s)%2 != 0 {
		s = "0" + s
	}
	return s
}
