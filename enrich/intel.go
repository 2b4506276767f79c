package enrich

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// ECS indicator types written to threat.enrichments.indicator.type. ECS
// (STIX 2) has no type for TLS fingerprints, so ja3, ja3s and ja4 are ours.
const (
	TypeIPv4   = "ipv4-addr"
	TypeIPv6   = "ipv6-addr"
	TypeDomain = "domain-name"
	TypeURL    = "url"
	TypeJA3    = "ja3"
	TypeJA3S   = "ja3s"
	TypeJA4    = "ja4"
	TypeFile   = "file" // an MD5, SHA-1 or SHA-256 of a file's content
)

// MatchType is the ECS threat.enrichments.matched.type of every match.
const MatchType = "indicator_match_rule"

// maxLineErrors caps the bad lines reported per file; the rest are counted.
const maxLineErrors = 100

// LineError is a bad line in an intel file.
type LineError struct {
	File string
	Line int
	Msg  string
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// indicatorMeta is what an indicator says about itself, shared by every
// indicator with the same values (a plain list has one or two).
type indicatorMeta struct {
	Type        string // one of the Type* constants
	Provider    string // indicator.provider, else the feed name, else the file's base name
	Confidence  string
	TLP         string
	Description string
}

// IntelCounts counts loaded indicators by kind.
type IntelCounts struct {
	Files      int `json:"files"`
	IPv4       int `json:"ipv4"` // IPv4 addresses and CIDRs (as listed, before merging)
	IPv6       int `json:"ipv6"`
	Domains    int `json:"domains"`
	URLs       int `json:"urls"`
	JA3        int `json:"ja3"`
	JA3S       int `json:"ja3s"`
	JA4        int `json:"ja4"`
	FileHashes int `json:"file_hashes"` // MD5, SHA-1 and SHA-256 (a bare 32-digit value counts as JA3 and MD5)
	TableBytes int `json:"table_bytes"` // memory of the IP interval tables
}

// intelDB is one immutable generation of threat intelligence.
type intelDB struct {
	metas []indicatorMeta
	sets  [][]uint32 // indexes into metas
	v4    v4Table
	v6    v6Table
	// Keys are normalised: lower case, no trailing dot (domains), see normURL (URLs).
	domains, urls, ja3, ja3s, ja4 map[string]payload
	// File hashes by length of their hex: 32 (MD5), 40 (SHA-1), 64 (SHA-256).
	md5, sha1, sha256 map[string]payload
	counts            IntelCounts
}

// each calls fn for every indicator metadata record behind p.
func (db *intelDB) each(p payload, fn func(m *indicatorMeta)) {
	switch {
	case p == 0:
	case p&setBit != 0:
		for _, i := range db.sets[p&^setBit] {
			fn(&db.metas[i])
		}
	default:
		fn(&db.metas[p-1])
	}
}

func (db *intelDB) lookupIP(a netip.Addr) payload {
	if a.Is4() {
		return db.v4.lookup(addr32(a))
	}
	return db.v6.lookup(addr128(a))
}

// lookupDomain finds the longest listed suffix (on a label boundary) of the
// normalised name. It returns the payload and where the suffix starts.
func (db *intelDB) lookupDomain(name []byte) (payload, int) {
	if len(db.domains) == 0 {
		return 0, 0
	}
	for i := 0; i < len(name); {
		if p, ok := db.domains[string(name[i:])]; ok {
			return p, i
		}
		j := bytes.IndexByte(name[i:], '.')
		if j < 0 {
			break
		}
		i += j + 1
	}
	return 0, 0
}

// intelBuilder accumulates indicators from files.
type intelBuilder struct {
	lastMeta indicatorMeta // the meta call's one-entry cache
	lastP    payload
	metaIdx  map[indicatorMeta]payload
	setIdx   map[string]payload
	db       intelDB
	v4       []span[k4]
	v6       []span[u128]
}

func newIntelBuilder() *intelBuilder {
	return &intelBuilder{
		metaIdx: map[indicatorMeta]payload{},
		setIdx:  map[string]payload{},
		db: intelDB{
			domains: map[string]payload{}, urls: map[string]payload{},
			ja3: map[string]payload{}, ja3s: map[string]payload{}, ja4: map[string]payload{},
			md5: map[string]payload{}, sha1: map[string]payload{}, sha256: map[string]payload{},
		},
	}
}

func (b *intelBuilder) meta(m indicatorMeta) payload {
	if b.lastP != 0 && m == b.lastMeta {
		return b.lastP
	}
	p, ok := b.metaIdx[m]
	if !ok {
		b.db.metas = append(b.db.metas, m)
		p = payload(len(b.db.metas))
		b.metaIdx[m] = p
	}
	b.lastMeta, b.lastP = m, p
	return p
}

// members lists the metadata indexes behind p.
func (b *intelBuilder) members(p payload, dst []uint32) []uint32 {
	if p&setBit != 0 {
		return append(dst, b.db.sets[p&^setBit]...)
	}
	return append(dst, p-1)
}

// merge returns the payload for the union of a and c (interned).
func (b *intelBuilder) merge(a, c payload) payload {
	if a == c {
		return a
	}
	ms := b.members(c, b.members(a, nil))
	// Small sets: sort and dedupe by hand.
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && ms[j] < ms[j-1]; j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
	n := 0
	for i, v := range ms {
		if i == 0 || v != ms[n-1] {
			ms[n] = v
			n++
		}
	}
	ms = ms[:n]
	if len(ms) == 1 {
		return ms[0] + 1
	}
	var key strings.Builder
	for _, v := range ms {
		fmt.Fprintf(&key, "%d,", v)
	}
	if p, ok := b.setIdx[key.String()]; ok {
		return p
	}
	b.db.sets = append(b.db.sets, ms)
	p := payload(len(b.db.sets)-1) | setBit
	b.setIdx[key.String()] = p
	return p
}

func (b *intelBuilder) addKey(m map[string]payload, key string, p payload) {
	if old, ok := m[key]; ok {
		p = b.merge(old, p)
	}
	m[key] = p
}

// kind is an indicator type as a file may spell it, reduced to what we match.
type kind uint8

const (
	kindInfer kind = iota
	kindIP
	kindDomain
	kindURL
	kindJA3
	kindJA3S
	kindJA4
	kindFileHash // MD5, SHA-1 or SHA-256 by its length
	kindHex32    // a bare 32-digit hex value: JA3 or MD5, both kept
)

// parseKind maps the type names of common feeds (ECS/STIX, MISP, plain
// words) to a kind.
func parseKind(s string) (kind, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return kindInfer, true
	case "ip", "ipv4", "ipv6", "ipv4-addr", "ipv6-addr", "ip-addr", "ip-dst", "ip-src", "cidr", "subnet", "network", "netblock":
		return kindIP, true
	case "domain", "domain-name", "hostname", "host", "fqdn":
		return kindDomain, true
	case "url", "uri", "link":
		return kindURL, true
	case "ja3", "ja3-fingerprint-md5", "ja3_hash", "ja3-hash":
		return kindJA3, true
	case "ja3s", "ja3s-fingerprint-md5", "ja3s_hash", "ja3s-hash":
		return kindJA3S, true
	case "ja4", "ja4-fingerprint", "ja4_fingerprint":
		return kindJA4, true
	case "file", "hash", "file-hash", "filehash", "file.hash", "md5", "sha1", "sha-1", "sha256", "sha-256",
		"file-md5", "file-sha1", "file-sha256", "filehash-md5", "filehash-sha1", "filehash-sha256",
		"hash-md5", "hash-sha1", "hash-sha256", "md5_hash", "sha1_hash", "sha256_hash":
		return kindFileHash, true
	}
	return kindInfer, false
}

