package enrich

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
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
	counts                        IntelCounts
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

func inferKind(v string) kind {
	if c := v[0]; c >= '0' && c <= '9' || strings.IndexByte(v, ':') >= 0 && !strings.Contains(v, "://") {
		if !strings.Contains(v, "/") {
			if _, err := netip.ParseAddr(v); err == nil {
				return kindIP
			}
		}
	}
	switch {
	case strings.Contains(v, "://"):
		return kindURL
	case strings.Contains(v, "/"):
		return kindIP // a CIDR, or an error naming it
	case isHex(v, 32):
		return kindJA3
	case isJA4(v):
		return kindJA4
	}
	if _, err := netip.ParseAddr(v); err == nil {
		return kindIP
	}
	if _, ok := normDomain(v); ok {
		return kindDomain
	}
	return kindInfer
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// isJA4 checks the JA4 (TLS client) shape: a_b_c with a = 10 characters
// (protocol, version, SNI flag, counts, ALPN) and b, c = 12 hex digits.
func isJA4(s string) bool {
	a, rest, ok := strings.Cut(s, "_")
	if !ok || len(a) != 10 {
		return false
	}
	bb, c, ok := strings.Cut(rest, "_")
	if !ok || !isHex(bb, 12) || !isHex(c, 12) {
		return false
	}
	switch a[0] | 0x20 {
	case 't', 'q', 'd':
	default:
		return false
	}
	for i := 1; i < len(a); i++ {
		ch := a[i]
		if !(ch >= '0' && ch <= '9' || ch|0x20 >= 'a' && ch|0x20 <= 'z') {
			return false
		}
	}
	return true
}

// normDomain lower-cases a domain, drops a trailing dot and a leading "*."
// and checks its syntax (ASCII letters, digits, '-', '_'; labels of 1..63
// bytes; at most 253 bytes; the last label not all digits). Internationalised names must be in punycode.
func normDomain(s string) (string, bool) {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "*."), ".")
	if len(s) == 0 || len(s) > 253 {
		return "", false
	}
	label, digits := 0, true // digits: the current label is all digits
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if label == 0 {
				return "", false
			}
			label, digits = 0, true
			continue
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		case c >= 'A' && c <= 'Z':
		default:
			return "", false
		}
		digits = digits && c >= '0' && c <= '9'
		label++
		if label > 63 {
			return "", false
		}
	}
	// A top-level label is never all digits (RFC 3696): "300.1.1.1" is a
	// bad address, not a name.
	return strings.ToLower(s), label > 0 && !digits
}

// lowerDomain writes the normalised form of an event's domain into dst:
// ASCII lower case, no trailing dot. It reports false for names that cannot
// be on a list (empty or too long).
func lowerDomain(dst []byte, s string) ([]byte, bool) {
	if len(s) > 0 && s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	if len(s) == 0 || len(s) > 253 {
		return dst, false
	}
	return appendLower(dst[:0], s), true
}

func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// URL normalisation, shared by the lists and the events: lower-case scheme
// and host, the scheme's default port dropped, an empty path written "/",
// the fragment dropped; path and query are kept byte for byte.
const maxURL = 8192

func appendURL(dst []byte, scheme, hostport, rest string) []byte {
	dst = appendLower(dst, scheme)
	dst = append(dst, "://"...)
	host, port := hostport, ""
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.Contains(hostport[i:], "]") {
		host, port = hostport[:i], hostport[i+1:]
	}
	dst = appendLower(dst, host)
	if port != "" && !(port == "80" && strings.EqualFold(scheme, "http")) && !(port == "443" && strings.EqualFold(scheme, "https")) {
		dst = append(dst, ':')
		dst = append(dst, port...)
	}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	if rest == "" || rest[0] == '?' {
		dst = append(dst, '/')
	}
	return append(dst, rest...)
}

// splitURL splits "scheme://hostport/rest"; ok is false when s has no
// scheme or host.
func splitURL(s string) (scheme, hostport, rest string, ok bool) {
	scheme, after, ok := strings.Cut(s, "://")
	if !ok || scheme == "" {
		return "", "", "", false
	}
	for i := 0; i < len(scheme); i++ {
		c := scheme[i] | 0x20
		if !(c >= 'a' && c <= 'z' || i > 0 && (scheme[i] >= '0' && scheme[i] <= '9' || scheme[i] == '+' || scheme[i] == '-' || scheme[i] == '.')) {
			return "", "", "", false
		}
	}
	end := strings.IndexAny(after, "/?#")
	if end < 0 {
		end = len(after)
	}
	hostport, rest = after[:end], after[end:]
	if i := strings.LastIndexByte(hostport, '@'); i >= 0 { // userinfo is not part of the match
		hostport = hostport[i+1:]
	}
	if hostport == "" {
		return "", "", "", false
	}
	return scheme, hostport, rest, true
}

func normURLString(s string) (string, bool) {
	if len(s) > maxURL || strings.ContainsAny(s, " \t") {
		return "", false
	}
	scheme, hp, rest, ok := splitURL(s)
	if !ok {
		return "", false
	}
	return string(appendURL(nil, scheme, hp, rest)), true
}

