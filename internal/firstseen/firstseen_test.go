package firstseen

import (
	"fmt"
	"hash/maphash"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
)

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func TestKey(t *testing.T) {
	for in, want := range map[string]string{
		"WWW.Example.COM.": "example.com", "a.b.example.co.uk": "example.co.uk", "example.com": "example.com",
		"10.0.0.1": "", "[2001:db8::1]": "", "": "", "localhost": "localhost", "co.uk": "co.uk",
	} {
		if got := Key(in); got != want {
			t.Errorf("Key(%q) = %q, want %q", in, got, want)
		}
	}
}

// A domain is new from its first sighting until the window has passed,
// but only once the table has observed for the warm-up: on a fresh sensor
// every domain is "first seen". A host of a known domain is not new.
func TestNewWithinWindowAfterWarmup(t *testing.T) {
	tb := New(Config{Window: 24 * time.Hour, Warmup: time.Hour}, nil)
	obs := func(name string, at time.Duration) Seen {
		s, ok := tb.Observe(name, t0.Add(at))
		if !ok {
			t.Fatalf("%s not held", name)
		}
		return s
	}
	if s := obs("old.example", 0); s.New {
		t.Error("new during the warm-up")
	}
	if s := obs("cdn.old.example", 2*time.Hour); s.New || !s.First.Equal(t0) || s.Domain != "old.example" {
		t.Errorf("a host of a known domain: %+v", s)
	}
	if s := obs("evil.example", 2*time.Hour); !s.New {
		t.Error("a domain first seen after the warm-up is not new")
	}
	if s := obs("www.evil.example", 25*time.Hour); !s.New {
		t.Error("23 h after its first sighting, within a 24 h window, not new")
	}
	if s := obs("evil.example", 26*time.Hour+time.Second); s.New {
		t.Error("past the window, still new")
	}
	if _, ok := tb.Observe("192.0.2.1", t0); ok {
		t.Error("an address is not a domain")
	}
	if _, ok := New(Config{}, nil).Observe("x.example", t0); ok {
		t.Error("window 0 is off")
	}
}

// Workers see events a little out of order: the first sighting is the
// earliest time any of them saw the domain.
func TestFirstIsTheEarliest(t *testing.T) {
	tb := New(Config{Window: time.Hour}, nil)
	tb.Observe("a.example", t0.Add(10*time.Minute))
	s, _ := tb.Observe("a.example", t0.Add(5*time.Minute))
	if !s.First.Equal(t0.Add(5 * time.Minute)) {
		t.Errorf("first %v", s.First)
	}
}

// Past max_entries the least recently seen domain is forgotten (counted);
// a domain seen again stays.
func TestBoundedLRU(t *testing.T) {
	tb := New(Config{Window: time.Hour, MaxEntries: nShards}, nil) // one a shard
	for i := range 200 {
		tb.Observe(fmt.Sprintf("d%d.example", i), t0)
	}
	st := tb.Stats()
	if st.Domains > nShards || st.Evicted != 200-uint64(st.Domains) {
		t.Errorf("%+v", st)
	}
}

// Entries are paid from the memory budget. When it refuses, the shard's
// least recently seen domain is forgotten for the new one (counted): an
// attacker who spends the budget does not blind the table to new domains.
// A shard with nothing to forget refuses (counted), and the budget is
// never overdrawn.
func TestBudgetEvictsLeastRecent(t *testing.T) {
	cost := entryBytes + int64(len("d000.example"))
	b := budget.New(3 * cost)
	tb := New(Config{Window: time.Hour, Warmup: time.Nanosecond}, b)
	shardOf := func(k string) uint64 { return maphash.String(tb.seed, k) % nShards }
	var names []string
	other := ""
	for i := 0; len(names) < 10 || other == ""; i++ {
		k := fmt.Sprintf("d%03d.example", i)
		switch {
		case shardOf(k) == 0 && len(names) < 10:
			names = append(names, k)
		case shardOf(k) != 0 && other == "":
			other = k
		}
	}
	for i, k := range names {
		s, ok := tb.Observe(k, t0.Add(time.Duration(i)*time.Minute))
		if !ok || s.New != (i > 0) {
			t.Fatalf("%s: held %v, %+v", k, ok, s)
		}
	}
	if st := tb.Stats(); st.Domains != 3 || st.EvictedMemory != 7 || st.Evicted != 0 || st.Refused != 0 {
		t.Errorf("%+v", st)
	}
	for i, k := range names {
		if _, held := tb.shards[0].m[k]; held != (i >= 7) {
			t.Errorf("%s held %v: want the 3 seen last", k, held)
		}
	}
	if _, ok := tb.Observe(other, t0.Add(time.Hour)); ok {
		t.Error("a domain of an empty shard held past the budget")
	}
	if st := tb.Stats(); st.Refused != 1 {
		t.Errorf("%+v", st)
	}
	if used := b.Stats().Used; used > b.Stats().Limit {
		t.Errorf("budget overdrawn: %d", used)
	}
}

// The table survives a restart through its file (0600): the start and
// each domain's first sighting, so a restart needs no new warm-up and a
// known domain does not become new.
func TestSaveLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "first_seen.json")
	cfg := Config{Window: 24 * time.Hour, Warmup: time.Hour, File: path}
	a := New(cfg, nil)
	if err := a.Load(path); err != nil {
		t.Fatal(err)
	}
	a.Observe("old.example", t0)
	a.Observe("mid.example", t0.Add(2*time.Hour))
	if err := a.Save(path); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%v %v", fi.Mode(), err)
	}
	b := New(cfg, nil)
	if err := b.Load(path); err != nil {
		t.Fatal(err)
	}
	if s, _ := b.Observe("www.old.example", t0.Add(3*time.Hour)); s.New || !s.First.Equal(t0) {
		t.Errorf("old domain after restart: %+v", s)
	}
	if s, _ := b.Observe("mid.example", t0.Add(3*time.Hour)); !s.New {
		t.Errorf("new domain after restart: %+v", s)
	}
	if s, _ := b.Observe("fresh.example", t0.Add(3*time.Hour)); !s.New {
		t.Error("the warm-up started again after the restart")
	}
	os.WriteFile(path, []byte(`{"start":1,"domains":{"WWW.X.EXAMPLE":5}}`), 0o600)
	if err := New(cfg, nil).Load(path); err == nil {
		t.Error("a bad entry loaded")
	}
}

// BenchmarkObserve: what a DNS, HTTP or TLS event pays (a known domain).
func BenchmarkObserve(b *testing.B) {
	tb := New(Config{Window: time.Hour}, nil)
	names := make([]string, 1024)
	for i := range names {
		names[i] = fmt.Sprintf("host%d.d%d.example.com", i, i%300)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		tb.Observe(names[i%len(names)], t0)
		i++
	}
}

// Workers share the table: concurrent observations keep one entry per
// domain, with the earliest time any of them saw it (run with -race).
func TestConcurrentWorkers(t *testing.T) {
	tb := New(Config{Window: time.Hour}, budget.New(64<<20))
	done := make(chan bool)
	for w := range 4 {
		go func() {
			for i := range 500 {
				tb.Observe(fmt.Sprintf("d%d.example", i%50), t0.Add(time.Duration(w*500+i)*time.Millisecond))
			}
			done <- true
		}()
	}
	for range 4 {
		<-done
	}
	if st := tb.Stats(); st.Domains != 50 {
		t.Errorf("%+v", st)
	}
	if s, _ := tb.Observe("d0.example", t0.Add(time.Hour)); !s.First.Equal(t0) {
		t.Errorf("first %v, want %v", s.First, t0)
	}
}
