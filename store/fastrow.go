package store

import "github.com/packetsleuth/packetsleuth/internal/jsonscan"

// fastDecode fills r (zeroed) from doc with jsonscan: the JSON decoding of
// every event was most of a collector's CPU. It says false where jsonscan
// does and on the traffic and stats objects (a few a second, many
// fields): the caller then decodes with encoding/json, so the row is the
// same either way (FuzzFastDecode).
func (r *row) fastDecode(doc []byte) bool {
	s := jsonscan.New(doc)
	return s.Object(func(key []byte) bool {
		switch string(key) {
		case "@timestamp":
			return s.Time(&r.Timestamp)
		case "observer":
			return s.Object(func(k []byte) bool {
				switch string(k) {
				case "name":
					return s.Str(&r.Observer.Name)
				case "hostname":
					return s.Str(&r.Observer.Hostname)
				case "version":
					return s.Str(&r.Observer.Version)
				case "geo":
					return s.Object(func(k []byte) bool {
						if string(k) == "name" {
							return s.Str(&r.Observer.Geo.Name)
						}
						return s.Other(k, "name")
					})
				}
				return s.Other(k, "name", "hostname", "version", "geo")
			})
		case "agent":
			return s.Object(func(k []byte) bool {
				switch string(k) {
				case "id":
					return s.Str(&r.Agent.ID)
				case "version":
					return s.Str(&r.Agent.Version)
				}
				return s.Other(k, "id", "version")
			})
		case "event":
			return s.Object(func(k []byte) bool {
				e := &r.Event
				switch string(k) {
				case "id":
					return s.Str(&e.ID)
				case "kind":
					return s.Str(&e.Kind)
				case "dataset":
					return s.Str(&e.Dataset)
				case "severity":
					return s.Int(&e.Severity)
				case "duration":
					return s.Int64(&e.Duration)
				}
				return s.Other(k, "id", "kind", "dataset", "severity", "duration")
			})
		case "network":
			return s.Object(func(k []byte) bool {
				n := &r.Network
				switch string(k) {
				case "transport":
					return s.Str(&n.Transport)
				case "protocol":
					return s.Str(&n.Protocol)
				case "bytes":
					return s.Int64(&n.Bytes)
				case "packets":
					return s.Int64(&n.Packets)
				case "community_id":
					return s.Str(&n.CommunityID)
				}
				return s.Other(k, "transport", "protocol", "bytes", "packets", "community_id")
			})
		case "source":
			return endpointOf(s, &r.Source.endpoint, &r.Source.Geo.Country)
		case "destination":
			return endpointOf(s, &r.Destination, nil)
		case "rule":
			return s.Object(func(k []byte) bool {
				switch string(k) {
				case "id":
					return s.Str(&r.Rule.ID)
				case "name":
					return s.Str(&r.Rule.Name)
				}
				return s.Other(k, "id", "name")
			})
		case "packetsleuth":
			return s.Object(func(k []byte) bool {
				switch string(k) {
				case "traffic", "stats", "dhcp":
					return false // rare (a few a second), many fields: encoding/json
				}
				return s.Other(k, "traffic", "stats", "dhcp")
			})
		}
		return s.Other(key, "@timestamp", "observer", "agent", "event", "network", "source", "destination", "rule", "packetsleuth")
	}) && s.End()
}

// endpointOf reads a source or destination object into e, and its
// geo.country_iso_code into country unless nil (the destination's: no
// column holds it).
func endpointOf(s *jsonscan.Scanner, e *endpoint, country *string) bool {
	return s.Object(func(k []byte) bool {
		switch string(k) {
		case "ip":
			return s.Str(&e.IP)
		case "port":
			return s.Int(&e.Port)
		case "geo":
			if country != nil {
				return s.Object(func(k []byte) bool {
					if string(k) == "country_iso_code" {
						return s.Str(country)
					}
					return s.Other(k, "country_iso_code")
				})
			}
			return s.Other(k) // skipped
		}
		if country == nil {
			return s.Other(k, "ip", "port")
		}
		return s.Other(k, "ip", "port", "geo")
	})
}
