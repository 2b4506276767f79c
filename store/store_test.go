package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/store/storetest"
)

// backend makes a fresh, empty database configuration per call.
type backend struct {
	name string
	cfg  func(t testing.TB) Config
}

// backends are SQLite always and PostgreSQL when PS_TEST_PG is set; each
// PostgreSQL config gets its own schema, dropped when the test ends.
func backends(t testing.TB) []backend {
	bs := []backend{{"sqlite", func(t testing.TB) Config {
		return Config{Driver: SQLite, Path: filepath.Join(t.TempDir(), "ps.db")}
	}}}
	if dsn := os.Getenv("PS_TEST_PG"); dsn != "" {
		bs = append(bs, backend{"postgres", func(t testing.TB) Config { return pgSchema(t, dsn) }})
	} else {
		t.Log("PS_TEST_PG is not set: PostgreSQL is skipped (eval \"$(../../shared/services/start-postgres.sh)\")")
	}
	if dsn, sock := os.Getenv("PS_TEST_MARIADB"), os.Getenv("PS_TEST_MARIADB_SOCKET"); dsn != "" && sock != "" {
		bs = append(bs, backend{"mysql", func(t testing.TB) Config {
			return Config{Driver: MySQL, DSN: outputs.Secret(storetest.MySQLDatabase(t, dsn, sock))}
		}})
	} else {
		t.Log("PS_TEST_MARIADB is not set: MariaDB is skipped (eval \"$(../../shared/services/start-mariadb.sh)\")")
	}
	return bs
}

func pgSchema(t testing.TB, dsn string) Config {
	return Config{Driver: Postgres, DSN: outputs.Secret(storetest.PGSchema(t, dsn))}
}

func forEach(t *testing.T, fn func(t *testing.T, cfg func(testing.TB) Config)) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { fn(t, b.cfg) })
	}
}

