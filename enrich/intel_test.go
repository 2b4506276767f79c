package enrich

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

func writeFile(t testing.TB, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func openIntel(t testing.TB, files ...string) (*Shared, *Worker) {
	t.Helper()
	s, err := Open(Config{Intel: files}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, s.NewWorker().(*Worker)
}

// matches renders the event's enrichments as "field=atomic type provider
// [domain|url] conf tlp" strings.
func matches(ev *schemas.Event) []string {
	var out []string
	for _, e := range ev.Threat.Enrichments {
		s := e.Matched.Field + "=" + e.Matched.Atomic + " " + e.Indicator.Type + " " + e.Indicator.Provider
		if e.Indicator.URL.Domain != "" {
			s += " " + e.Indicator.URL.Domain
		}
		if e.Indicator.URL.Original != "" {
			s += " " + e.Indicator.URL.Original
		}
		if e.Indicator.IP != "" && e.Indicator.IP != e.Matched.Atomic {
			s += " ip=" + e.Indicator.IP
		}
		if e.Indicator.Confidence != "" || e.Indicator.Marking.TLP != "" {
			s += " " + e.Indicator.Confidence + "/" + e.Indicator.Marking.TLP
		}
		if e.Matched.Type != MatchType {
			s += " BADTYPE"
		}
		out = append(out, s)
	}
	return out
}

func expectMatches(t *testing.T, name string, ev *schemas.Event, want ...string) {
	t.Helper()
	got := matches(ev)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got %q\nwant %q", name, got, want)
	}
}

func flow(src, dst string) *schemas.Event {
	return &schemas.Event{Source: schemas.Endpoint{IP: src, Port: 50000}, Destination: schemas.Endpoint{IP: dst, Port: 443}}
}

func TestIntelPlainList(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "feodo.txt", `# Feodo tracker style list
# feed: feodo
# confidence: High
# tlp: amber
192.0.2.10
198.51.100.0/24   # a whole net
2001:db8::/32
evil.example
*.wild.example.
0.0.0.0 hosts-file.example
http://bad.example/x.exe?a=1#frag
e7eca2baf4458d095b7f45da28c16c34
t13d1516h2_8daaf6152771_b186095e22b6
# type: ja3s
394441ab65754e2207b1e1b457b3641d
`)
	_, w := openIntel(t, p)

	ev := flow("10.0.0.5", "192.0.2.10")
	w.Enrich(ev)
	expectMatches(t, "ip", ev, "destination.ip=192.0.2.10 ipv4-addr feodo High/AMBER")

	ev = flow("198.51.100.77", "2001:db8:1::1")
	w.Enrich(ev)
	expectMatches(t, "cidr v4+v6", ev,
		"source.ip=198.51.100.77 ipv4-addr feodo High/AMBER",
		"destination.ip=2001:db8:1::1 ipv6-addr feodo High/AMBER")

	ev = &schemas.Event{DNS: schemas.DNS{Question: schemas.DNSQuestion{Name: "A.B.Evil.Example."}}}
	w.Enrich(ev)
	expectMatches(t, "subdomain", ev, "dns.question.name=A.B.Evil.Example. domain-name feodo evil.example High/AMBER")

	for _, name := range []string{"notevil.example", "example", "evil.example.com"} {
		ev = &schemas.Event{DNS: schemas.DNS{Question: schemas.DNSQuestion{Name: name}}}
		w.Enrich(ev)
		expectMatches(t, "no match "+name, ev)
	}

	ev = &schemas.Event{TLS: schemas.TLS{Client: schemas.TLSClient{ServerName: "wild.example", JA3: "E7ECA2BAF4458D095B7F45DA28C16C34"},
		Server: schemas.TLSServer{JA3S: "394441ab65754e2207b1e1b457b3641d"}}}
	ev.Sensor.TLS.JA4 = "t13d1516h2_8daaf6152771_b186095e22b6"
	w.Enrich(ev)
	expectMatches(t, "tls", ev,
		"tls.client.server_name=wild.example domain-name feodo wild.example High/AMBER",
		"tls.client.ja3=E7ECA2BAF4458D095B7F45DA28C16C34 ja3 feodo High/AMBER",
		"packetsleuth.tls.ja4=t13d1516h2_8daaf6152771_b186095e22b6 ja4 feodo High/AMBER",
		"tls.server.ja3s=394441ab65754e2207b1e1b457b3641d ja3s feodo High/AMBER")

	// A JA3S-typed hash is not a client JA3.
	ev = &schemas.Event{TLS: schemas.TLS{Client: schemas.TLSClient{JA3: "394441ab65754e2207b1e1b457b3641d"}}}
	w.Enrich(ev)
	expectMatches(t, "ja3s is not ja3", ev)

	ev = &schemas.Event{URL: schemas.URL{Domain: "BAD.example", Original: "/x.exe?a=1"}}
	w.Enrich(ev)
	expectMatches(t, "url", ev, "url.original=http://bad.example/x.exe?a=1 url feodo http://bad.example/x.exe?a=1 High/AMBER")
	ev = &schemas.Event{URL: schemas.URL{Domain: "bad.example", Port: 8080, Original: "/x.exe?a=1"}}
	w.Enrich(ev)
	expectMatches(t, "url other port", ev)
	ev = &schemas.Event{URL: schemas.URL{Original: "HTTP://bad.example:80/x.exe?a=1"}}
	w.Enrich(ev)
	expectMatches(t, "absolute url", ev, "url.original=http://bad.example/x.exe?a=1 url feodo http://bad.example/x.exe?a=1 High/AMBER")

	ev = &schemas.Event{DNS: schemas.DNS{Question: schemas.DNSQuestion{Name: "www.hosts-file.example"}}}
	w.Enrich(ev)
	expectMatches(t, "hosts line", ev, "dns.question.name=www.hosts-file.example domain-name feodo hosts-file.example High/AMBER")
}

