package enrich

import (
	"bufio"
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// FuzzIntelLoad feeds arbitrary bytes to the three list parsers. None may
// panic, and every line of a plain list that loaded cleanly must match:
// addresses through the IP table, names through the domain map as an event
// would present them (upper case, trailing dot).
func FuzzIntelLoad(f *testing.F) {
	for _, s := range []string{
		"# feed: x\n# tlp: amber\n192.0.2.1\n10.0.0.0/8\n2001:db8::/32\nevil.example\n*.w.example.\n0.0.0.0 h.example\n",
		"http://bad.example/x?y#z\ne7eca2baf4458d095b7f45da28c16c34\nt13d1516h2_8daaf6152771_b186095e22b6\n",
		"type,indicator,tlp\nip,1.2.3.4,red\ndomain,\"a.example\",\n,::ffff:1.2.3.0/120,\n",
		`{"threat":{"indicator":{"type":"ipv4-addr","ip":"203.0.113.1"},"feed":{"name":"f"}}}` + "\n" + `{"indicator":{"url":{"domain":"x.example"}}}`,
		"255.255.255.255\n0.0.0.0/0\n::/0\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<14 {
			return
		}
		for _, format := range []string{"csv", "ndjson"} {
			b := newIntelBuilder()
			le := &lineErrs{file: "f"}
			if format == "csv" {
				b.loadCSV(bytes.NewReader(data), "f", le)
			} else {
				b.loadNDJSON(bytes.NewReader(data), "f", le)
			}
			b.finish()
		}
		b := newIntelBuilder()
		le := &lineErrs{file: "f"}
		b.loadPlain(bytes.NewReader(data), "f", le)
		db := b.finish()
		if len(le.errs) > 0 || le.ioErr != nil {
			return
		}
		sh := &Shared{}
		sh.cur.Store(&snapshot{intel: db})
		w := &Worker{sh: sh, cache: make([]cacheEntry, 64), mask: 63}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if a, err := netip.ParseAddr(line); err == nil && a.Zone() == "" {
				if db.lookupIP(a.Unmap()) == 0 {
					t.Fatalf("listed address %s does not match", line)
				}
			}
			if d, ok := normDomain(line); ok && inferKind(line) == kindDomain && !strings.HasPrefix(line, "#") {
				ev := &schemas.Event{DNS: schemas.DNS{Question: schemas.DNSQuestion{Name: strings.ToUpper(d) + "."}}}
				w.Enrich(ev)
				if len(ev.Threat.Enrichments) == 0 {
					t.Fatalf("listed domain %q does not match", line)
				}
			}
		}
	})
}
