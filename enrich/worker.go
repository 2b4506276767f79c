package enrich

import (
	"net/netip"
	"strings"
	"sync/atomic"

	"github.com/packetsleuth/packetsleuth/internal/firstseen"
	"github.com/packetsleuth/packetsleuth/internal/homenet"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// Counters a worker keeps.
const (
	cHits = iota
	cMisses
	cGeoLookups
	cGeoErrors
	cGeoSkipped
	cIntelLookups
	cIntelMatches
	nCounters
)

// publishEvery is how many events a worker enriches between publishing its
// counters (plain increments on the hot path, atomic stores here).
const publishEvery = 64

// ipInfo is what a worker caches per address.
type ipInfo struct {
	geo     schemas.Geo
	as      schemas.AS
	hasGeo  bool
	hasAS   bool
	geoDone bool    // geo/as were looked up (addresses seen only in DNS answers are not)
	intel   payload // IP/CIDR intel match
}

type cacheEntry struct {
	hi, lo uint64
	info   *ipInfo // nil: empty slot
}

// Worker is the per-worker Enricher returned by Shared.NewWorker. It caches
// answers per address in a 2-way set-associative table (LRU within a set)
// that is cleared when a reload swaps the data. Not safe for concurrent
// use.
type Worker struct {
	sh    *Shared
	snap  *snapshot
	home  homenet.Set
	seen  *firstseen.Table
	cache []cacheEntry
	mask  uint64
	buf   []byte
	ends  [2]parsedAddr // the last source.ip and destination.ip read

	n   uint32
	loc [nCounters]uint64
	pub [nCounters]atomic.Uint64
}

// Flush publishes the worker's counters to Shared.Stats now.
func (w *Worker) Flush() {
	for i := range w.loc {
		w.pub[i].Store(w.loc[i])
	}
}

// Close publishes the worker's counters for good and forgets the worker.
func (w *Worker) Close() {
	s := w.sh
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.workers {
		if x == w {
			for j := range w.loc {
				s.retired[j] += w.loc[j]
			}
			s.workers = append(s.workers[:i], s.workers[i+1:]...)
			return
		}
	}
}

// Writes returns the groups of an event Enrich may write.
func (w *Worker) Writes() schemas.Groups {
	return schemas.GroupNetwork | schemas.GroupEmail | schemas.GroupSource | schemas.GroupDestination |
		schemas.GroupThreat | schemas.GroupSensor | schemas.GroupSensorDomain
}

// Enrich fills, on any event with source/destination addresses, their geo
// and as fields and network.direction, and appends a threat.enrichments
// element for every intel match among the addresses, DNS names and
// resolved addresses, URL, TLS server name and fingerprints. Enrich is
// idempotent: running it twice adds no duplicate matches.
func (w *Worker) Enrich(ev *schemas.Event) {
	snap := w.sh.cur.Load()
	if snap != w.snap {
		w.reset(snap)
	}
	if w.n++; w.n%publishEvery == 0 {
		w.Flush()
	}
	src, srcOK := w.ends[0].parse(ev.Source.IP)
	dst, dstOK := w.ends[1].parse(ev.Destination.IP)
	if srcOK && dstOK {
		ev.Network.Direction = w.home.Direction(src, dst)
		if ev.Event.Dataset == schemas.DatasetSMTP {
			ev.Email.Direction = ev.Network.Direction // the client sends the mail
		}
	}
	if w.seen != nil {
		w.firstSeen(ev)
	}
	if snap == nil {
		return
	}
	if srcOK {
		w.endpoint(snap, ev, &ev.Source, src, "source.ip")
	}
	if dstOK {
		w.endpoint(snap, ev, &ev.Destination, dst, "destination.ip")
	}
	db := snap.intel
	if db == nil {
		return
	}
	if ev.DNS.Question.Name != "" || len(ev.DNS.Answers) > 0 || len(ev.DNS.ResolvedIP) > 0 {
		w.dns(snap, ev)
	}
	if ev.URL.Domain != "" {
		w.domain(db, ev, ev.URL.Domain, "url.domain")
	}
	if len(db.urls) > 0 && (ev.URL.Original != "" || ev.URL.Path != "") {
		w.url(db, ev)
	}
	if ev.TLS.Client.ServerName != "" {
		w.domain(db, ev, ev.TLS.Client.ServerName, "tls.client.server_name")
	}
	if ev.TLS.Client.JA3 != "" {
		w.exact(db, db.ja3, ev, ev.TLS.Client.JA3, "tls.client.ja3")
	}
	if ev.Sensor.TLS.JA4 != "" {
		w.exact(db, db.ja4, ev, ev.Sensor.TLS.JA4, "packetsleuth.tls.ja4")
	}
	if ev.TLS.Server.JA3S != "" {
		w.exact(db, db.ja3s, ev, ev.TLS.Server.JA3S, "tls.server.ja3s")
	}
	if h := &ev.File.Hash; *h != (schemas.FileHash{}) {
		w.exact(db, db.sha256, ev, h.SHA256, "file.hash.sha256")
		w.exact(db, db.sha1, ev, h.SHA1, "file.hash.sha1")
		w.exact(db, db.md5, ev, h.MD5, "file.hash.md5")
	}
}

// firstSeen records the domain of a DNS query, an HTTP request or file,
// or a TLS server name, and says on the event when it was first seen.
func (w *Worker) firstSeen(ev *schemas.Event) {
	var name string
	switch ev.Event.Dataset {
	case schemas.DatasetDNS:
		name = ev.DNS.Question.Name
	case schemas.DatasetHTTP, schemas.DatasetFile:
		name = ev.URL.Domain
	case schemas.DatasetTLS:
		name = ev.TLS.Client.ServerName
	}
	if name == "" {
		return
	}
	if s, ok := w.seen.Observe(name, ev.Timestamp); ok {
		ev.Sensor.Domain = schemas.Domain{Name: s.Domain, FirstSeen: s.First, New: s.New}
	}
}

func (w *Worker) reset(snap *snapshot) {
	clear(w.cache)
	w.snap = snap
}

// parsedAddr is an address string and what parseIP made of it. A flow's
// events share one address string (flow.Addrs), and those of an HTTP
// flow come in a row (each file's, each transaction's, the flow's):
// they are parsed once.
type parsedAddr struct {
	s  string
	a  netip.Addr
	ok bool
}

// parse returns parseIP(s), parsing only when s is not the last one (the
// zero parsedAddr is parseIP("")). A string shared with the last event is
// told equal by its pointer, without reading it.
func (p *parsedAddr) parse(s string) (netip.Addr, bool) {
	if s != p.s {
		p.a, p.ok = parseIP(s)
		p.s = s
	}
	return p.a, p.ok
}

// printed sets p to s, which is a printed (netip.Addr.String), as parse
// would have made of it.
func (p *parsedAddr) printed(s string, a netip.Addr) {
	*p = parsedAddr{s: s, a: a.Unmap(), ok: s != "" && a.IsValid()}
}

// AddrsPrinted tells the worker that the next event's source.ip and
// destination.ip are src and dst printed (netip.Addr.String), as a flow's
// event's are: it takes them as parsed instead of parsing them back (a
// flood of new flows parses two addresses per event otherwise). An event
// with other strings is parsed as before.
func (w *Worker) AddrsPrinted(src, dst netip.Addr, srcText, dstText string) {
	w.ends[0].printed(srcText, src)
	w.ends[1].printed(dstText, dst)
}

func parseIP(s string) (netip.Addr, bool) {
	if s == "" {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return a, false
	}
	return a.Unmap(), true
}

func (w *Worker) endpoint(snap *snapshot, ev *schemas.Event, ep *schemas.Endpoint, a netip.Addr, field string) {
	info := w.info(snap, a, true)
	if info == nil {
		return
	}
	if info.hasGeo {
		ep.Geo = info.geo
	}
	if info.hasAS {
		ep.AS = info.as
	}
	if snap.intel != nil {
		w.loc[cIntelLookups]++
		if info.intel != 0 {
			w.ipMatch(snap.intel, ev, info.intel, field, ep.IP)
		}
	}
}

// info returns the cached answers for a, computing what is missing; nil
// when there is nothing to look a up in.
func (w *Worker) info(snap *snapshot, a netip.Addr, wantGeo bool) *ipInfo {
	hasGeoDB := snap.city != nil || snap.asn != nil
	if snap.intel == nil && (!wantGeo || !hasGeoDB) {
		return nil
	}
	k := addr128(a)
	h := (k.hi*0x9e3779b97f4a7c15 ^ k.lo*0xc2b2ae3d27d4eb4f)
	h ^= h >> 29
	i := (h * 0x94d049bb133111eb >> 20) & w.mask &^ 1
	set := w.cache[i : i+2 : i+2]
	var info *ipInfo
	switch {
	case set[0].info != nil && set[0].hi == k.hi && set[0].lo == k.lo:
		info = set[0].info
	case set[1].info != nil && set[1].hi == k.hi && set[1].lo == k.lo:
		set[0], set[1] = set[1], set[0] // most recent first
		info = set[0].info
	}
	if info != nil && (info.geoDone || !wantGeo || !hasGeoDB) {
		w.loc[cHits]++
		return info
	}
	w.loc[cMisses]++
	if info == nil {
		info = &ipInfo{}
		if snap.intel != nil {
			info.intel = snap.intel.lookupIP(a)
		}
		set[1] = set[0]
		set[0] = cacheEntry{hi: k.hi, lo: k.lo, info: info}
	}
	if wantGeo && !info.geoDone {
		info.geoDone = true
		w.geo(snap, a, info)
	}
	return info
}

func (w *Worker) geo(snap *snapshot, a netip.Addr, info *ipInfo) {
	if !Geolocatable(a) {
		w.loc[cGeoSkipped]++
		return
	}
	if snap.city != nil {
		w.loc[cGeoLookups]++
		ok, err := snap.city.city(a, &info.geo)
		if err != nil {
			w.loc[cGeoErrors]++
			info.geo = schemas.Geo{}
		}
		info.hasGeo = ok && err == nil
	}
	if snap.asn != nil {
		w.loc[cGeoLookups]++
		ok, err := snap.asn.asn(a, &info.as)
		if err != nil {
			w.loc[cGeoErrors]++
			info.as = schemas.AS{}
		}
		info.hasAS = ok && err == nil
	}
}

func (w *Worker) dns(snap *snapshot, ev *schemas.Event) {
	db := snap.intel
	q := ev.DNS.Question.Name
	if q != "" {
		w.domain(db, ev, q, "dns.question.name")
	}
	last := q
	for i := range ev.DNS.Answers {
		an := &ev.DNS.Answers[i]
		if an.Name != "" && !strings.EqualFold(an.Name, last) {
			w.domain(db, ev, an.Name, "dns.answers.name")
			last = an.Name
		}
		if an.Data != "" && strings.EqualFold(an.Type, "CNAME") {
			w.domain(db, ev, an.Data, "dns.answers.data")
		}
	}
	for _, s := range ev.DNS.ResolvedIP {
		a, ok := parseIP(s)
		if !ok {
			continue
		}
		w.loc[cIntelLookups]++
		if info := w.info(snap, a, false); info != nil && info.intel != 0 {
			w.ipMatch(db, ev, info.intel, "dns.resolved_ip", s)
		}
	}
}

func (w *Worker) domain(db *intelDB, ev *schemas.Event, name, field string) {
	if len(db.domains) == 0 {
		return
	}
	w.loc[cIntelLookups]++
	var ok bool
	if w.buf, ok = lowerDomain(w.buf, name); !ok {
		return
	}
	p, at := db.lookupDomain(w.buf)
	if p == 0 {
		return
	}
	ind := string(w.buf[at:])
	db.each(p, func(m *indicatorMeta) {
		e := enrichment(m, field, name)
		e.Indicator.URL.Domain = ind
		w.add(ev, e)
	})
}

func (w *Worker) exact(db *intelDB, m map[string]payload, ev *schemas.Event, v, field string) {
	if len(m) == 0 || len(v) > 256 {
		return
	}
	w.loc[cIntelLookups]++
	w.buf = appendLower(w.buf[:0], v)
	p := m[string(w.buf)]
	db.each(p, func(meta *indicatorMeta) { w.add(ev, enrichment(meta, field, v)) })
}

// url matches the request's full URL: url.original when it is absolute,
// else one built from url.scheme (default http), url.domain, url.port and
// url.original (or url.path and url.query).
func (w *Worker) url(db *intelDB, ev *schemas.Event) {
	u := &ev.URL
	if len(u.Original) > maxURL || len(u.Path)+len(u.Query) > maxURL {
		return
	}
	if scheme, hp, rest, ok := splitURL(u.Original); ok {
		w.buf = appendURL(w.buf[:0], scheme, hp, rest)
	} else {
		if u.Domain == "" {
			return
		}
		scheme := u.Scheme
		if scheme == "" {
			scheme = "http"
		}
		w.buf = append(w.buf[:0], scheme...)
		w.buf = append(w.buf, "://"...)
		w.buf = appendLower(w.buf, u.Domain)
		if u.Port != 0 && !(u.Port == 80 && strings.EqualFold(scheme, "http")) && !(u.Port == 443 && strings.EqualFold(scheme, "https")) {
			w.buf = append(w.buf, ':')
			w.buf = appendInt(w.buf, u.Port)
		}
		rest := u.Original
		if rest == "" {
			rest = u.Path
		}
		if i := strings.IndexByte(rest, '#'); i >= 0 {
			rest = rest[:i]
		}
		if rest == "" || rest[0] != '/' {
			w.buf = append(w.buf, '/')
		}
		w.buf = append(w.buf, rest...)
		if u.Original == "" && u.Query != "" {
			w.buf = append(w.buf, '?')
			w.buf = append(w.buf, u.Query...)
		}
		// Scheme lower case, like appendURL.
		for i := 0; i < len(scheme); i++ {
			if c := w.buf[i]; c >= 'A' && c <= 'Z' {
				w.buf[i] = c + 'a' - 'A'
			}
		}
	}
	w.loc[cIntelLookups]++
	p := db.urls[string(w.buf)]
	if p == 0 {
		return
	}
	full := string(w.buf)
	db.each(p, func(m *indicatorMeta) {
		e := enrichment(m, "url.original", full)
		e.Indicator.URL.Original = full
		w.add(ev, e)
	})
}

func appendInt(b []byte, n int) []byte {
	var tmp [20]byte
	i := len(tmp)
	for n > 0 || i == len(tmp) {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, tmp[i:]...)
}

func (w *Worker) ipMatch(db *intelDB, ev *schemas.Event, p payload, field, ip string) {
	db.each(p, func(m *indicatorMeta) {
		e := enrichment(m, field, ip)
		e.Indicator.IP = ip
		w.add(ev, e)
	})
}

// add appends e unless the event already carries it.
func (w *Worker) add(ev *schemas.Event, e schemas.ThreatEnrichment) {
	for i := range ev.Threat.Enrichments {
		if ev.Threat.Enrichments[i] == e {
			return
		}
	}
	ev.Threat.Enrichments = append(ev.Threat.Enrichments, e)
	w.loc[cIntelMatches]++
}