func TestIntelCSV(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "misp.csv", `# exported
Type,Value,Feed,Confidence,TLP,Description,extra
ip-dst,203.0.113.5,misp-a,Medium,TLP:GREEN,c2 server,x
domain,"c2.example",misp-b,,,,
url,https://c2.example/gate.php,,Low,red,,
ja3,d4e5b18d6b55c71272893221c96ba240,,,,,
,203.0.113.6,,,,inferred,
`)
	_, w := openIntel(t, p)
	ev := flow("203.0.113.5", "203.0.113.6")
	ev.DNS.Question.Name = "x.c2.example"
	ev.URL = schemas.URL{Scheme: "https", Domain: "c2.example", Port: 443, Original: "/gate.php"}
	ev.TLS.Client.JA3 = "d4e5b18d6b55c71272893221c96ba240"
	w.Enrich(ev)
	expectMatches(t, "csv", ev,
		"source.ip=203.0.113.5 ipv4-addr misp-a Medium/GREEN",
		"destination.ip=203.0.113.6 ipv4-addr misp",
		"dns.question.name=x.c2.example domain-name misp-b c2.example",
		"url.domain=c2.example domain-name misp-b c2.example",
		"url.original=https://c2.example/gate.php url misp https://c2.example/gate.php Low/RED",
		"tls.client.ja3=d4e5b18d6b55c71272893221c96ba240 ja3 misp")
	if d := ev.Threat.Enrichments[0].Indicator.Description; d != "c2 server" {
		t.Errorf("description %q", d)
	}
}

func TestIntelNDJSON(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "ti.ndjson", `{"@timestamp":"2024-01-01T00:00:00Z","threat":{"feed":{"name":"AbuseCH URL"},"indicator":{"type":"url","url":{"full":"http://203.0.113.50/bins/mozi.m","domain":"203.0.113.50"},"confidence":"High","marking":{"tlp":"CLEAR"}}}}
{"threat":{"indicator":{"type":"ipv6-addr","ip":"2001:db8:bad::1","provider":"prov6","description":"scanner"}}}
{"threat":{"indicator":{"type":"domain-name","url":{"domain":"Phish.Example"}},"feed":{"name":"phish"}}}
{"indicator":{"ip":"192.0.2.0/28"}}
{"threat":{"indicator":{"type":"ja4","name":"t13d1516h2_8daaf6152771_02713d6af862"}}}
`)
	_, w := openIntel(t, p)
	ev := flow("2001:db8:bad::1", "192.0.2.15")
	ev.URL = schemas.URL{Domain: "203.0.113.50", Original: "/bins/mozi.m"}
	ev.TLS.Client.ServerName = "login.phish.example"
	ev.Sensor.TLS.JA4 = "t13d1516h2_8daaf6152771_02713d6af862"
	w.Enrich(ev)
	expectMatches(t, "ndjson", ev,
		"source.ip=2001:db8:bad::1 ipv6-addr prov6",
		"destination.ip=192.0.2.15 ipv4-addr ti",
		"url.original=http://203.0.113.50/bins/mozi.m url AbuseCH URL http://203.0.113.50/bins/mozi.m High/CLEAR",
		"tls.client.server_name=login.phish.example domain-name phish phish.example",
		"packetsleuth.tls.ja4=t13d1516h2_8daaf6152771_02713d6af862 ja4 ti")
}