// add parses one indicator value of kind k; the error message is the part
// after "file:line: ".
func (b *intelBuilder) add(k kind, value string, m indicatorMeta) error {
	v := strings.TrimSpace(value)
	if v == "" {
		return errors.New("empty indicator")
	}
	if k == kindInfer {
		k = inferKind(v)
		if k == kindInfer {
			return fmt.Errorf("cannot tell the indicator type of %q", v)
		}
	}
	switch k {
	case kindIP:
		return b.addIP(v, m)
	case kindDomain:
		if _, err := netip.ParseAddr(v); err == nil {
			return b.addIP(v, m)
		}
		d, ok := normDomain(v)
		if !ok {
			return fmt.Errorf("bad domain %q", v)
		}
		m.Type = TypeDomain
		b.addKey(b.db.domains, d, b.meta(m))
		b.db.counts.Domains++
	case kindURL:
		u, ok := normURLString(v)
		if !ok {
			return fmt.Errorf("bad URL %q (want scheme://host/path)", v)
		}
		m.Type = TypeURL
		b.addKey(b.db.urls, u, b.meta(m))
		b.db.counts.URLs++
	case kindJA3, kindJA3S:
		if !isHex(v, 32) {
			return fmt.Errorf("bad JA3 hash %q (want 32 hex digits)", v)
		}
		if k == kindJA3 {
			m.Type = TypeJA3
			b.addKey(b.db.ja3, strings.ToLower(v), b.meta(m))
			b.db.counts.JA3++
		} else {
			m.Type = TypeJA3S
			b.addKey(b.db.ja3s, strings.ToLower(v), b.meta(m))
			b.db.counts.JA3S++
		}
	case kindFileHash:
		return b.addFileHash(v, m)
	case kindHex32:
		if err := b.add(kindJA3, v, m); err != nil {
			return err
		}
		return b.addFileHash(v, m)
	case kindJA4:
		if !isJA4(v) {
			return fmt.Errorf("bad JA4 fingerprint %q (want like t13d1516h2_8daaf6152771_b186095e22b6)", v)
		}
		m.Type = TypeJA4
		b.addKey(b.db.ja4, strings.ToLower(v), b.meta(m))
		b.db.counts.JA4++
	}
	return nil
}

