package enrich

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// Addresses the City test database knows.
var geoAddrs = []string{"81.2.69.142", "216.160.83.56", "89.160.20.112", "175.16.199.0", "2.125.160.216", "214.78.120.1", "2001:218::1", "67.43.156.1"}

func BenchmarkGeoLookupUncached(b *testing.B) {
	s := openGeoShared(b, "GeoIP2-City-Test.mmdb", "GeoLite2-ASN-Test.mmdb")
	snap := s.cur.Load()
	addrs := make([]netip.Addr, len(geoAddrs))
	for i, a := range geoAddrs {
		addrs[i] = netip.MustParseAddr(a)
	}
	b.ReportAllocs()
	var info ipInfo
	for i := 0; b.Loop(); i++ {
		info = ipInfo{}
		if _, err := snap.city.city(addrs[i%len(addrs)], &info.geo); err != nil {
			b.Fatal(err)
		}
		if _, err := snap.asn.asn(addrs[i%len(addrs)], &info.as); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGeoLookupCached(b *testing.B) {
	s := openGeoShared(b, "GeoIP2-City-Test.mmdb", "GeoLite2-ASN-Test.mmdb")
	w := s.NewWorker().(*Worker)
	evs := make([]schemas.Event, len(geoAddrs))
	for i, a := range geoAddrs {
		evs[i] = schemas.Event{Source: schemas.Endpoint{IP: a}}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		w.Enrich(&evs[i%len(evs)])
	}
	w.Flush()
	b.ReportMetric(s.Stats().HitRate(), "hit-rate")
}

// ipTables caches the big tables across benchmark runs.
var ipTables sync.Map

type builtTable struct {
	db       *intelDB
	listed   []uint32
	prefixes int
	build    time.Duration
	heap     uint64 // live heap growth after the build
}

// bigTable builds n IPv4 indicators: 90% random /32s, 10% random /16–/28
// CIDRs, from two feeds (a realistic blocklist mix), straight into the
// builder (file parsing is measured by BenchmarkIntelLoadPlain).
func bigTable(b *testing.B, n int) *builtTable {
	if v, ok := ipTables.Load(n); ok {
		return v.(*builtTable)
	}
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	r := rand.New(rand.NewPCG(uint64(n), 7))
	start := time.Now()
	bl := newIntelBuilder()
	metas := [2]payload{bl.meta(indicatorMeta{Type: TypeIPv4, Provider: "feed-a"}), bl.meta(indicatorMeta{Type: TypeIPv4, Provider: "feed-b"})}
	listed := make([]uint32, 0, 1<<16)
	bl.v4 = make([]span[k4], 0, n)
	for i := range n {
		a := r.Uint32()
		bits := 32
		if i%10 == 0 {
			bits = 16 + r.IntN(13)
		}
		var x [4]byte
		x[0], x[1], x[2], x[3] = byte(a>>24), byte(a>>16), byte(a>>8), byte(a)
		f, l := prefixSpan4(netip.PrefixFrom(netip.AddrFrom4(x), bits).Masked())
		bl.v4 = append(bl.v4, span[k4]{f, l, metas[i&1]})
		bl.db.counts.IPv4++
		if len(listed) < cap(listed) {
			listed = append(listed, a)
		}
	}
	db := bl.finish()
	bt := &builtTable{db: db, listed: listed, prefixes: n, build: time.Since(start)}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	bt.heap = m1.HeapAlloc - m0.HeapAlloc
	ipTables.Store(n, bt)
	return bt
}

func benchIPLookup(b *testing.B, n int) {
	if testing.Short() && n > 1_000_000 {
		b.Skip("-short")
	}
	bt := bigTable(b, n)
	r := rand.New(rand.NewPCG(1, 1))
	probes := make([]uint32, 1<<16)
	for i := range probes {
		if i&1 == 0 {
			probes[i] = bt.listed[r.IntN(len(bt.listed))]
		} else {
			probes[i] = r.Uint32()
		}
	}
	b.ReportAllocs()
	hits := 0
	for i := 0; b.Loop(); i++ {
		if bt.db.v4.lookup(probes[i&(len(probes)-1)]) != 0 {
			hits++
		}
	}
	b.ReportMetric(float64(bt.db.counts.TableBytes)/float64(bt.prefixes), "table-bytes/prefix")
	b.ReportMetric(float64(bt.heap)/float64(bt.prefixes), "heap-bytes/prefix")
	b.ReportMetric(float64(bt.db.v4.len())/float64(bt.prefixes), "intervals/prefix")
	b.ReportMetric(bt.build.Seconds(), "build-s")
}

func BenchmarkIntelIPLookup1M(b *testing.B)  { benchIPLookup(b, 1_000_000) }
func BenchmarkIntelIPLookup10M(b *testing.B) { benchIPLookup(b, 10_000_000) }

// BenchmarkIntelLoadPlain measures parsing a plain list of 1M addresses
// and CIDRs from a file (ns/op is per file).
func BenchmarkIntelLoadPlain(b *testing.B) {
	dir := b.TempDir()
	var sb strings.Builder
	r := rand.New(rand.NewPCG(3, 3))
	const n = 1_000_000
	for i := range n {
		a := r.Uint32()
		if i%10 == 0 {
			fmt.Fprintf(&sb, "%d.%d.%d.0/24\n", byte(a>>24), byte(a>>16), byte(a>>8))
		} else {
			fmt.Fprintf(&sb, "%d.%d.%d.%d\n", byte(a>>24), byte(a>>16), byte(a>>8), byte(a))
		}
	}
	p := filepath.Join(dir, "big.txt")
	if err := os.WriteFile(p, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		bl := newIntelBuilder()
		if err := bl.loadFile(p); err != nil {
			b.Fatal(err)
		}
		bl.finish()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/indicator")
}

// A typical flow event: home client to a public server, GeoIP (City +
// ASN), home net and a 1M-prefix IP list, with the addresses in the cache.
func BenchmarkEnrichFlow(b *testing.B) {
	s, w := benchWorker(b)
	ev := flow("10.1.2.3", "89.160.20.112")
	b.ReportAllocs()
	for b.Loop() {
		ev.Source.Geo, ev.Destination.Geo, ev.Destination.AS = schemas.Geo{}, schemas.Geo{}, schemas.AS{}
		w.Enrich(ev)
	}
	w.Flush()
	b.ReportMetric(s.Stats().HitRate(), "hit-rate")
}

// Flow events over more distinct public addresses than the cache holds:
// the miss path (database decode and intel lookup) dominates.
func BenchmarkEnrichFlowMisses(b *testing.B) {
	s, w := benchWorker(b)
	r := rand.New(rand.NewPCG(5, 5))
	evs := make([]*schemas.Event, 1<<15)
	for i := range evs {
		dst := geoAddrs[i%len(geoAddrs)]
		if i%4 != 0 { // mostly addresses the test DB has no data for
			dst = netip.AddrFrom4([4]byte{byte(1 + r.IntN(9)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))}).String()
		}
		evs[i] = flow("10.1.2.3", dst)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		w.Enrich(evs[i&(len(evs)-1)])
	}
	w.Flush()
	b.ReportMetric(s.Stats().HitRate(), "hit-rate")
}

func benchWorker(b *testing.B) (*Shared, *Worker) {
	needGeo(b)
	bt := bigTable(b, 1_000_000)
	s, err := Open(Config{
		GeoIPCity: filepath.Join(geoDir, "GeoIP2-City-Test.mmdb"), GeoIPASN: filepath.Join(geoDir, "GeoLite2-ASN-Test.mmdb"),
		HomeNet: []string{"10.0.0.0/8", "192.168.0.0/16"}, CacheSize: 4096,
	}, nil)
	if err != nil {
		b.Fatal(err)
	}
	snap := *s.cur.Load()
	snap.intel = bt.db
	s.cur.Store(&snap)
	return s, s.NewWorker().(*Worker)
}
