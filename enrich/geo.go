package enrich

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"

	geoip2 "github.com/oschwald/geoip2-golang/v2"
	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// geoDB is one opened MaxMind-format database (MaxMind GeoIP2/GeoLite2 or
// DB-IP's mmdb files).
//
// The file is read into memory rather than memory-mapped: a database that
// is rewritten in place (cp over it) while mapped can crash the process, and
// a heap copy is collected once no worker's snapshot refers to it, so a
// reload never has to know when the last lookup in the old one finished.
type geoDB struct {
	path   string
	dbType string
	built  time.Time
	r      *geoip2.Reader
}

// geoRole says what a database is opened for.
type geoRole int

const (
	roleCity geoRole = iota // City or Country data
	roleASN
)

func (r geoRole) String() string {
	if r == roleASN {
		return "ASN"
	}
	return "City/Country"
}

// maxGeoFile bounds a database file (the full GeoIP2 City is about 130 MB).
const maxGeoFile = 2 << 30

// openGeo reads, checks and opens a database for role. Corrupt files are
// rejected here: the whole file is verified (search tree, data section and
// metadata), so a lookup later never meets bad data from a file we accepted.
func openGeo(path string, role geoRole) (*geoDB, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("geoip: %w", err)
	}
	if fi.Size() > maxGeoFile {
		return nil, fmt.Errorf("geoip: %s: file too large (%d bytes)", path, fi.Size())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("geoip: %w", err)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("geoip: %s: empty file", path)
	}
	mm, err := maxminddb.OpenBytes(b)
	if err != nil {
		return nil, fmt.Errorf("geoip: %s: not a valid MaxMind DB file: %w", path, err)
	}
	if err := mm.Verify(); err != nil {
		return nil, fmt.Errorf("geoip: %s: corrupt MaxMind DB file: %w", path, err)
	}
	r, err := geoip2.OpenBytes(b)
	if err != nil {
		return nil, fmt.Errorf("geoip: %s: %w", path, err)
	}
	db := &geoDB{path: path, dbType: r.Metadata().DatabaseType, built: r.Metadata().BuildTime(), r: r}
	// Ask the reader whether it can answer our question for this type.
	probe := netip.IPv4Unspecified()
	var ime geoip2.InvalidMethodError
	switch role {
	case roleCity:
		_, err = r.City(probe)
	case roleASN:
		_, err = r.ASN(probe)
	}
	if errors.As(err, &ime) {
		return nil, fmt.Errorf("geoip: %s: a %s database cannot serve %s lookups", path, db.dbType, role)
	}
	if err != nil {
		return nil, fmt.Errorf("geoip: %s: %w", path, err)
	}
	return db, nil
}

func (g *geoDB) describe() string {
	if g == nil {
		return ""
	}
	return fmt.Sprintf("%s (%s, built %s)", g.path, g.dbType, g.built.UTC().Format(time.DateOnly))
}

// city fills geo from a City or Country database. It reports whether the
// address was found with data, and any decoding error.
func (g *geoDB) city(a netip.Addr, geo *schemas.Geo) (bool, error) {
	c, err := g.r.City(a)
	if err != nil {
		return false, err
	}
	if !c.HasData() {
		return false, nil
	}
	geo.ContinentName = c.Continent.Names.English
	geo.CountryISOCode = c.Country.ISOCode
	geo.CountryName = c.Country.Names.English
	geo.CityName = c.City.Names.English
	// Like Elasticsearch's geoip processor: the most specific subdivision.
	for i := len(c.Subdivisions) - 1; i >= 0; i-- {
		if n := c.Subdivisions[i].Names.English; n != "" {
			geo.RegionName = n
			break
		}
	}
	if c.Location.HasCoordinates() {
		geo.Location = schemas.GeoPoint{Lat: *c.Location.Latitude, Lon: *c.Location.Longitude}
	}
	return *geo != (schemas.Geo{}), nil
}

func (g *geoDB) asn(a netip.Addr, as *schemas.AS) (bool, error) {
	r, err := g.r.ASN(a)
	if err != nil {
		return false, err
	}
	if !r.HasData() {
		return false, nil
	}
	as.Number = int64(r.AutonomousSystemNumber)
	as.Organization.Name = r.AutonomousSystemOrganization
	return true, nil
}

// reserved lists the special-purpose ranges (IANA IPv4/IPv6 Special-Purpose
// Address Registries) that netip.Addr's predicates do not already cover and
// that no geolocation database places anywhere. GeoIP is skipped for an
// address that is not global unicast (unspecified, loopback, multicast,
// link-local, 255.255.255.255), is private (10/8, 172.16/12, 192.168/16,
// fc00::/7) or falls in one of these. Threat-intel matching is not affected.
var reserved = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (CGNAT)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved (future use)
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001:2::/48"),     // benchmarking
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("3fff::/20"),       // documentation (RFC 9637)
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
}

// Geolocatable reports whether GeoIP is looked up for a (see reserved).
// a must be unmapped (IPv4 as IPv4).
func Geolocatable(a netip.Addr) bool {
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		return false
	}
	for _, p := range reserved {
		if p.Contains(a) {
			return false
		}
	}
	return true
}
