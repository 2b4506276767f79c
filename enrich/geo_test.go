package enrich

import (
	"bufio"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/schemas"
)

const geoDir = "../../shared/geoip"

func needGeo(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(geoDir, "GeoIP2-City-Test.mmdb")); err != nil {
		t.Skipf("MaxMind test databases not found in %s: %v", geoDir, err)
	}
}

func openGeoShared(t testing.TB, city, asn string) *Shared {
	t.Helper()
	needGeo(t)
	cfg := Config{}
	if city != "" {
		cfg.GeoIPCity = filepath.Join(geoDir, city)
	}
	if asn != "" {
		cfg.GeoIPASN = filepath.Join(geoDir, asn)
	}
	s, err := Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func enrichIP(e Enricher, ip string) schemas.Endpoint {
	ev := &schemas.Event{Source: schemas.Endpoint{IP: ip}, Destination: schemas.Endpoint{IP: "10.0.0.1"}}
	e.Enrich(ev)
	return ev.Source
}

// The addresses and answers of the README's table (checked there with
// mmdblookup).
func TestGeoREADMEAddresses(t *testing.T) {
	s := openGeoShared(t, "GeoIP2-City-Test.mmdb", "GeoLite2-ASN-Test.mmdb")
	w := s.NewWorker()
	cases := []struct {
		ip                    string
		iso, city, region     string
		lat, lon              float64
		asn                   int64
		org                   string
		continent, countryNam string
	}{
		{ip: "81.2.69.142", iso: "GB", city: "London", region: "England", lat: 51.5142, lon: -0.0931, continent: "Europe", countryNam: "United Kingdom"},
		{ip: "81.2.69.160", iso: "GB", city: "London", continent: "Europe"},
		{ip: "216.160.83.56", iso: "US", city: "Milton", region: "Washington", asn: 209, continent: "North America", countryNam: "United States"},
		{ip: "89.160.20.112", iso: "SE", city: "Linköping", asn: 29518, org: "Bredband2 AB", continent: "Europe", countryNam: "Sweden"},
		{ip: "175.16.199.0", iso: "CN", city: "Changchun", continent: "Asia"},
		{ip: "2.125.160.216", iso: "GB", city: "Boxford", region: "West Berkshire"}, // most specific of ENG, WBK
		{ip: "67.43.156.1", iso: "BT", asn: 35908, countryNam: "Bhutan"},
		{ip: "202.196.224.1", iso: "PH"},
		{ip: "214.78.120.1", iso: "US", city: "San Diego", region: "California", asn: 721},
		{ip: "2001:218::1", iso: "JP", countryNam: "Japan"},
		{ip: "1.0.0.1", asn: 15169, org: "Google Inc."},
		{ip: "1.128.0.1", asn: 1221, org: "Telstra Pty Ltd"},
		{ip: "12.81.92.1", asn: 7018, org: "AT&T Services"},
		{ip: "2600:6000::1", asn: 237, org: "Merit Network Inc."},
		{ip: "::ffff:81.2.69.142", iso: "GB", city: "London"}, // mapped form is unmapped first
		{ip: "8.8.8.8"},
		{ip: "214.1.1.1", asn: 721}, // City DB: only is_anycast, no geo fields
	}
	for _, c := range cases {
		ep := enrichIP(w, c.ip)
		g := ep.Geo
		if g.CountryISOCode != c.iso || g.CityName != c.city {
			t.Errorf("%s: country %q city %q, want %q %q", c.ip, g.CountryISOCode, g.CityName, c.iso, c.city)
		}
		if c.region != "" && g.RegionName != c.region {
			t.Errorf("%s: region %q, want %q", c.ip, g.RegionName, c.region)
		}
		if c.continent != "" && g.ContinentName != c.continent {
			t.Errorf("%s: continent %q, want %q", c.ip, g.ContinentName, c.continent)
		}
		if c.countryNam != "" && g.CountryName != c.countryNam {
			t.Errorf("%s: country name %q, want %q", c.ip, g.CountryName, c.countryNam)
		}
		if c.lat != 0 && (g.Location.Lat != c.lat || g.Location.Lon != c.lon) {
			t.Errorf("%s: location %v, want %v,%v", c.ip, g.Location, c.lat, c.lon)
		}
		if ep.AS.Number != c.asn || (c.org != "" && ep.AS.Organization.Name != c.org) {
			t.Errorf("%s: AS %d %q, want %d %q", c.ip, ep.AS.Number, ep.AS.Organization.Name, c.asn, c.org)
		}
		if c.iso == "" && g != (schemas.Geo{}) {
			t.Errorf("%s: unexpected geo %+v", c.ip, g)
		}
	}
}

func TestGeoCountryDB(t *testing.T) {
	s := openGeoShared(t, "GeoLite2-Country-Test.mmdb", "")
	w := s.NewWorker()
	for ip, iso := range map[string]string{"81.2.69.142": "GB", "216.160.83.56": "US", "89.160.20.112": "SE", "2001:218::1": "JP", "175.16.199.0": ""} {
		g := enrichIP(w, ip).Geo
		if g.CountryISOCode != iso || g.CityName != "" || g.Location != (schemas.GeoPoint{}) {
			t.Errorf("%s: %+v, want country %q only", ip, g, iso)
		}
	}
}

// tsvNet is one line of a networks-*.tsv file.
type tsvNet struct {
	p      netip.Prefix
	fields map[string]string
}

func readTSV(t *testing.T, path string) []tsvNet {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("%s: %v", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var head []string
	var out []tsvNet
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if head == nil {
			head = cols
			continue
		}
		p, err := netip.ParsePrefix(cols[0])
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		// IPv4 networks in the IPv4-in-IPv6 form ::a.b.c.d/(96+n).
		if b := p.Addr().As16(); p.Addr().Is6() && p.Bits() >= 96 && [12]byte(b[:12]) == [12]byte{} {
			p = netip.PrefixFrom(netip.AddrFrom4([4]byte(b[12:])), p.Bits()-96)
		}
		m := map[string]string{}
		for i, h := range head {
			if i < len(cols) {
				m[h] = cols[i]
			}
		}
		out = append(out, tsvNet{p.Masked(), m})
	}
	return out
}

// longest returns the most specific network of nets containing a.
func longest(nets []tsvNet, a netip.Addr) *tsvNet {
	var best *tsvNet
	for i := range nets {
		if nets[i].p.Contains(a) && (best == nil || nets[i].p.Bits() > best.p.Bits()) {
			best = &nets[i]
		}
	}
	return best
}

// Every network of the derived TSVs, probed at its first and last address,
// must resolve as the most specific TSV line says.
func TestGeoNetworksTSV(t *testing.T) {
	w := openGeoShared(t, "GeoLite2-Country-Test.mmdb", "GeoLite2-ASN-Test.mmdb").NewWorker()
	wCity := openGeoShared(t, "GeoIP2-City-Test.mmdb", "").NewWorker()
	check := func(w Enricher, file, what string, got func(schemas.Endpoint) string, want func(*tsvNet) string) {
		nets := readTSV(t, filepath.Join(geoDir, file))
		probed, skipped := 0, 0
		for _, n := range nets {
			last := n.p.Addr()
			for range (1 << (n.p.Addr().BitLen() - n.p.Bits())) - 1 {
				if n.p.Bits() < n.p.Addr().BitLen()-16 {
					break // big network: first address only
				}
				last = last.Next()
			}
			for _, a := range []netip.Addr{n.p.Addr(), last} {
				if !Geolocatable(a) {
					skipped++
					continue
				}
				probed++
				exp := want(longest(nets, a))
				if g := got(enrichIP(w, a.String())); g != exp {
					t.Errorf("%s %s (%s): %s %q, want %q", file, a, n.p, what, g, exp)
				}
			}
		}
		t.Logf("%s: %d networks, %d addresses probed, %d skipped as not geolocatable", file, len(nets), probed, skipped)
		if probed < len(nets) {
			t.Errorf("%s: only %d addresses probed", file, probed)
		}
	}
	check(w, "networks-GeoLite2-Country-Test.tsv", "country", func(e schemas.Endpoint) string { return e.Geo.CountryISOCode },
		func(n *tsvNet) string { return n.fields["country_iso"] })
	check(w, "networks-GeoLite2-ASN-Test.tsv", "asn", func(e schemas.Endpoint) string {
		if e.AS.Number == 0 {
			return ""
		}
		return strings.TrimSpace(strconv.FormatInt(e.AS.Number, 10) + " " + e.AS.Organization.Name)
	}, func(n *tsvNet) string {
		return strings.TrimSpace(n.fields["autonomous_system_number"] + " " + n.fields["autonomous_system_organization"])
	})
	check(wCity, "networks-GeoIP2-City-Test.tsv", "country", func(e schemas.Endpoint) string { return e.Geo.CountryISOCode },
		func(n *tsvNet) string { return n.fields["country_iso"] })
}

func TestGeoCityTSVCities(t *testing.T) {
	s := openGeoShared(t, "GeoIP2-City-Test.mmdb", "")
	w := s.NewWorker()
	nets := readTSV(t, filepath.Join(geoDir, "networks-GeoIP2-City-Test.tsv"))
	n := 0
	for _, net := range nets {
		if net.fields["city"] == "" {
			continue
		}
		n++
		ep := enrichIP(w, net.p.Addr().String())
		if ep.Geo.CityName != net.fields["city"] || ep.Geo.CountryISOCode != net.fields["country_iso"] {
			t.Errorf("%s: %q %q, want %q %q", net.p, ep.Geo.CityName, ep.Geo.CountryISOCode, net.fields["city"], net.fields["country_iso"])
		}
		lat, _ := strconv.ParseFloat(net.fields["latitude"], 64)
		lon, _ := strconv.ParseFloat(net.fields["longitude"], 64)
		if ep.Geo.Location.Lat != lat || ep.Geo.Location.Lon != lon {
			t.Errorf("%s: location %v, want %v,%v", net.p, ep.Geo.Location, lat, lon)
		}
	}
	if n < 10 {
		t.Fatalf("only %d networks with a city", n)
	}
}

// The pcap truth table: every address the shared captures have in the ASN
// test database.
func TestGeoPcapHits(t *testing.T) {
	s := openGeoShared(t, "GeoIP2-City-Test.mmdb", "GeoLite2-ASN-Test.mmdb")
	w := s.NewWorker()
	f, err := os.Open("../../shared/pcaps/truth/geoip-hits.tsv")
	if err != nil {
		t.Skipf("truth table missing: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header: pcap ip city_db.country_iso city_db.city country_db.country_iso asn_db.asn asn_db.org
	n := 0
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) < 7 {
			t.Fatalf("short line %q", sc.Text())
		}
		n++
		ep := enrichIP(w, c[1])
		if ep.Geo.CountryISOCode != c[2] || ep.Geo.CityName != c[3] {
			t.Errorf("%s %s: geo %q %q, want %q %q", c[0], c[1], ep.Geo.CountryISOCode, ep.Geo.CityName, c[2], c[3])
		}
		if got := strconv.FormatInt(ep.AS.Number, 10); got != c[5] || ep.AS.Organization.Name != c[6] {
			t.Errorf("%s %s: AS %s %q, want %s %q", c[0], c[1], got, ep.AS.Organization.Name, c[5], c[6])
		}
	}
	if n == 0 {
		t.Fatal("empty truth table")
	}
}

func TestGeoSkipsNonGlobal(t *testing.T) {
	for _, ip := range []string{"10.1.2.3", "172.16.0.1", "192.168.1.1", "127.0.0.1", "169.254.1.1", "224.0.0.1",
		"255.255.255.255", "0.0.0.0", "0.1.2.3", "100.64.0.1", "192.0.2.1", "198.51.100.7", "203.0.113.9", "198.18.0.1", "240.0.0.1",
		"::", "::1", "fe80::1", "fc00::1", "fd12::1", "ff02::1", "2001:db8::1", "3fff::1", "100::1"} {
		if Geolocatable(netip.MustParseAddr(ip)) {
			t.Errorf("%s: geolocatable", ip)
		}
	}
	for _, ip := range []string{"81.2.69.142", "8.8.8.8", "2001:218::1", "2600:6000::1", "100.128.0.1", "2002:5102:458e::1"} {
		if !Geolocatable(netip.MustParseAddr(ip)) {
			t.Errorf("%s: not geolocatable", ip)
		}
	}
	s := openGeoShared(t, "GeoIP2-City-Test.mmdb", "GeoLite2-ASN-Test.mmdb")
	w := s.NewWorker().(*Worker)
	enrichIP(w, "192.168.1.1")
	w.Flush()
	if st := s.Stats(); st.GeoLookups != 0 || st.GeoSkipped != 2 { // source and destination
		t.Errorf("stats %+v, want no lookups and 2 skipped", st)
	}
}

func TestGeoBadData(t *testing.T) {
	needGeo(t)
	files, _ := filepath.Glob(filepath.Join(geoDir, "bad-data", "*.mmdb"))
	if len(files) == 0 {
		t.Skip("no bad-data databases")
	}
	for _, f := range files {
		for _, cfg := range []Config{{GeoIPCity: f}, {GeoIPASN: f}} {
			_, err := Open(cfg, nil)
			if err == nil {
				t.Errorf("%s: opened", f)
				continue
			}
			if !strings.Contains(err.Error(), f) {
				t.Errorf("%s: error does not name the file: %v", f, err)
			}
			t.Logf("%v", err)
		}
	}
	// Wrong kind of database for the slot, and not a database at all.
	for _, cfg := range []Config{
		{GeoIPCity: filepath.Join(geoDir, "GeoLite2-ASN-Test.mmdb")},
		{GeoIPASN: filepath.Join(geoDir, "GeoIP2-City-Test.mmdb")},
		{GeoIPCity: filepath.Join(geoDir, "README.md")},
		{GeoIPCity: filepath.Join(geoDir, "missing.mmdb")},
	} {
		if _, err := Open(cfg, nil); err == nil {
			t.Errorf("%+v: opened", cfg)
		} else {
			t.Logf("%v", err)
		}
	}
}
