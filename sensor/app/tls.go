package app

import (
	"strconv"
	"time"

	ptls "github.com/packetsleuth/packetsleuth/parsers/tls"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
)

// emitTLS maps a TLS handshake to an ECS event.
func (st *state) emitTLS(h *ptls.Handshake) {
	ts := st.f.First()
	ev := st.a.newEvent(st, schemas.DatasetTLS, ts)
	ev.Network.Protocol = "tls"
	t := &ev.TLS
	t.Version, t.VersionProtocol = h.Version, h.VersionProtocol
	t.Cipher, t.Curve, t.NextProtocol = h.Cipher, h.Curve, h.NextProtocol
	t.Established, t.Resumed = h.Established, h.Resumed
	if h.HasClientHello {
		st.fillClient(ev, &h.ClientHello, h.JA3, h.JA4)
	}
	if h.HasServerHello {
		t.Server.JA3S = h.JA3S
	}
	if len(h.Certificates) > 0 {
		st.a.scr.fillCert(&t.Server, &h.Certificates[0])
		ev.Related.Hash = one(&st.a.scr.hash, t.Server.Hash.SHA256)
	}
	if t.Client.ServerName != "" {
		ev.Related.Hosts = one(&st.a.scr.hosts, t.Client.ServerName)
	}
	ev.Sensor.Notes = h.Notes
	ev.Sensor.HTTP.TunnelTarget = st.tunnel
	st.a.emitGroups(ev, TLSEventGroups)
}

// TLSEventGroups are the groups of a TLS event: those of the flow's
// network fields (newEvent), the TLS object, and the packetsleuth tls
// (JA4) and http (a tunnel's target) objects.
const TLSEventGroups = flow.EventGroups | schemas.GroupTLS | schemas.GroupSensorTLS | schemas.GroupSensorHTTP

// emitQUIC maps the ClientHello of a QUIC Initial to a TLS event.
func (st *state) emitQUIC(ts time.Time) {
	a := st.a
	ev := a.newEvent(st, schemas.DatasetTLS, ts)
	ev.Network.Protocol = "quic"
	ev.TLS.Version, ev.TLS.VersionProtocol = "1.3", "tls"
	h := &st.quic.Hello
	a.ja = ptls.AppendJA3(a.ja[:0], h)
	ja3 := string(ptls.AppendMD5Hex(nil, a.ja))
	ja4 := string(ptls.AppendJA4(a.ja[:0], h, ptls.JA4QUIC))
	st.fillClient(ev, h, ja3, ja4)
	if ev.TLS.Client.ServerName != "" {
		ev.Related.Hosts = one(&a.scr.hosts, ev.TLS.Client.ServerName)
	}
	a.emitGroups(ev, TLSEventGroups)
}

// fillClient sets what the ClientHello shows: ECS's tls.client.* and
// packetsleuth.tls.ja4 (ECS has no JA4 field).
func (st *state) fillClient(ev *schemas.Event, h *ptls.ClientHello, ja3, ja4 string) {
	c := &ev.TLS.Client
	c.ServerName, c.JA3 = h.ServerName, ja3
	ev.Sensor.TLS.JA4 = ja4
	names := st.a.scr.ciphers[:0]
	for _, cs := range h.CipherSuites {
		if !ptls.IsGREASE(cs) {
			names = append(names, ptls.CipherSuiteName(cs))
		}
	}
	if st.a.scr.ciphers = names; len(names) > 0 {
		c.SupportedCiphers = names
	}
}

func (sc *scratch) fillCert(s *schemas.TLSServer, c *ptls.Certificate) {
	s.Hash = schemas.Hashes{MD5: c.MD5, SHA1: c.SHA1, SHA256: c.SHA256}
	if c.Err != nil {
		return
	}
	s.Subject, s.Issuer = c.Subject, c.Issuer
	s.NotBefore, s.NotAfter = c.NotBefore, c.NotAfter
	x := &s.X509
	if c.Version > 0 {
		x.VersionNumber = strconv.Itoa(c.Version)
	}
	x.SerialNumber = c.SerialNumber
	x.Subject.DistinguishedName, x.Issuer.DistinguishedName = c.Subject, c.Issuer
	if c.SubjectCommonName != "" {
		x.Subject.CommonName = one(&sc.subjectCN, c.SubjectCommonName)
	}
	if c.IssuerCommonName != "" {
		x.Issuer.CommonName = one(&sc.issuerCN, c.IssuerCommonName)
	}
	x.NotBefore, x.NotAfter = c.NotBefore, c.NotAfter
	sc.sans = append(append(sc.sans[:0], c.DNSNames...), c.IPAddresses...)
	if len(sc.sans) > 0 {
		x.AlternativeNames = sc.sans
	}
	x.PublicKeyAlgorithm, x.PublicKeySize, x.SignatureAlgorithm = c.PublicKeyAlgorithm, c.PublicKeySize, c.SignatureAlgorithm
}
