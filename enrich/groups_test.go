package enrich

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/firstseen"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// Enrich writes no group of an event but those Writes names: events of
// each kind it reads (a flow, DNS, HTTP, TLS, a file, SMTP), enriched with
// geo, intel matches, the home networks and first-seen domains, encode
// told only of their own groups and Writes as in full.
func TestEnrichWritesOnlyItsGroups(t *testing.T) {
	needGeo(t)
	p := writeFile(t, t.TempDir(), "l.txt", "89.160.20.112\nevil.example\nhttp://evil.example/x\n"+
		"e7eca2baf4458d095b7f45da28c16c34\nd4e5b18d6b55c71272893221c96ba240\n")
	s, err := Open(Config{
		GeoIPCity: filepath.Join(geoDir, "GeoIP2-City-Test.mmdb"), GeoIPASN: filepath.Join(geoDir, "GeoLite2-ASN-Test.mmdb"),
		Intel: []string{p}, HomeNet: []string{"10.0.0.0/8"}, FirstSeen: firstseen.Config{Window: time.Hour},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.TrackFirstSeen(nil); err != nil {
		t.Fatal(err)
	}
	w := s.NewWorker().(*Worker)
	const endpoints = schemas.GroupSource | schemas.GroupDestination
	events := map[string]struct {
		ev     *schemas.Event
		groups schemas.Groups
	}{}
	add := func(name string, groups schemas.Groups, fill func(ev *schemas.Event)) {
		ev := flow("10.1.2.3", "89.160.20.112")
		ev.Timestamp = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
		fill(ev)
		events[name] = struct {
			ev     *schemas.Event
			groups schemas.Groups
		}{ev, groups | endpoints}
	}
	add("flow", 0, func(ev *schemas.Event) { ev.Event.Dataset = schemas.DatasetFlow })
	add("dns", schemas.GroupDNS, func(ev *schemas.Event) {
		ev.Event.Dataset = schemas.DatasetDNS
		ev.DNS.Question.Name = "www.evil.example"
		ev.DNS.Answers = []schemas.DNSAnswer{{Name: "www.evil.example", Type: "CNAME", Data: "evil.example"}}
		ev.DNS.ResolvedIP = []string{"89.160.20.112"}
	})
	add("http", schemas.GroupURL, func(ev *schemas.Event) {
		ev.Event.Dataset = schemas.DatasetHTTP
		ev.URL = schemas.URL{Domain: "evil.example", Original: "/x"}
	})
	add("tls", schemas.GroupTLS|schemas.GroupSensor|schemas.GroupSensorTLS, func(ev *schemas.Event) {
		ev.Event.Dataset = schemas.DatasetTLS
		ev.TLS.Client = schemas.TLSClient{ServerName: "evil.example", JA3: "d4e5b18d6b55c71272893221c96ba240"}
		ev.Sensor.TLS.JA4 = "t13d1516h2_8daaf6152771_02713d6af862"
	})
	add("file", schemas.GroupFile, func(ev *schemas.Event) {
		ev.Event.Dataset = schemas.DatasetFile
		ev.File.Hash.MD5 = "e7eca2baf4458d095b7f45da28c16c34"
	})
	add("smtp", 0, func(ev *schemas.Event) { ev.Event.Dataset = schemas.DatasetSMTP }) // email.direction is Enrich's
	for name, c := range events {
		w.Enrich(c.ev)
		if len(c.ev.Threat.Enrichments) == 0 || c.ev.Destination.Geo.CityName == "" || c.ev.Network.Direction == "" {
			t.Errorf("%s: not enriched: %+v", name, c.ev)
		}
		want, err := schemas.EncodeWithID(nil, c.ev)
		if err != nil {
			t.Fatal(err)
		}
		var enc schemas.EncodeCache
		if got, _ := enc.EncodeGroupsWithID(nil, c.ev, c.groups|w.Writes()); string(got) != string(want) {
			t.Errorf("%s told its groups and Writes:\n%s\nin full:\n%s", name, got, want)
		}
	}
}
