package schemas

// Network is ECS `network.*`.
type Network struct {
	Transport   string `json:"transport,omitempty" expr:"transport"`
	Type        string `json:"type,omitempty" expr:"type"`
	IANANumber  string `json:"iana_number,omitempty" expr:"iana_number"`
	Protocol    string `json:"protocol,omitempty" expr:"protocol"`
	Direction   string `json:"direction,omitempty" expr:"direction"`
	Bytes       int64  `json:"bytes,omitempty" expr:"bytes"`
	Packets     int64  `json:"packets,omitempty" expr:"packets"`
	CommunityID string `json:"community_id,omitempty" expr:"community_id"`
	VLAN        VLAN   `json:"vlan,omitzero" expr:"vlan"`
	Inner       Inner  `json:"inner,omitzero" expr:"inner"`
}

// VLAN is ECS `network.vlan` (the id is a keyword in ECS).
type VLAN struct {
	ID string `json:"id,omitempty" expr:"id"`
}

// Inner is ECS `network.inner`: the inner VLAN of a QinQ frame.
type Inner struct {
	VLAN VLAN `json:"vlan,omitzero" expr:"vlan"`
}

// Endpoint is ECS `source.*` or `destination.*`.
type Endpoint struct {
	IP      string `json:"ip,omitempty" expr:"ip"`
	Port    int    `json:"port,omitempty" expr:"port"`
	MAC     string `json:"mac,omitempty" expr:"mac"`
	Domain  string `json:"domain,omitempty" expr:"domain"`
	Bytes   int64  `json:"bytes,omitempty" expr:"bytes"`
	Packets int64  `json:"packets,omitempty" expr:"packets"`
	Geo     Geo    `json:"geo,omitzero" expr:"geo"`
	AS      AS     `json:"as,omitzero" expr:"as"`
}

// Geo is ECS `*.geo`.
type Geo struct {
	ContinentName  string   `json:"continent_name,omitempty" expr:"continent_name"`
	CountryISOCode string   `json:"country_iso_code,omitempty" expr:"country_iso_code"`
	CountryName    string   `json:"country_name,omitempty" expr:"country_name"`
	RegionName     string   `json:"region_name,omitempty" expr:"region_name"`
	CityName       string   `json:"city_name,omitempty" expr:"city_name"`
	Location       GeoPoint `json:"location,omitzero" expr:"location"`
}

// GeoPoint is an ECS geo_point.
type GeoPoint struct {
	Lat float64 `json:"lat" expr:"lat"`
	Lon float64 `json:"lon" expr:"lon"`
}

// AS is ECS `*.as`.
type AS struct {
	Number       int64 `json:"number,omitempty" expr:"number"`
	Organization struct {
		Name string `json:"name,omitempty" expr:"name"`
	} `json:"organization,omitzero" expr:"organization"`
}
