package schemas

// Network is ECS `network.*`.
type Network struct {
	// Transport protocol, named after network.iana_number. Example: tcp
	Transport string `json:"transport,omitempty" expr:"transport" encode:"run"`
	// In the OSI Model this would be the Network Layer. ipv4, ipv6, ipsec, pim, etc. Example: ipv4
	Type string `json:"type,omitempty" expr:"type" encode:"run"`
	// IANA Protocol Number. Example: 6
	IANANumber string `json:"iana_number,omitempty" expr:"iana_number" encode:"run"`
	// Application protocol name. Example: http
	Protocol string `json:"protocol,omitempty" expr:"protocol" encode:"run"`
	// Direction of the network traffic. Example: outbound
	Direction string `json:"direction,omitempty" expr:"direction" encode:"run"`
	// Total bytes transferred in both directions. Example: 368
	Bytes int64 `json:"bytes,omitempty" expr:"bytes"`
	// Total packets transferred in both directions. Example: 24
	Packets int64 `json:"packets,omitempty" expr:"packets"`
	// A hash of source and destination IPs and ports. Example: 1:e0H8FXGKa3iNVFPGza+GE3x1Op8=
	CommunityID string `json:"community_id,omitempty" expr:"community_id"`
	VLAN        VLAN   `json:"vlan,omitzero" expr:"vlan"`
	Inner       Inner  `json:"inner,omitzero" expr:"inner"`
}

// VLAN is ECS `network.vlan` (the id is a keyword in ECS).
type VLAN struct {
	// VLAN ID as reported by the observer. Example: 100
	ID string `json:"id,omitempty" expr:"id"`
}

// Inner is ECS `network.inner`: the inner VLAN of a QinQ frame.
type Inner struct {
	VLAN VLAN `json:"vlan,omitzero" expr:"vlan"`
}

// Endpoint is ECS `source.*` or `destination.*`.
type Endpoint struct {
	// IP address of the endpoint. Example: 192.0.2.80
	IP string `json:"ip,omitempty" expr:"ip" es:"ip"`
	// Port of the endpoint. Example: 443
	Port int `json:"port,omitempty" expr:"port"`
	// MAC address of the endpoint. Example: 02-00-00-00-00-01
	MAC string `json:"mac,omitempty" expr:"mac"`
	// The domain name of the endpoint. Example: www.example.com
	Domain string `json:"domain,omitempty" expr:"domain"`
	// Bytes sent by the endpoint. Example: 476
	Bytes int64 `json:"bytes,omitempty" expr:"bytes"`
	// Packets sent by the endpoint. Example: 6
	Packets int64 `json:"packets,omitempty" expr:"packets"`
	Geo     Geo   `json:"geo,omitzero" expr:"geo"`
	AS      AS    `json:"as,omitzero" expr:"as"`
}

// Geo is ECS `*.geo`.
type Geo struct {
	// Name of the continent. Example: Europe
	ContinentName string `json:"continent_name,omitempty" expr:"continent_name"`
	// Country ISO code. Example: FR
	CountryISOCode string `json:"country_iso_code,omitempty" expr:"country_iso_code"`
	// Country name. Example: France
	CountryName string `json:"country_name,omitempty" expr:"country_name"`
	// Region name. Example: Île-de-France
	RegionName string `json:"region_name,omitempty" expr:"region_name"`
	// City name. Example: Paris
	CityName string `json:"city_name,omitempty" expr:"city_name"`
	// Longitude and latitude. Example: {"lat": 48.8534, "lon": 2.3488}
	Location GeoPoint `json:"location,omitzero" expr:"location" es:"geo_point"`
}

// GeoPoint is an ECS geo_point.
type GeoPoint struct {
	// Latitude of the location. Example: 48.8534
	Lat float64 `json:"lat" expr:"lat"`
	// Longitude of the location. Example: 2.3488
	Lon float64 `json:"lon" expr:"lon"`
}

// AS is ECS `*.as`.
type AS struct {
	// Unique number allocated to the autonomous system. Example: 64496
	Number       int64 `json:"number,omitempty" expr:"number"`
	Organization struct {
		// Organization name. Example: Example Networks
		Name string `json:"name,omitempty" expr:"name"`
	} `json:"organization,omitzero" expr:"organization"`
}
