// Package enrich adds context to events in the worker, after parsing and
// before the rules, so rules can use it: GeoIP (City or Country, and ASN),
// threat-intel matches, and network.direction from the home networks.
//
// # Use
//
//	sh, err := enrich.Open(cfg, log)  // loads and checks everything
//	go sh.Watch(ctx, 30*time.Second)    // reload changed files
//	go sh.ReloadOnSignal(ctx, syscall.SIGHUP)
//	e := sh.NewWorker()                 // one per worker goroutine
//	e.Enrich(ev)                        // hot path: no I/O, no locks but the first-seen table's shard
//
// Shared data are immutable snapshots behind an atomic pointer. A reload
// builds a new snapshot aside and swaps it in; workers pick it up on their
// next event (clearing their cache) and are never blocked, so no event is
// dropped. A reload that fails (unreadable or corrupt database, any bad
// intel line) keeps the current snapshot and logs and counts the error.
//
// # What is filled
//
// For source.ip and destination.ip: *.geo.{continent_name, country_iso_code,
// country_name, region_name (most specific subdivision), city_name,
// location} and *.as.{number, organization.name}, in English. Addresses that
// are not global unicast, private, or in the reserved ranges listed in
// [Geolocatable] are not looked up.
//
// Threat intel is matched on: source.ip, destination.ip, dns.resolved_ip
// (IP and CIDR indicators, longest prefix wins); dns.question.name,
// dns.answers.name, dns.answers.data of CNAME answers, url.domain,
// tls.client.server_name (domain indicators, matching the name and its
// subdomains, longest listed suffix wins, case-insensitive, trailing dot
// ignored); the full request URL (URL indicators, see appendURL for the
// normalisation); tls.client.ja3, packetsleuth.tls.ja4, tls.server.ja3s. When
// several feeds list the same winning indicator, each gives one element of
// threat.enrichments with indicator.{type, provider, confidence,
// marking.tlp, description}, indicator.ip (the matched address) or
// indicator.url.domain / url.original (the listed domain or URL), and
// matched.{atomic (the event's value), field (its ECS name), type
// "indicator_match_rule"}.
//
// # First seen
//
// With Config.FirstSeen.Window set and Shared.TrackFirstSeen called, the
// registered domain of each DNS query, HTTP request or file URL and TLS
// server name is recorded in a shared internal/firstseen table, and the
// event gets packetsleuth.domain.{name, first_seen, new}; Close writes the
// table to FirstSeen.File.
//
// # Intel files
//
// Plain lists (one indicator a line, type inferred, '#' comments and
// "# feed:", "# confidence:", "# tlp:", "# type:", "# description:"
// directives), CSV with a header naming a type and an indicator column, and
// ECS threat-indicator NDJSON. Every bad line is reported as
// "file:line: problem" (up to 100 a file), and a file with bad lines is not
// loaded.
//
// # Cost
//
// Each worker caches per address (2-way set associative, Config.CacheSize
// entries) the GeoIP answer and the IP-intel answer, so a cache hit costs a
// hash and no allocation; a miss costs the database decode (a few µs for a
// City + ASN record). IP indicators live in sorted interval tables (about
// 12.5 bytes per IPv4 prefix, tens of ns per lookup at 10 million
// prefixes); see iptable.go.
package enrich
