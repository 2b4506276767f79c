package enrich

import (
	"errors"
	"fmt"
	"strings"

	"github.com/packetsleuth/packetsleuth/internal/firstseen"
	"github.com/packetsleuth/packetsleuth/internal/homenet"
)

// Config selects the enrichment data. The zero value enables nothing but is
// valid: Enrich then leaves events as they are.
type Config struct {
	// GeoIPCity is a City or Country database in MaxMind DB format
	// (GeoIP2/GeoLite2 City or Country, DB-IP City/Country Lite). Flag
	// --geoip-city.
	GeoIPCity string `yaml:"geoip_city" json:"geoip_city,omitempty"`
	// GeoIPASN is an ASN database (GeoLite2-ASN, GeoIP2-ISP, DB-IP ASN
	// Lite). Flag --geoip-asn.
	GeoIPASN string `yaml:"geoip_asn" json:"geoip_asn,omitempty"`
	// Intel lists threat-intel files: plain lists, CSV (.csv) or ECS
	// indicator NDJSON (.json, .ndjson, .jsonl); a directory stands for
	// every file in it. Flag --intel, repeatable.
	Intel []string `yaml:"intel" json:"intel,omitempty"`
	// HomeNet lists the home networks (CIDRs or single addresses; an entry
	// may hold several separated by commas, as the --home-net flag does).
	// It sets network.direction and is the rules' home_networks list;
	// empty means homenet.Default (the private ranges).
	HomeNet []string `yaml:"home_net" json:"home_net,omitempty"`
	// CacheSize is the number of addresses each worker caches (GeoIP and
	// IP-intel answers), rounded up to a power of two. 0 means 8192.
	CacheSize int `yaml:"cache_size" json:"cache_size,omitempty"`
	// FirstSeen keeps when each domain was first seen, for
	// packetsleuth.domain.* (Shared.TrackFirstSeen).
	FirstSeen firstseen.Config `yaml:"first_seen" json:"first_seen,omitzero"`
}

// DefaultCacheSize is the per-worker address cache size when CacheSize is 0.
const DefaultCacheSize = 8192

// maxCacheSize bounds CacheSize (24 bytes a slot plus the cached answers).
const maxCacheSize = 1 << 22

// Validate checks the configuration without touching files; it returns
// every problem found.
func (c Config) Validate() error {
	var errs []error
	if _, err := c.homeNet(); err != nil {
		errs = append(errs, err)
	}
	if err := c.FirstSeen.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.CacheSize < 0 || c.CacheSize > maxCacheSize {
		errs = append(errs, fmt.Errorf("enrich.cache_size: %d out of range 0..%d", c.CacheSize, maxCacheSize))
	}
	seen := map[string]bool{}
	for i, p := range c.Intel {
		switch {
		case strings.TrimSpace(p) == "":
			errs = append(errs, fmt.Errorf("enrich.intel[%d]: empty path", i))
		case seen[p]:
			errs = append(errs, fmt.Errorf("enrich.intel[%d]: %s listed twice", i, p))
		}
		seen[p] = true
	}
	if c.GeoIPCity != "" && c.GeoIPCity == c.GeoIPASN {
		errs = append(errs, fmt.Errorf("enrich: geoip_city and geoip_asn are the same file %s", c.GeoIPCity))
	}
	return errors.Join(errs...)
}

func (c Config) cacheSize() int {
	n := c.CacheSize
	if n <= 0 {
		n = DefaultCacheSize
	}
	n = min(n, maxCacheSize)
	p := 2 // two ways per set
	for p < n {
		p <<= 1
	}
	return p
}

// homeNet parses HomeNet, or the default home network when it is empty.
func (c Config) homeNet() (homenet.Set, error) {
	return homenet.Parse("enrich.home_net", homenet.Or(c.HomeNet))
}
