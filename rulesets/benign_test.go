package rulesets_test

import (
	"fmt"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// benignEvents is a few minutes of ordinary office traffic: browsing over
// TLS 1.2/1.3 with valid certificates, DNS lookups of popular names, plain
// HTTP, NTP and internal SMB.
func benignEvents() []schemas.Event {
	base := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var out []schemas.Event
	add := func(e schemas.Event) {
		e.Timestamp = base.Add(time.Duration(len(out)) * 200 * time.Millisecond)
		e.Event.Kind = "event"
		out = append(out, e)
	}
	names := []string{"www.example.com", "mail.google.com", "login.microsoftonline.com", "cdn.jsdelivr.net",
		"e1234.dscb.akamaiedge.net", "assets-cdn.images.static.content.example.com", "time.cloudflare.com"}
	for i := 0; i < 200; i++ {
		host := fmt.Sprintf("10.0.0.%d", 10+i%20)
		remote := fmt.Sprintf("93.184.216.%d", 1+i%7)
		var f schemas.Event
		f.Event.Dataset = schemas.DatasetFlow
		f.Network.Transport = "tcp"
		f.Source = schemas.Endpoint{IP: host, Port: 40000 + i, Bytes: 2000, Packets: 12}
		f.Destination = schemas.Endpoint{IP: remote, Port: 443, Bytes: 90000, Packets: 70}
		f.Sensor.Flow.State, f.Sensor.Flow.History = "SF", "ShADadFf"
		add(f)

		var d schemas.Event
		d.Event.Dataset = schemas.DatasetDNS
		d.Network.Transport = "udp"
		d.Source = schemas.Endpoint{IP: host, Port: 50000 + i}
		d.Destination = schemas.Endpoint{IP: "10.0.0.2", Port: 53}
		d.DNS.Question.Name = names[i%len(names)]
		d.DNS.Question.Type = "A"
		d.DNS.Question.RegisteredDomain = "example.com"
		d.DNS.ResponseCode = "NOERROR"
		add(d)

		var h schemas.Event
		h.Event.Dataset = schemas.DatasetHTTP
		h.Source = schemas.Endpoint{IP: host, Port: 41000 + i}
		h.Destination = schemas.Endpoint{IP: remote, Port: 80}
		h.HTTP.Request.Method = "GET"
		h.HTTP.Response.StatusCode = 200
		h.URL = schemas.URL{Scheme: "http", Domain: "www.example.com", Path: "/news/2026/03/index.html",
			Original: "/news/2026/03/index.html?page=2&sort=date", Query: "page=2&sort=date"}
		h.UserAgent.Original = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:135.0) Gecko/20100101 Firefox/135.0"
		add(h)

		var s schemas.Event
		s.Event.Dataset = schemas.DatasetTLS
		s.Source = schemas.Endpoint{IP: host, Port: 42000 + i}
		s.Destination = schemas.Endpoint{IP: remote, Port: 443}
		s.TLS.Version, s.TLS.VersionProtocol, s.TLS.Established = "1.3", "tls", true
		if i%2 == 0 {
			s.TLS.Version = "1.2"
		}
		s.TLS.Client.ServerName = "www.example.com"
		s.TLS.Server.Subject = "CN=www.example.com"
		s.TLS.Server.Issuer = "CN=R11,O=Let's Encrypt,C=US"
		s.TLS.Server.NotBefore = base.AddDate(0, -1, 0)
		s.TLS.Server.NotAfter = base.AddDate(0, 2, 0)
		s.TLS.Server.X509.Subject.DistinguishedName = s.TLS.Server.Subject
		s.TLS.Server.X509.Issuer.DistinguishedName = s.TLS.Server.Issuer
		s.TLS.Server.X509.NotAfter = s.TLS.Server.NotAfter
		add(s)
	}
	// NTP and an internal file copy.
	var n schemas.Event
	n.Event.Dataset = schemas.DatasetFlow
	n.Network.Transport = "udp"
	n.Source = schemas.Endpoint{IP: "10.0.0.10", Port: 123, Bytes: 48}
	n.Destination = schemas.Endpoint{IP: "162.159.200.1", Port: 123, Bytes: 48}
	add(n)
	var c schemas.Event
	c.Event.Dataset = schemas.DatasetFlow
	c.Network.Transport = "tcp"
	c.Source = schemas.Endpoint{IP: "10.0.0.10", Port: 50123, Bytes: 3000000000}
	c.Destination = schemas.Endpoint{IP: "10.0.0.3", Port: 445}
	c.Sensor.Flow.State = "SF"
	add(c)
	return out
}