// ---- file formats ----

// loadIntelFile reads one intel file into b, choosing the format from the
// extension (.csv; .json, .ndjson, .jsonl) or, otherwise, from the first
// indicator line ('{' means NDJSON, anything else a plain list).
func (b *intelBuilder) loadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("intel: %w", err)
	}
	defer f.Close()
	b.db.counts.Files++
	feed := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	r := bufio.NewReaderSize(f, 1<<16)
	le := &lineErrs{file: path}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		b.loadCSV(r, feed, le)
	case ".json", ".ndjson", ".jsonl":
		b.loadNDJSON(r, feed, le)
	default:
		if sniffJSON(r) {
			b.loadNDJSON(r, feed, le)
		} else {
			b.loadPlain(r, feed, le)
		}
	}
	if le.ioErr != nil {
		le.errs = append(le.errs, fmt.Errorf("%s: %w", path, le.ioErr))
	}
	if le.more > 0 {
		le.errs = append(le.errs, fmt.Errorf("%s: %d more bad lines", path, le.more))
	}
	return errors.Join(le.errs...)
}

type lineErrs struct {
	file  string
	errs  []error
	more  int
	ioErr error
}

func (l *lineErrs) add(line int, format string, args ...any) {
	if len(l.errs) >= maxLineErrors {
		l.more++
		return
	}
	l.errs = append(l.errs, &LineError{File: l.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func sniffJSON(r *bufio.Reader) bool {
	for n := 1; ; n *= 2 {
		b, err := r.Peek(min(n*512, r.Size()))
		for _, line := range bytes.Split(b, []byte("\n")) {
			line = bytes.TrimSpace(line)
			if len(line) == 0 || line[0] == '#' {
				continue
			}
			return line[0] == '{'
		}
		if err != nil || n*512 >= r.Size() {
			return false
		}
	}
}

// maxLine bounds one line of an intel file.
const maxLine = 1 << 20

func lines(r io.Reader, le *lineErrs, fn func(n int, line string)) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	n := 0
	for sc.Scan() {
		n++
		fn(n, sc.Text())
	}
	if err := sc.Err(); err != nil {
		le.ioErr = fmt.Errorf("after line %d: %w", n, err)
	}
}

// Plain lists: one indicator a line, its type inferred (or set by a
// "# type:" directive), '#' starts a comment. Comment lines of the form
// "# feed: NAME", "# provider: NAME", "# confidence: X", "# tlp: X",
// "# description: TEXT" and "# type: T" set the metadata of the lines that
// follow. Hosts-file lines ("0.0.0.0 evil.example") give the domain.
func (b *intelBuilder) loadPlain(r io.Reader, feed string, le *lineErrs) {
	m := indicatorMeta{Provider: feed}
	k := kindInfer
	lines(r, le, func(n int, line string) {
		line = strings.TrimSpace(line)
		if line == "" {
			return
		}
		if line[0] == '#' {
			key, val, ok := strings.Cut(strings.TrimSpace(line[1:]), ":")
			if !ok {
				return
			}
			val = strings.TrimSpace(val)
			switch strings.ToLower(strings.TrimSpace(key)) {
			case "feed", "provider":
				m.Provider = val
			case "confidence":
				m.Confidence = val
			case "description":
				m.Description = val
			case "tlp":
				t, ok := normTLP(val)
				if !ok {
					le.add(n, "bad TLP %q", val)
					return
				}
				m.TLP = t
			case "type":
				kk, ok := parseKind(val)
				if !ok {
					le.add(n, "unknown indicator type %q", val)
					return
				}
				k = kk
			}
			return
		}
		if i := strings.IndexAny(line, " \t"); i >= 0 {
			rest := strings.TrimSpace(line[i:])
			first := line[:i]
			switch {
			case rest == "" || rest[0] == '#':
				line = first
			case first == "0.0.0.0" || first == "127.0.0.1" || first == "::" || first == "::1":
				host, _, _ := strings.Cut(rest, " ")
				if err := b.add(kindDomain, host, m); err != nil {
					le.add(n, "%v", err)
				}
				return
			default:
				le.add(n, "unexpected text after the indicator: %q", rest)
				return
			}
		}
		if err := b.add(k, line, m); err != nil {
			le.add(n, "%v", err)
		}
	})
}

func normTLP(s string) (string, bool) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimPrefix(t, "TLP:")
	t = strings.TrimSpace(t)
	switch t {
	case "":
		return "", true
	case "WHITE", "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED":
		return t, true
	}
	return "", false
}

// CSV: a header row names the columns; "type" and one of "indicator",
// "value", "ioc" are required (an empty type cell means: infer it). Optional
// columns: "feed"/"provider"/"source", "confidence", "tlp"/"marking",
// "description"/"comment". Other columns are ignored. '#' lines are comments.
func (b *intelBuilder) loadCSV(r io.Reader, feed string, le *lineErrs) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if err != nil {
		var pe *csv.ParseError
		switch {
		case err == io.EOF:
		case errors.As(err, &pe):
			le.add(pe.Line, "bad CSV header: %v", pe.Err)
		default:
			le.ioErr = err
		}
		return
	}
	head = slices.Clone(head) // ReuseRecord
	col := map[string]int{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := col[h]; !dup {
			col[h] = i
		}
	}
	find := func(names ...string) int {
		for _, n := range names {
			if i, ok := col[n]; ok {
				return i
			}
		}
		return -1
	}
	cType, cVal := find("type", "indicator_type", "ioc_type"), find("indicator", "value", "ioc")
	cFeed, cConf := find("feed", "provider", "source"), find("confidence")
	cTLP, cDesc := find("tlp", "marking"), find("description", "comment")
	if cType < 0 || cVal < 0 {
		line, _ := cr.FieldPos(0)
		le.add(line, `CSV header needs a "type" and an "indicator" (or "value") column, have %q`, head)
		return
	}
	cell := func(rec []string, i int) string {
		if i < 0 || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				le.add(pe.Line, "bad CSV: %v", pe.Err)
				if pe.Err == csv.ErrQuote || pe.Err == csv.ErrBareQuote {
					continue
				}
			} else {
				le.ioErr = err
			}
			return
		}
		line, _ := cr.FieldPos(0)
		m := indicatorMeta{Provider: feed, Confidence: cell(rec, cConf), Description: cell(rec, cDesc)}
		if f := cell(rec, cFeed); f != "" {
			m.Provider = f
		}
		t, ok := normTLP(cell(rec, cTLP))
		if !ok {
			le.add(line, "bad TLP %q", cell(rec, cTLP))
			continue
		}
		m.TLP = t
		k, ok := parseKind(cell(rec, cType))
		if !ok {
			le.add(line, "unknown indicator type %q", cell(rec, cType))
			continue
		}
		if err := b.add(k, cell(rec, cVal), m); err != nil {
			le.add(line, "%v", err)
		}
	}
}