func open(t testing.TB, cfg Config) *Store {
	t.Helper()
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func record(t testing.TB, ev *schemas.Event) schemas.Record {
	t.Helper()
	r, err := schemas.NewRecord(ev)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// testFlow is a flow as the test knows it, independent of the store.
type testFlow struct {
	end              time.Time
	src, dst         string
	dport            int
	proto, transport string
	country          string
	bytes, packets   int64
	cid              string
}

func (f testFlow) event() *schemas.Event {
	ev := &schemas.Event{Timestamp: f.end}
	ev.ECS.Version = schemas.ECSVersion
	ev.Event = schemas.EventMeta{Kind: "event", Category: []string{"network"}, Type: []string{"connection", "end"},
		Dataset: schemas.DatasetFlow, Start: f.end.Add(-time.Second), End: f.end, Duration: time.Second}
	ev.Network = schemas.Network{Transport: f.transport, Protocol: f.proto, Bytes: f.bytes, Packets: f.packets, CommunityID: f.cid}
	ev.Source = schemas.Endpoint{IP: f.src, Port: 40000, Bytes: f.bytes / 3, Packets: f.packets / 2}
	ev.Source.Geo.CountryISOCode = f.country
	ev.Destination = schemas.Endpoint{IP: f.dst, Port: f.dport, Bytes: f.bytes - f.bytes/3, Packets: f.packets - f.packets/2}
	ev.Sensor.Flow.State = "SF"
	return ev
}

// makeFlows builds n flows with a fixed linear congruential sequence.
func makeFlows(n int) []testFlow {
	srcs := []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "192.168.1.7", "2001:db8::5"}
	dsts := []string{"192.0.2.1", "192.0.2.2", "198.51.100.9"}
	protos := []struct {
		p, tr string
		port  int
	}{{"http", "tcp", 80}, {"tls", "tcp", 443}, {"dns", "udp", 53}, {"", "tcp", 22}}
	countries := []string{"", "DE", "US"}
	x := uint32(12345)
	next := func() uint32 { x = x*1664525 + 1013904223; return x >> 8 }
	out := make([]testFlow, n)
	for i := range out {
		p := protos[next()%uint32(len(protos))]
		out[i] = testFlow{
			end: t0.Add(time.Duration(next()%7200) * time.Second), src: srcs[next()%uint32(len(srcs))],
			dst: dsts[next()%uint32(len(dsts))], dport: p.port, proto: p.p, transport: p.tr,
			country: countries[next()%uint32(len(countries))], bytes: int64(next()%100000 + 60),
			packets: int64(next()%200 + 1), cid: "1:cid" + strconv.Itoa(i%50),
		}
	}
	return out
}

func insertAll(t testing.TB, s *Store, recs []schemas.Record, batch int) {
	t.Helper()
	for i := 0; i < len(recs); i += batch {
		if _, err := s.Insert(context.Background(), recs[i:min(i+batch, len(recs))]); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMigrations(t *testing.T) {
	forEach(t, func(t *testing.T, mk func(testing.TB) Config) {
		cfg := mk(t)
		ms, err := Migrations(cfg.WithDefaults().Driver)
		if err != nil || len(ms) == 0 {
			t.Fatalf("migrations: %v %v", ms, err)
		}
		for i := range 2 { // from empty, then an idempotent re-open
			s, err := Open(context.Background(), cfg)
			if err != nil {
				t.Fatalf("open %d: %v", i, err)
			}
			v, err := s.SchemaVersion(context.Background())
			if err != nil || v != ms[len(ms)-1].Version {
				t.Errorf("open %d: version %d, %v", i, v, err)
			}
			var n int
			s.DB().QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&n)
			if n != len(ms) {
				t.Errorf("open %d: %d schema_migrations rows, want %d", i, n, len(ms))
			}
			for _, table := range []string{"flows", "alerts", "events", "traffic"} {
				if _, err := s.DB().Exec("SELECT COUNT(*) FROM " + table); err != nil {
					t.Errorf("table %s: %v", table, err)
				}
			}
			s.Close()
		}
		// A database migrated by a newer sensor is refused.
		s := open(t, cfg)
		s.DB().Exec(s.rebind("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"), 9999, "9999_future", 0)
		s.Close()
		if _, err := Open(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "newer") {
			t.Errorf("future schema: %v", err)
		}
	})
}

func TestInsertAndQueries(t *testing.T) {
	forEach(t, func(t *testing.T, mk func(testing.TB) Config) {
		ctx := context.Background()
		s := open(t, mk(t))
		flows := makeFlows(400)
		var recs []schemas.Record
		for _, f := range flows {
			recs = append(recs, record(t, f.event()))
		}
		// DPI events and alerts next to the flows, plus a dataset not kept.
		for i := range 30 {
			ev := &schemas.Event{Timestamp: t0.Add(time.Duration(i) * time.Minute)}
			ev.Event = schemas.EventMeta{Kind: "event", Dataset: schemas.DatasetDNS}
			ev.Source.IP, ev.Destination.IP, ev.Destination.Port = "10.0.0.1", "192.0.2.53", 53
			ev.Network.Transport, ev.Network.Protocol, ev.Network.CommunityID = "udp", "dns", "1:dns"+strconv.Itoa(i%3)
			recs = append(recs, record(t, ev))
		}
		wantAlerts := map[string]int64{}
		for i := range 25 {
			ev := &schemas.Event{Timestamp: t0.Add(time.Duration(i) * 3 * time.Minute)}
			ev.Event = schemas.EventMeta{Kind: "alert", Dataset: schemas.DatasetAlert, Severity: 20 + i%3}
			id := []string{"PS-1", "PS-2", "PS-3"}[i%3]
			if i%5 == 0 {
				id = "PS-1"
			}
			ev.Rule.ID, ev.Rule.Name = id, "rule "+id
			ev.Source.IP = "10.0.0.9"
			recs = append(recs, record(t, ev))
			wantAlerts[id]++
		}
		stats := &schemas.Event{Timestamp: t0}
		stats.Event = schemas.EventMeta{Kind: "metric", Dataset: schemas.DatasetStats}
		recs = append(recs, record(t, stats))
		var total InsertStats
		for i := 0; i < len(recs); i += 64 {
			st, err := s.Insert(ctx, recs[i:min(i+64, len(recs))])
			if err != nil {
				t.Fatal(err)
			}
			total.Flows += st.Flows
			total.Alerts += st.Alerts
			total.Events += st.Events
			total.Skipped += st.Skipped
		}
		if total != (InsertStats{Flows: 400, Alerts: 25, Events: 30, Skipped: 1}) {
			t.Errorf("insert stats %+v", total)
		}

		// Top talkers for every group and metric, against sums made here.
		rng := Range{Since: t0.Add(20 * time.Minute), Until: t0.Add(100 * time.Minute)}
		key := map[string]func(testFlow) string{
			"source.ip": func(f testFlow) string { return f.src }, "destination.ip": func(f testFlow) string { return f.dst },
			"destination.port":            func(f testFlow) string { return strconv.Itoa(f.dport) },
			"network.protocol":            func(f testFlow) string { return f.proto },
			"network.transport":           func(f testFlow) string { return f.transport },
			"source.geo.country_iso_code": func(f testFlow) string { return f.country },
		}
		for group, kf := range key {
			sums := map[string]*TopRow{}
			var tot TopRow
			for _, f := range flows {
				if f.end.Before(rng.Since) || !f.end.Before(rng.Until) {
					continue
				}
				k := kf(f)
				if sums[k] == nil {
					sums[k] = &TopRow{Key: k}
				}
				sums[k].Bytes += f.bytes
				sums[k].Packets += f.packets
				sums[k].Flows++
				tot.Bytes += f.bytes
				tot.Packets += f.packets
				tot.Flows++
			}
			for _, by := range []Metric{ByBytes, ByPackets, ByFlows} {
				var want []TopRow
				for _, r := range sums {
					want = append(want, *r)
				}
				val := func(r TopRow) int64 {
					return map[Metric]int64{ByBytes: r.Bytes, ByPackets: r.Packets, ByFlows: r.Flows}[by]
				}
				sort.Slice(want, func(i, j int) bool {
					if val(want[i]) != val(want[j]) {
						return val(want[i]) > val(want[j])
					}
					return want[i].Key < want[j].Key
				})
				want = want[:min(3, len(want))]
				got, err := s.Top(ctx, TopQuery{Range: rng, By: by, Group: group, Limit: 3})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, want) {
					t.Errorf("top %s by %s:\n got %+v\nwant %+v", group, by, got, want)
				}
			}
			got, err := s.Totals(ctx, rng)
			if err != nil || got != tot {
				t.Errorf("totals %+v %v, want %+v", got, err, tot)
			}
		}
		if _, err := s.Top(ctx, TopQuery{Group: "source.ip; DROP TABLE flows"}); err == nil {
			t.Error("unknown group accepted")
		}

		// Listing with filters, keyset and offset paging.
		match := func(f testFlow) bool {
			return (f.src == "10.0.0.2" || f.dst == "10.0.0.2") && f.transport == "tcp" && !f.end.Before(rng.Since) && f.end.Before(rng.Until)
		}
		var want []time.Time
		for _, f := range flows {
			if match(f) {
				want = append(want, f.end)
			}
		}
		slices.SortFunc(want, func(a, b time.Time) int { return b.Compare(a) })
		q := ListQuery{Dataset: "flow", Range: rng, IP: "10.0.0.2", Protocol: "TCP", Desc: true, Limit: 7}
		var got []time.Time
		seen := map[int64]bool{}

		err := s.Each(ctx, q, func(it Item) error {
			if seen[it.ID] {
				return fmt.Errorf("id %d twice", it.ID)
			}
			seen[it.ID] = true
			var ev schemas.Event
			if err := schemas.Decode(it.JSON, &ev); err != nil {
				return err
			}
			if !ev.Timestamp.Equal(it.Time) || it.Dataset != schemas.DatasetFlow {
				return fmt.Errorf("item %d: time %v vs doc %v, dataset %q", it.ID, it.Time, ev.Timestamp, it.Dataset)
			}
			got = append(got, it.Time)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(got, want, time.Time.Equal) || len(want) < 10 {
			t.Errorf("list: got %d items, want %d", len(got), len(want))
		}
		p1, _ := s.List(ctx, q)
		q.Offset = 7
		p2, _ := s.List(ctx, q)
		q.Offset, q.After = 0, p1.Next
		p2k, _ := s.List(ctx, q)
		if len(p1.Items) != 7 || p1.Next == "" || len(p2.Items) == 0 || p2.Items[0].ID != p2k.Items[0].ID {
			t.Errorf("paging: p1 %d next %q, p2 %d", len(p1.Items), p1.Next, len(p2.Items))
		}
		for _, f := range []struct {
			q    ListQuery
			want int
		}{
			{ListQuery{Dataset: "dns"}, 30},
			{ListQuery{Dataset: "packetsleuth.dns", CommunityID: "1:dns1"}, 10},
			{ListQuery{Dataset: "dns", Port: 53, Range: Range{Since: t0.Add(10 * time.Minute)}}, 20},
			{ListQuery{Dataset: "http"}, 0},
			{ListQuery{Dataset: "flow", CommunityID: "1:cid7"}, 8},
			{ListQuery{Dataset: "alert", RuleID: "PS-1"}, int(wantAlerts["PS-1"])},
		} {
			n := 0
			if err := s.Each(ctx, f.q, func(Item) error { n++; return nil }); err != nil || n != f.want {
				t.Errorf("%+v: %d items, %v; want %d", f.q, n, err, f.want)
			}
		}
		if _, err := s.List(ctx, ListQuery{Dataset: "stats"}); err == nil {
			t.Error("listing an unknown dataset worked")
		}

		// Alert counts and acknowledgement.
		counts, err := s.AlertCounts(ctx, Range{})
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		for i, c := range counts {
			sum += c.Count
			if c.Count != wantAlerts[c.RuleID] || c.Unacknowledged != c.Count || c.RuleName != "rule "+c.RuleID {
				t.Errorf("alert count %+v, want %d", c, wantAlerts[c.RuleID])
			}
			if i > 0 && counts[i-1].Count < c.Count {
				t.Errorf("alert counts not sorted: %+v", counts)
			}
		}
		if sum != 25 || len(counts) != 3 {
			t.Errorf("alert counts %+v", counts)
		}
		p, _ := s.List(ctx, ListQuery{Dataset: "alert", RuleID: "PS-2", Limit: 2})
		for _, it := range p.Items {
			if err := s.Acknowledge(ctx, it.ID, true); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Acknowledge(ctx, 1<<40, true); !errors.Is(err, ErrNotFound) {
			t.Errorf("ack unknown: %v", err)
		}
		counts, _ = s.AlertCounts(ctx, Range{})
		for _, c := range counts {
			if c.RuleID == "PS-2" && c.Unacknowledged != c.Count-2 {
				t.Errorf("after ack: %+v", c)
			}
		}
		n := 0
		s.Each(ctx, ListQuery{Dataset: "alert", Unacked: true}, func(it Item) error {
			if it.Acknowledged {
				t.Errorf("acknowledged alert %d listed as unacknowledged", it.ID)
			}
			n++
			return nil
		})
		if n != 23 {
			t.Errorf("%d unacknowledged alerts, want 23", n)
		}
		lo, hi, err := s.Bounds(ctx)
		minT, maxT := flows[0].end, flows[0].end
		for _, f := range flows {
			minT, maxT = minOf(minT, f.end), maxOf(maxT, f.end)
		}
		minT = minOf(minT, t0) // the first DNS event and alert
		if err != nil || !lo.Equal(minT) || !hi.Equal(maxT) {
			t.Errorf("bounds %v %v %v, want %v %v", lo, hi, err, minT, maxT)
		}
	})
}

func minOf(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// bucket is a worker's 1 s traffic bucket.
func bucket(ts time.Time, iface string, packets, bytes, flows int64, byProto map[string]int64) *schemas.Event {
	ev := &schemas.Event{Timestamp: ts}
	ev.Event = schemas.EventMeta{Kind: "metric", Dataset: schemas.DatasetTimeseries, Duration: time.Second}
	ev.Sensor.Traffic = schemas.Traffic{Interface: iface, Packets: packets, Bytes: bytes, Flows: flows, BytesByProtocol: byProto}
	return ev
}

func TestTimeseriesAdditionAndRollup(t *testing.T) {
	forEach(t, func(t *testing.T, mk func(testing.TB) Config) {
		ctx := context.Background()
		s := open(t, mk(t))
		start := t0.Add(58 * time.Minute) // crosses the 11:00 hour boundary
		type sums struct{ packets, bytes, flows, tcp, udp, other int64 }
		want := map[int64]*sums{} // second -> totals over workers and interfaces
		var recs []schemas.Record
		for sec := range 240 {
			for w := range 3 {
				if (sec+w)%7 == 0 {
					continue // this worker saw nothing in that second
				}
				p, b := int64(w+1), int64(100*(sec%10)+w)
				iface := []string{"eth0", "eth0", "eth1"}[w]
				by := map[string]int64{"tcp": b / 2, "udp": b / 4, "sctp": b - b/2 - b/4}
				recs = append(recs, record(t, bucket(start.Add(time.Duration(sec)*time.Second), iface, p, b, 1, by)))
				k := start.Unix() + int64(sec)
				if want[k] == nil {
					want[k] = &sums{}
				}
				ws := want[k]
				ws.packets += p
				ws.bytes += b
				ws.flows++
				ws.tcp += b / 2
				ws.udp += b / 4
				ws.other += b - b/2 - b/4
			}
		}
		// Workers' batches interleave: insert in small shuffled batches.
		slices.Reverse(recs[100:300])
		insertAll(t, s, recs, 37)
		for _, res := range []time.Duration{time.Second, time.Minute, 5 * time.Minute, time.Hour} {
			rng := Range{Since: start.Add(-30 * time.Second), Until: start.Add(5 * time.Minute)}
			pts, err := s.Series(ctx, SeriesQuery{Range: rng, Resolution: res})
			if err != nil {
				t.Fatal(err)
			}
			sec := int64(res / time.Second)
			exp := map[int64]Point{}
			for k, v := range want {
				b := k - k%sec
				p := exp[b]
				p.Packets += v.packets
				p.Bytes += v.bytes
				p.Flows += v.flows
				p.BytesTCP += v.tcp
				p.BytesUDP += v.udp
				p.BytesOther += v.other
				exp[b] = p
			}
			from := rng.Since.Unix() - rng.Since.Unix()%sec
			if len(pts) == 0 || pts[0].Time.Unix() != from {
				t.Fatalf("%v: first point %v, want %v", res, pts, time.Unix(from, 0))
			}
			for i, p := range pts {
				if p.Time.Unix() != from+int64(i)*sec {
					t.Fatalf("%v: point %d at %v: not evenly spaced", res, i, p.Time)
				}
				e := exp[p.Time.Unix()]
				e.Time = p.Time
				if p != e {
					t.Errorf("%v: bucket %v: got %+v want %+v", res, p.Time, p, e)
				}
			}
		}
		one, _ := s.Series(ctx, SeriesQuery{Range: Range{Since: start, Until: start.Add(time.Second)}, Resolution: time.Second, Interface: "eth1"})
		if len(one) != 1 || one[0].Packets != 3 {
			t.Errorf("eth1 at start: %+v", one)
		}
		if _, err := s.Series(ctx, SeriesQuery{Range: Range{Since: start, Until: start.Add(time.Hour)}, Resolution: 1500 * time.Millisecond}); err == nil {
			t.Error("fractional resolution accepted")
		}
	})
}

func TestPrune(t *testing.T) {
	forEach(t, func(t *testing.T, mk func(testing.TB) Config) {
		ctx := context.Background()
		cfg := mk(t)
		cfg.Retention = map[string]Duration{"1s": Duration(10 * time.Minute), "1m": Duration(2 * time.Hour), "flow": Duration(time.Hour)}
		s := open(t, cfg)
		var recs []schemas.Record
		for m := range 180 { // one bucket per minute for 3 hours
			recs = append(recs, record(t, bucket(t0.Add(time.Duration(m)*time.Minute), "", 1, 10, 1, nil)))
		}
		for _, f := range makeFlows(100) {
			recs = append(recs, record(t, f.event()))
		}
		insertAll(t, s, recs, 100)
		now := t0.Add(3 * time.Hour)
		st, err := s.Prune(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		count := func(q string, args ...any) int64 {
			var n int64
			if err := s.DB().QueryRow(s.rebind(q), args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		// 1 s: buckets ending at or before now-10m go: minutes 0..169 (end 169m+1s ≤ 170m).
		if n := count("SELECT COUNT(*) FROM traffic WHERE res = 1"); n != 10 || st["1s"] != 170 {
			t.Errorf("1s level: %d left, %d pruned", n, st["1s"])
		}
		// 1 m: buckets ending ≤ 60m go: minutes 0..59.
		if n := count("SELECT COUNT(*) FROM traffic WHERE res = 60"); n != 120 || st["1m"] != 60 {
			t.Errorf("1m level: %d left, %d pruned", n, st["1m"])
		}
		// 1 h: default retention (1y) keeps all three hours.
		if n := count("SELECT COUNT(*) FROM traffic WHERE res = 3600"); n != 3 {
			t.Errorf("1h level: %d left", n)
		}
		var keep int64
		for _, f := range makeFlows(100) {
			if !f.end.Before(now.Add(-time.Hour)) {
				keep++
			}
		}
		if n := count("SELECT COUNT(*) FROM flows"); n != keep || st["flow"] != 100-keep {
			t.Errorf("flows: %d left (want %d), %d pruned", n, keep, st["flow"])
		}
		// The hour series still answers from the 1 h level.
		pts, err := s.Series(ctx, SeriesQuery{Range: Range{Since: t0, Until: now}, Resolution: time.Hour})
		if err != nil || len(pts) != 3 || pts[0].Bytes != 600 || pts[2].Packets != 60 {
			t.Errorf("hour series after prune: %+v %v", pts, err)
		}
	})
}

// noisy is a deterministic series of n buckets around base with small
// variation, with spikes added at the given indices.
func noisy(n int, base int64, spikes map[int]int64) []Point {
	pts := make([]Point, n)
	x := uint32(7)
	for i := range pts {
		x = x*1103515245 + 12345
		pts[i] = Point{Time: t0.Add(time.Duration(i) * time.Minute), Bytes: base + int64(x>>16)%(base/10), Packets: 10}
		pts[i].Bytes += spikes[i]
	}
	return pts
}

func TestDetectPeaks(t *testing.T) {
	spikes := map[int]int64{40: 50_000, 75: 30_000, 76: 30_000}
	pts := noisy(120, 10_000, spikes)
	evs := DetectPeaks(pts, PeakOptions{Window: 30, K: 4})
	var at []int
	for _, ev := range evs {
		at = append(at, int(ev.Timestamp.Sub(t0)/time.Minute))
		pk := ev.Sensor.Peak
		i := at[len(at)-1]
		// Recompute the baseline here, the straightforward way.
		var mean, sd float64
		for _, p := range pts[i-30 : i] {
			mean += float64(p.Bytes) / 30
		}
		for _, p := range pts[i-30 : i] {
			sd += (float64(p.Bytes) - mean) * (float64(p.Bytes) - mean) / 30
		}
		sd = math.Sqrt(sd)
		if math.Abs(pk.Baseline-mean) > 1e-6 || math.Abs(pk.StdDev-sd) > 1e-6 || math.Abs(pk.Threshold-(mean+4*sd)) > 1e-6 ||
			pk.Value != float64(pts[i].Bytes) || pk.Reason != "baseline" || pk.Window != 30 {
			t.Errorf("peak %d: %+v (mean %v sd %v)", i, pk, mean, sd)
		}
		if ev.Event.Kind != "event" || ev.Event.Dataset != schemas.DatasetTraffic || !slices.Equal(ev.Event.Category, []string{"network"}) ||
			ev.Event.Duration != time.Minute || !ev.Event.End.Equal(ev.Timestamp.Add(time.Minute)) || ev.Sensor.Traffic.Bytes != pts[i].Bytes {
			t.Errorf("peak event %+v", ev.Event)
		}
	}
	// 76 follows 75 in its baseline and still stands out with K 4.
	if !slices.Equal(at, []int{40, 75, 76}) {
		t.Errorf("peaks at %v, want [40 75 76]", at)
	}
	// A flat series has no peaks; a step up is one peak, then the norm.
	flat := make([]Point, 50)
	for i := range flat {
		flat[i] = Point{Time: t0.Add(time.Duration(i) * time.Second), Bytes: 500}
	}
	if evs := DetectPeaks(flat, PeakOptions{}); len(evs) != 0 {
		t.Errorf("flat series: %d peaks", len(evs))
	}
	for i := 30; i < 50; i++ {
		flat[i].Bytes = 900
	}
	evs = DetectPeaks(flat, PeakOptions{Window: 10})
	if len(evs) != 1 || !evs[0].Timestamp.Equal(flat[30].Time) {
		t.Errorf("step: %d peaks", len(evs))
	}
	// An absolute threshold flags every bucket above it, even early ones.
	evs = DetectPeaks(flat, PeakOptions{Window: 10, Absolute: 800, Metric: ByBytes})
	if len(evs) != 20 || evs[1].Sensor.Peak.Reason != "absolute" || evs[1].Sensor.Peak.Threshold != 800 {
		t.Errorf("absolute: %d peaks, %+v", len(evs), evs)
	}
	// Leading empty buckets are no baseline: traffic starting is no peak.
	late := append(make([]Point, 30), noisy(40, 10_000, map[int]int64{35: 90_000})...)
	for i := range late {
		late[i].Time = t0.Add(time.Duration(i) * time.Minute)
	}
	if evs := DetectPeaks(late, PeakOptions{Window: 20}); len(evs) != 1 || !evs[0].Timestamp.Equal(late[65].Time) {
		t.Errorf("late start: %d peaks %v", len(evs), evs)
	}
	// Too little history: no baseline peaks.
	if evs := DetectPeaks(noisy(5, 10_000, map[int]int64{4: 1e6}), PeakOptions{}); len(evs) != 0 {
		t.Errorf("short series: %d peaks", len(evs))
	}
	// The event encodes with the peak under packetsleuth.peak.
	b, _ := json.Marshal(DetectPeaks(pts, PeakOptions{Window: 30, K: 4})[0])
	for _, want := range []string{`"dataset":"packetsleuth.traffic"`, `"peak":{"metric":"bytes","resolution":"1m0s"`, `"kind":"event"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("peak JSON lacks %s: %s", want, b)
		}
	}
}

func TestSinkThroughRunner(t *testing.T) {
	forEach(t, func(t *testing.T, mk func(testing.TB) Config) {
		cfg := mk(t)
		sc := outputs.SinkConfig{Type: "store", BatchSize: 50, FlushInterval: 10 * time.Millisecond}
		sc.SetOption("driver", cfg.Driver)
		if cfg.Driver == SQLite {
			sc.SetOption("path", cfg.Path)
		} else {
			sc.SetOption("dsn", cfg.DSN.Value())
		}
		sc.SetOption("datasets", "flow timeseries")
		f, err := outputs.Open([]outputs.SinkConfig{sc})
		if err != nil {
			t.Fatal(err)
		}
		var recs []schemas.Record
		for _, fl := range makeFlows(300) {
			recs = append(recs, record(t, fl.event()))
		}
		for w := range 4 {
			recs = append(recs, record(t, bucket(t0, "", 1, int64(10*(w+1)), 0, nil)))
		}
		dns := &schemas.Event{Timestamp: t0}
		dns.Event.Dataset = schemas.DatasetDNS
		recs = append(recs, record(t, dns))
		recs = append(recs, schemas.Record{Dataset: schemas.DatasetFlow, Kind: "event", Time: t0, JSON: []byte(`{"@timestamp": nope}`)})
		for i := 0; i < len(recs); i += 40 {
			if err := f.Write(recs[i:min(i+40, len(recs))]); err != nil {
				t.Fatal(err)
			}
		}
		sums, err := f.Close(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%v", sums)
		s := open(t, cfg)
		tot, _ := s.Totals(context.Background(), Range{})
		pts, _ := s.Series(context.Background(), SeriesQuery{Range: Range{Since: t0, Until: t0.Add(time.Second)}, Resolution: time.Second})
		var n int
		s.DB().QueryRow("SELECT COUNT(*) FROM events").Scan(&n)
		if tot.Flows != 300 || len(pts) != 1 || pts[0].Bytes != 100 || n != 0 {
			t.Errorf("after the sink: %d flows, series %+v, %d dns events (not kept)", tot.Flows, pts, n)
		}
		st := f.Stats()[0]
		if st.Dropped != 0 || st.DeadLettered != 1 {
			t.Errorf("runner stats %+v", st)
		}
	})
	if _, err := outputs.NewSink(outputs.SinkConfig{Type: "store"}); err != nil {
		t.Errorf("store type with defaults: %v", err)
	}
	bad := outputs.SinkConfig{Type: "store"}
	if err := yaml.Unmarshal([]byte("type: store\ndriver: oracle\nretention: {5s: 1h, 1m: 2d}\n"), &bad); err != nil {
		t.Fatal(err)
	}
	if _, err := outputs.NewSink(bad); err == nil || !strings.Contains(err.Error(), "oracle") || !strings.Contains(err.Error(), `"5s"`) {
		t.Errorf("bad config: %v", err)
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, "1y": 365 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "36h": 36 * time.Hour, "1m30s": 90 * time.Second} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"", "d", "-1d", "1.5d", "abc", "99999999999y"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

// BenchmarkInsert measures flow inserts in batches of 500 (the Runner's
// default batch), one transaction per batch.
func BenchmarkInsert(b *testing.B) {
	flows := makeFlows(500)
	recs := make([]schemas.Record, len(flows))
	for i, f := range flows {
		recs[i] = record(b, f.event())
	}
	for _, be := range backends(b) {
		b.Run(be.name, func(b *testing.B) {
			s := open(b, be.cfg(b))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.Insert(context.Background(), recs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "events/s")
		})
	}
}