// addFileHash adds an MD5, SHA-1 or SHA-256, told apart by length.
func (b *intelBuilder) addFileHash(v string, m indicatorMeta) error {
	var to map[string]payload
	switch {
	case isHex(v, 32):
		to = b.db.md5
	case isHex(v, 40):
		to = b.db.sha1
	case isHex(v, 64):
		to = b.db.sha256
	default:
		return fmt.Errorf("bad file hash %q (want the 32, 40 or 64 hex digits of an MD5, SHA-1 or SHA-256)", v)
	}
	m.Type = TypeFile
	b.addKey(to, strings.ToLower(v), b.meta(m))
	b.db.counts.FileHashes++
	return nil
}

func (b *intelBuilder) addIP(v string, m indicatorMeta) error {
	var p netip.Prefix
	if strings.Contains(v, "/") {
		var err error
		p, err = netip.ParsePrefix(v)
		if err != nil || p.Addr().Zone() != "" {
			return fmt.Errorf("bad CIDR %q", v)
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		p = p.Masked()
	} else {
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return fmt.Errorf("bad IP %q", v)
		}
		a = a.Unmap()
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Is4() {
		m.Type = TypeIPv4
		f, l := prefixSpan4(p)
		b.v4 = append(b.v4, span[k4]{f, l, b.meta(m)})
		b.db.counts.IPv4++
	} else {
		m.Type = TypeIPv6
		f, l := prefixSpan6(p)
		b.v6 = append(b.v6, span[u128]{f, l, b.meta(m)})
		b.db.counts.IPv6++
	}
	return nil
}

func (b *intelBuilder) finish() *intelDB {
	b.db.v4 = buildV4(b.v4, b.merge)
	b.db.v6 = buildV6(b.v6, b.merge)
	b.v4, b.v6 = nil, nil
	b.db.counts.TableBytes = b.db.v4.bytes() + b.db.v6.bytes()
	return &b.db
}

// enrichment builds one threat.enrichments element.
func enrichment(m *indicatorMeta, field, atomic string) schemas.ThreatEnrichment {
	var e schemas.ThreatEnrichment
	e.Indicator.Type = m.Type
	e.Indicator.Provider = m.Provider
	e.Indicator.Confidence = m.Confidence
	e.Indicator.Description = m.Description
	e.Indicator.Marking.TLP = m.TLP
	e.Matched = schemas.ThreatMatched{Atomic: atomic, Field: field, Type: MatchType}
	return e
}