// ndIndicator is the ECS threat.indicator object (the part we use).
type ndIndicator struct {
	Type        string `json:"type"`
	IP          string `json:"ip"`
	Domain      string `json:"domain"` // ECS 1.x threat.indicator.domain
	Name        string `json:"name"`
	Provider    string `json:"provider"`
	Confidence  string `json:"confidence"`
	Description string `json:"description"`
	URL         struct {
		Full     string `json:"full"`
		Original string `json:"original"`
		Domain   string `json:"domain"`
	} `json:"url"`
	Marking struct {
		TLP string `json:"tlp"`
	} `json:"marking"`
}

type ndDoc struct {
	Threat struct {
		Indicator *ndIndicator `json:"indicator"`
		Feed      struct {
			Name string `json:"name"`
		} `json:"feed"`
	} `json:"threat"`
	Indicator *ndIndicator `json:"indicator"`
}

// NDJSON: one ECS document a line with a nested "threat.indicator" object
// (threat.feed.name names the feed), or a bare {"indicator": {...}}. The
// value is taken by type: ip; url.domain (or domain, name) for domains;
// url.full (or url.original, name) for URLs; name for fingerprints.
func (b *intelBuilder) loadNDJSON(r io.Reader, feed string, le *lineErrs) {
	lines(r, le, func(n int, line string) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			return
		}
		var d ndDoc
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			le.add(n, "bad JSON: %v", err)
			return
		}
		ind := d.Threat.Indicator
		if ind == nil {
			ind = d.Indicator
		}
		if ind == nil {
			le.add(n, `no "threat.indicator" object`)
			return
		}
		m := indicatorMeta{Provider: feed, Confidence: ind.Confidence, Description: ind.Description}
		if d.Threat.Feed.Name != "" {
			m.Provider = d.Threat.Feed.Name
		}
		if ind.Provider != "" {
			m.Provider = ind.Provider
		}
		t, ok := normTLP(ind.Marking.TLP)
		if !ok {
			le.add(n, "bad TLP %q", ind.Marking.TLP)
			return
		}
		m.TLP = t
		k, ok := parseKind(ind.Type)
		if !ok {
			le.add(n, "unknown indicator type %q", ind.Type)
			return
		}
		first := func(vs ...string) string {
			for _, v := range vs {
				if v != "" {
					return v
				}
			}
			return ""
		}
		var v string
		switch k {
		case kindIP:
			v = first(ind.IP, ind.Name)
		case kindDomain:
			v = first(ind.URL.Domain, ind.Domain, ind.Name)
		case kindURL:
			v = first(ind.URL.Full, ind.URL.Original, ind.Name)
		case kindJA3, kindJA3S, kindJA4:
			v = ind.Name
		default:
			switch {
			case ind.IP != "":
				k, v = kindIP, ind.IP
			case ind.URL.Full != "" || ind.URL.Original != "":
				k, v = kindURL, first(ind.URL.Full, ind.URL.Original)
			case ind.URL.Domain != "" || ind.Domain != "":
				k, v = kindDomain, first(ind.URL.Domain, ind.Domain)
			default:
				v = ind.Name
			}
		}
		if v == "" {
			le.add(n, "indicator has no value for type %q", ind.Type)
			return
		}
		if err := b.add(k, v, m); err != nil {
			le.add(n, "%v", err)
		}
	})
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