func TestIntelBadLines(t *testing.T) {
	dir := t.TempDir()
	plain := writeFile(t, dir, "plain.txt", "1.2.3.4\n10.0.0/33\nnot a domain!\n# tlp: purple\nexample.com extra words\n")
	csvf := writeFile(t, dir, "file.csv", "type,indicator\nip,1.2.3.4\n"+strings.Repeat("ip,5.6.7.8\n", 9)+"cidr,10.0.0/33\nbogus,x\nja3,abc\n")
	nd := writeFile(t, dir, "bad.ndjson", "{\"threat\":{\"indicator\":{\"type\":\"ip\",\"ip\":\"1.2.3.999\"}}}\n{oops\n{\"foo\":1}\n")
	nohdr := writeFile(t, dir, "nohdr.csv", "1.2.3.4,ip\n")
	_, err := Open(Config{Intel: []string{plain, csvf, nd, nohdr}}, nil)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{
		plain + `:2: bad CIDR "10.0.0/33"`,
		plain + `:3: unexpected text after the indicator: "a domain!"`,
		plain + `:4: bad TLP "purple"`,
		plain + `:5: unexpected text after the indicator: "extra words"`,
		csvf + `:12: bad CIDR "10.0.0/33"`,
		csvf + `:13: unknown indicator type "bogus"`,
		csvf + `:14: bad JA3 hash "abc" (want 32 hex digits)`,
		nd + `:1: bad IP "1.2.3.999"`,
		nd + `:2: bad JSON`,
		nd + `:3: no "threat.indicator" object`,
		nohdr + `:1: CSV header needs a "type" and an "indicator"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
	// Too many bad lines: capped, the rest counted.
	many := writeFile(t, dir, "many.txt", strings.Repeat("300.1.1.1\n", maxLineErrors+7))
	_, err = Open(Config{Intel: []string{many}}, nil)
	if err == nil || !strings.Contains(err.Error(), "7 more bad lines") || strings.Count(err.Error(), "\n") != maxLineErrors {
		t.Errorf("cap: %v", err)
	}
}

func TestIntelLongestMatchAndFeeds(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a.txt", "10.0.0.0/8\n10.1.0.0/16\n2001:db8::/32\n2001:db8:1::/48\nexample.net\n")
	b := writeFile(t, dir, "b.txt", "10.1.0.0/16\n10.1.2.3\nsub.example.net\n")
	_, w := openIntel(t, a, b)
	for _, c := range []struct{ ip, want string }{
		{"10.200.0.1", "a"},
		{"10.1.9.9", "a b"}, // same /16 in both feeds
		{"10.1.2.3", "b"},   // the /32 is the longest
		{"10.1.2.4", "a b"},
		{"11.0.0.0", ""},
		{"9.255.255.255", ""},
		{"2001:db8:2::1", "a"},
		{"2001:db8:1::1", "a"},
		{"2001:db9::1", ""},
	} {
		ev := &schemas.Event{Destination: schemas.Endpoint{IP: c.ip}}
		w.Enrich(ev)
		var got []string
		for _, e := range ev.Threat.Enrichments {
			got = append(got, e.Indicator.Provider)
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s: %v, want %q", c.ip, got, c.want)
		}
	}
	ev := &schemas.Event{DNS: schemas.DNS{Question: schemas.DNSQuestion{Name: "x.sub.example.net"}}}
	w.Enrich(ev)
	expectMatches(t, "longest domain", ev, "dns.question.name=x.sub.example.net domain-name b sub.example.net")
}

func TestIntelDNSAnswers(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "l.txt", "cdn.evil.example\n192.0.2.66\n")
	s, w := openIntel(t, p)
	ev := &schemas.Event{DNS: schemas.DNS{
		Question: schemas.DNSQuestion{Name: "www.good.example"},
		Answers: []schemas.DNSAnswer{
			{Name: "www.good.example", Type: "CNAME", Data: "x.cdn.evil.example"},
			{Name: "x.cdn.evil.example", Type: "A", Data: "192.0.2.66"},
		},
		ResolvedIP: []string{"192.0.2.66", "192.0.2.67"},
	}}
	w.Enrich(ev)
	w.Enrich(ev) // idempotent
	expectMatches(t, "answers", ev,
		"dns.answers.data=x.cdn.evil.example domain-name l cdn.evil.example",
		"dns.answers.name=x.cdn.evil.example domain-name l cdn.evil.example",
		"dns.resolved_ip=192.0.2.66 ipv4-addr l")
	w.Flush()
	if st := s.Stats(); st.IntelMatches != 3 || st.Intel.Domains != 1 || st.Intel.IPv4 != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestHomeNetDirection(t *testing.T) {
	s, err := Open(Config{HomeNet: []string{"10.0.0.0/8, 192.168.0.0/16", "2001:db8:1::/48", "::ffff:172.16.0.1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := s.NewWorker()
	for _, c := range []struct{ src, dst, want string }{
		{"10.1.1.1", "192.168.5.5", "internal"},
		{"10.1.1.1", "8.8.8.8", "outbound"},
		{"8.8.8.8", "192.168.0.1", "inbound"},
		{"8.8.8.8", "1.1.1.1", "external"},
		{"2001:db8:1::5", "2001:db8:2::5", "outbound"},
		{"::ffff:8.8.8.8", "172.16.0.1", "inbound"},
		{"", "10.0.0.1", ""},
	} {
		ev := flow(c.src, c.dst)
		w.Enrich(ev)
		if ev.Network.Direction != c.want {
			t.Errorf("%s -> %s: %q, want %q", c.src, c.dst, ev.Network.Direction, c.want)
		}
	}
	// No home net: the default (the private ranges) applies.
	s2, _ := Open(Config{}, nil)
	w2 := s2.NewWorker()
	for _, c := range []struct{ src, dst, want string }{
		{"10.1.1.1", "8.8.8.8", "outbound"},
		{"8.8.8.8", "fd00::1", "inbound"},
		{"127.0.0.1", "127.0.0.2", "external"},
	} {
		ev := flow(c.src, c.dst)
		w2.Enrich(ev)
		if ev.Network.Direction != c.want {
			t.Errorf("default home net: %s -> %s: %q, want %q", c.src, c.dst, ev.Network.Direction, c.want)
		}
	}
	if err := (Config{HomeNet: []string{"10.0.0.0/8,10.0.0.0/33"}}).Validate(); err == nil || !strings.Contains(err.Error(), `bad CIDR "10.0.0.0/33"`) {
		t.Errorf("validate: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	err := Config{Intel: []string{"a", "", "a"}, CacheSize: -1, GeoIPCity: "x", GeoIPASN: "x"}.Validate()
	for _, want := range []string{"empty path", "listed twice", "cache_size", "same file"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
	if err := (Config{}).Validate(); err != nil {
		t.Error(err)
	}
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "list.txt", "192.0.2.1\n")
	s, w := openIntel(t, p)
	hit := func(ip string) bool {
		ev := flow(ip, "10.0.0.1")
		w.Enrich(ev)
		return len(ev.Threat.Enrichments) > 0
	}
	if !hit("192.0.2.1") || hit("192.0.2.2") {
		t.Fatal("initial list")
	}
	writeFile(t, dir, "list.txt", "192.0.2.2\n")
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if hit("192.0.2.1") || !hit("192.0.2.2") {
		t.Fatal("after reload: old cache entries or old list still used")
	}
	writeFile(t, dir, "list.txt", "192.0.2.3\n10.0.0/33\n")
	err := s.Reload()
	if err == nil || !strings.Contains(err.Error(), p+`:2: bad CIDR "10.0.0/33"`) {
		t.Fatalf("bad reload: %v", err)
	}
	if !hit("192.0.2.2") || hit("192.0.2.3") {
		t.Fatal("after a failed reload the old data must stay")
	}
	st := s.Stats()
	if st.Reloads != 1 || st.ReloadErrors != 1 || !strings.Contains(st.LastReloadError, "bad CIDR") {
		t.Errorf("stats %+v", st)
	}
	os.Remove(p)
	if err := s.Reload(); err == nil {
		t.Error("reload of a missing file succeeded")
	}
	if !hit("192.0.2.2") {
		t.Fatal("old data lost")
	}
}

func TestReloadGeo(t *testing.T) {
	needGeo(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "city.mmdb")
	cp := func(src string) {
		b, err := os.ReadFile(filepath.Join(geoDir, src))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(db, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cp("GeoIP2-City-Test.mmdb")
	s, err := Open(Config{GeoIPCity: db}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := s.NewWorker()
	if g := enrichIP(w, "81.2.69.142").Geo; g.CityName != "London" {
		t.Fatalf("%+v", g)
	}
	cp("GeoLite2-Country-Test.mmdb") // rewritten in place
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if g := enrichIP(w, "81.2.69.142").Geo; g.CityName != "" || g.CountryISOCode != "GB" {
		t.Fatalf("after reload %+v", g)
	}
	cp("bad-data/GeoIP2-City-Test-Broken-Double-Format.mmdb")
	if err := s.Reload(); err == nil || !strings.Contains(err.Error(), db) {
		t.Fatalf("corrupt reload: %v", err)
	}
	if g := enrichIP(w, "81.2.69.142").Geo; g.CountryISOCode != "GB" {
		t.Fatalf("after failed reload %+v", g)
	}
}

func TestWatch(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "list.txt", "192.0.2.1\n")
	s, w := openIntel(t, p)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Watch(ctx, 10*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()

	// A new file in place (rename, as feed updaters do).
	tmp := writeFile(t, dir, "list.tmp", "192.0.2.9\n")
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		ev := flow("192.0.2.9", "10.0.0.1")
		w.Enrich(ev)
		return len(ev.Threat.Enrichments) == 1
	})
	// A bad file: the error is counted once, the old data stay. It is put
	// in place by rename too: written in place, the watcher could read it
	// truncated (an empty list, a valid reload) before its bytes land.
	bad := writeFile(t, dir, "list.bad", "nonsense here\n")
	if err := os.Rename(bad, p); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return s.Stats().ReloadErrors == 1 })
	time.Sleep(50 * time.Millisecond)
	if st := s.Stats(); st.ReloadErrors != 1 || st.Reloads != 1 {
		t.Errorf("stats %+v: a failed file must be retried only when it changes", st)
	}
	ev := flow("192.0.2.9", "10.0.0.1")
	w.Enrich(ev)
	if len(ev.Threat.Enrichments) != 1 {
		t.Error("old data lost after a bad file")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("timed out")
}

// The interval tables against a brute-force longest-prefix match.
func TestIPTableRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		b := newIntelBuilder()
		type pfx struct {
			p    netip.Prefix
			feed string
		}
		var ps []pfx
		n := 1 + r.IntN(60)
		for i := range n {
			var a netip.Addr
			var bits int
			if r.IntN(2) == 0 {
				a = netip.AddrFrom4([4]byte{byte(r.IntN(4)), byte(r.IntN(4)), byte(r.IntN(256)), byte(r.IntN(256))})
				bits = r.IntN(33)
				if round%5 == 0 && i == 0 {
					a, bits = netip.MustParseAddr("255.255.255.255"), 32-r.IntN(3)
				}
			} else {
				var x [16]byte
				x[0], x[1], x[15] = 0x20, byte(r.IntN(2)), byte(r.IntN(256))
				a, bits = netip.AddrFrom16(x), r.IntN(129)
			}
			p := netip.PrefixFrom(a, bits).Masked()
			feed := []string{"x", "y", "z"}[r.IntN(3)]
			ps = append(ps, pfx{p, feed})
			if err := b.add(kindIP, p.String(), indicatorMeta{Provider: feed}); err != nil {
				t.Fatal(err)
			}
		}
		db := b.finish()
		probe := func(a netip.Addr) {
			best := -1
			want := map[string]bool{}
			for _, p := range ps {
				if p.p.Contains(a) && p.p.Bits() >= best {
					if p.p.Bits() > best {
						clear(want)
					}
					best = p.p.Bits()
					want[p.feed] = true
				}
			}
			got := map[string]bool{}
			db.each(db.lookupIP(a), func(m *indicatorMeta) { got[m.Provider] = true })
			if len(got) != len(want) {
				t.Fatalf("round %d %s: got %v want %v", round, a, got, want)
			}
			for k := range want {
				if !got[k] {
					t.Fatalf("round %d %s: got %v want %v", round, a, got, want)
				}
			}
		}
		for _, p := range ps {
			probe(p.p.Addr())
			last := p.p.Addr()
			if p.p.Bits() >= p.p.Addr().BitLen()-8 {
				for range (1 << (p.p.Addr().BitLen() - p.p.Bits())) - 1 {
					last = last.Next()
				}
				probe(last)
				if n := last.Next(); n.IsValid() {
					probe(n)
				}
			}
			if pr := p.p.Addr().Prev(); pr.IsValid() {
				probe(pr)
			}
		}
		for range 200 {
			probe(netip.AddrFrom4([4]byte{byte(r.IntN(4)), byte(r.IntN(4)), byte(r.IntN(256)), byte(r.IntN(256))}))
			var x [16]byte
			x[0], x[1], x[15] = 0x20, byte(r.IntN(2)), byte(r.IntN(256))
			probe(netip.AddrFrom16(x))
		}
	}
}

func TestEnrichNoAllocsOnCacheHit(t *testing.T) {
	needGeo(t)
	dir := t.TempDir()
	p := writeFile(t, dir, "l.txt", "192.0.2.1\nevil.example\nhttp://evil.example/x\ne7eca2baf4458d095b7f45da28c16c34\n")
	s, err := Open(Config{
		GeoIPCity: filepath.Join(geoDir, "GeoIP2-City-Test.mmdb"), GeoIPASN: filepath.Join(geoDir, "GeoLite2-ASN-Test.mmdb"),
		Intel: []string{p}, HomeNet: []string{"10.0.0.0/8"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := s.NewWorker().(*Worker)
	ev := flow("10.1.2.3", "89.160.20.112")
	ev.DNS.Question.Name = "www.good.example"
	ev.DNS.ResolvedIP = []string{"216.160.83.56"}
	ev.URL = schemas.URL{Domain: "www.good.example", Original: "/index.html"}
	ev.TLS.Client = schemas.TLSClient{ServerName: "www.good.example", JA3: "d4e5b18d6b55c71272893221c96ba240"}
	w.Enrich(ev) // warm the cache: misses for source, destination and the resolved address
	allocs := testing.AllocsPerRun(100, func() { w.Enrich(ev) })
	if allocs != 0 {
		t.Errorf("%v allocations per Enrich on a cache hit", allocs)
	}
	w.Flush()
	st := s.Stats()
	if ev.Destination.Geo.CityName != "Linköping" || ev.Destination.AS.Number != 29518 || ev.Network.Direction != "outbound" {
		t.Errorf("event %+v", ev)
	}
	if st.CacheMisses != 3 || st.CacheHits < 300 || st.GeoLookups != 2 || st.GeoSkipped != 1 {
		t.Errorf("stats %+v", st)
	}
	t.Logf("hit rate %.3f", st.HitRate())
}

// Workers keep enriching while reloads swap the data (run with -race).
func TestConcurrentReload(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "l.txt", "192.0.2.1\n")
	s, _ := openIntel(t, p)
	stop := make(chan struct{})
	errs := make(chan string, 2)
	for range 2 {
		w := s.NewWorker()
		go func() {
			for {
				select {
				case <-stop:
					errs <- ""
					return
				default:
				}
				ev := flow("192.0.2.1", "10.0.0.1")
				w.Enrich(ev)
				if len(ev.Threat.Enrichments) != 1 {
					errs <- "an event was enriched without the list"
					return
				}
			}
		}()
	}
	for range 20 {
		if err := s.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	for range 2 {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
	if st := s.Stats(); st.Reloads != 20 {
		t.Errorf("reloads %d", st.Reloads)
	}
}

// A worker that read the same addresses for the last event answers as a
// fresh one does, whatever came before: an empty or bad address, the
// same text in another string, the sides swapped.
func TestAddressesReadAgain(t *testing.T) {
	s, err := Open(Config{HomeNet: []string{"10.0.0.0/8"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := s.NewWorker()
	inner := strings.Repeat("10.1.1.1", 1)
	for i, c := range [][2]string{
		{"10.1.1.1", "8.8.8.8"}, {"10.1.1.1", "8.8.8.8"}, {"8.8.8.8", "10.1.1.1"},
		{"", "8.8.8.8"}, {"10.1.1", "8.8.8.8"}, {"10.1.1.1", ""}, {inner, "8.8.8.8"},
		{"2001:db8::1", "10.1.1.1"}, {"10.1.1.1", "10.1.1.1"}, {"", ""},
	} {
		ev := flow(c[0], c[1])
		w.Enrich(ev)
		fresh := flow(c[0], c[1])
		s.NewWorker().Enrich(fresh)
		if ev.Network.Direction != fresh.Network.Direction {
			t.Errorf("event %d (%s -> %s): %q, a fresh worker %q", i, c[0], c[1], ev.Network.Direction, fresh.Network.Direction)
		}
	}
}
