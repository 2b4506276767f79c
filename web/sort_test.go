package web

import (
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/store"
)

// storeWithFlows fills a store with n flows, one a minute back from t0:
// flow i has 1000+(i*37)%n*10+i*50 bytes (the largest are old ones), a
// source address that sorts differently as text and as an address, and
// every tenth flow has no bytes at all.
func storeWithFlows(t testing.TB, n int) (*store.Store, time.Time) {
	t.Helper()
	st := openStore(t)
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	var evs []*schemas.Event
	for i := range n {
		var ev schemas.Event
		ev.Timestamp = t0.Add(-time.Duration(i) * time.Minute)
		ev.Event.Kind, ev.Event.Dataset = "event", schemas.DatasetFlow
		if i%10 != 9 {
			ev.Network.Bytes = int64(1000 + (i*37)%n*10 + i*50)
		}
		ev.Network.Transport = "tcp"
		ev.Network.CommunityID = fmt.Sprintf("1:flow%03d", i)
		ev.Source.IP = fmt.Sprintf("%d.0.0.%d", 1+i%12, i%250)
		ev.Destination.IP = "192.0.2.1"
		evs = append(evs, &ev)
	}
	insertEvents(t, st, evs...)
	return st, t0
}

// evString reads a text field of a stored event.
func evString(it store.Item, path ...string) string {
	return (&sortSpec{path: path, kind: 's'}).key(it).str
}

func flowBytes(it store.Item) int64 {
	v, _ := evNumber(it, "network", "bytes")
	return v
}

// evNumber reads a number field of a stored event.
func evNumber(it store.Item, path ...string) (int64, bool) {
	spec := &sortSpec{path: path, kind: 'n'}
	k := spec.key(it)
	return int64(k.num), k.ok
}

// sort= orders the whole result, not a page: the pages, walked by
// next_offset, are the full result sorted by the field (numbers by value,
// addresses as addresses, rows without the field last, ties newest
// first), with where= and the other filters applied first.
func TestListSortedOverWholeResult(t *testing.T) {
	const n = 130
	st, _ := storeWithFlows(t, n)
	_, hs := testServer(t, Config{Store: st})
	walk := func(query string) ([]store.Item, SortedPage) {
		t.Helper()
		var all []store.Item
		var first SortedPage
		for off := 0; ; {
			var pg SortedPage
			if code := get(t, hs, fmt.Sprintf("/api/v1/flows?since=2026-11-01T00:00:00Z&limit=50&%s&offset=%d", query, off), &pg); code != 200 {
				t.Fatalf("%s: %d", query, code)
			}
			if off == 0 {
				first = pg
			}
			all = append(all, pg.Items...)
			if pg.NextOffset == 0 {
				return all, first
			}
			if pg.NextOffset != off+50 || len(pg.Items) != 50 {
				t.Fatalf("%s: page at %d has %d rows, next_offset %d", query, off, len(pg.Items), pg.NextOffset)
			}
			off = pg.NextOffset
		}
	}

	all, first := walk("sort=network.bytes&order=desc")
	if len(all) != n || first.Total != n || first.Truncated {
		t.Fatalf("%d rows over the pages, total %d, truncated %v; want %d", len(all), first.Total, first.Truncated, n)
	}
	var got []int64
	withBytes := 0
	for i, it := range all {
		b, ok := evNumber(it, "network", "bytes")
		if ok {
			withBytes++
			got = append(got, b)
		} else if i < n-n/10 {
			t.Fatalf("row %d has no bytes but comes before rows that have", i)
		}
	}
	if withBytes != n-n/10 || !slices.IsSortedFunc(got, func(a, b int64) int { return int(b - a) }) {
		t.Fatalf("bytes not in descending order over the pages: %v", got)
	}
	// The largest flow is not among the 50 newest: a per-page sort misses it.
	var newest ListPage
	get(t, hs, "/api/v1/flows?since=2026-11-01T00:00:00Z&limit=50", &newest)
	maxNewest := int64(0)
	for _, it := range newest.Items {
		maxNewest = max(maxNewest, flowBytes(it))
	}
	if flowBytes(first.Items[0]) <= maxNewest {
		t.Fatalf("the test data does not need a whole-result sort (%d vs %d)", flowBytes(first.Items[0]), maxNewest)
	}

	// Ascending: smallest first, rows without the field still last.
	asc, _ := walk("sort=network.bytes&order=asc")
	if flowBytes(asc[0]) != 1000 || flowBytes(asc[len(asc)-1]) != 0 {
		t.Errorf("ascending: first %d, last %d", flowBytes(asc[0]), flowBytes(asc[len(asc)-1]))
	}

	// Addresses compare as addresses (2.0.0.x before 10.0.0.x).
	ips, _ := walk("sort=source.ip&order=asc")
	var addrs []netip.Addr
	for _, it := range ips {
		k := (&sortSpec{path: []string{"source", "ip"}, kind: 'i'}).key(it)
		addrs = append(addrs, k.ip)
	}
	if !slices.IsSortedFunc(addrs, netip.Addr.Compare) || addrs[0].String() != "1.0.0.0" {
		t.Errorf("source.ip ascending starts %v, sorted %v", addrs[:3], slices.IsSortedFunc(addrs, netip.Addr.Compare))
	}

	// where= applies before the sort; the total counts the matches.
	filtered, fp := walk("sort=network.bytes&order=desc&where=" + "network.bytes%20%3E%202000")
	if fp.Total != len(filtered) || len(filtered) == 0 || len(filtered) >= n {
		t.Fatalf("where + sort: %d rows, total %d", len(filtered), fp.Total)
	}
	for _, it := range filtered {
		if flowBytes(it) <= 2000 {
			t.Fatalf("where + sort let through %d bytes", flowBytes(it))
		}
	}

	// Alerts and events take sort= too; a field that is not one is a 400.
	for path, want := range map[string]int{
		"/api/v1/events?dataset=dns&sort=dns.question.name":      200,
		"/api/v1/alerts?sort=event.severity":                     200,
		"/api/v1/flows?sort=network.bites":                       400,
		"/api/v1/flows?sort=network.bytes&offset=49990&limit=50": 400,
	} {
		if got := get(t, hs, path, nil); got != want {
			t.Errorf("GET %s: %d, want %d", path, got, want)
		}
	}
}

// Every column the UI sorts on the server names a field the server knows
// (else a click would be a 400).
func TestUISortFieldsAreFields(t *testing.T) {
	b, err := os.ReadFile("ui/app.js")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{"@timestamp": true}
	for _, f := range schemas.Fields("") {
		known[f.Name] = true
	}
	n := 0
	for _, re := range []*regexp.Regexp{regexp.MustCompile(`field: '([^']+)'`), regexp.MustCompile(`fieldCol\('[^']*', '([^']+)'`)} {
		for _, m := range re.FindAllSubmatch(b, -1) {
			n++
			if !known[string(m[1])] {
				t.Errorf("the UI sorts on %q, which is no field", m[1])
			}
		}
	}
	if n < 30 {
		t.Fatalf("only %d sortable columns found in app.js", n)
	}
}
