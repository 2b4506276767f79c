package app

import (
	"maps"
	"testing"

	"github.com/packetsleuth/packetsleuth/files"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// StatsTo gives what Stats gives, in the maps it was handed: counters of
// the last call are not left in them, and a publisher refilling one Stats
// makes no allocation.
func TestStatsToRefillsTheMapsItHas(t *testing.T) {
	a := New(Config{Files: &files.Config{}}, nil, func(*schemas.Event) {}, nil)
	a.stats.Detected["dns"], a.stats.ParserErrors["dns"] = 3, 1
	var s Stats
	a.StatsTo(&s)
	detected := s.Detected
	delete(a.stats.Detected, "dns")
	a.stats.Detected["http"] = 2
	a.StatsTo(&s)
	want := a.Stats()
	if !maps.Equal(s.Detected, want.Detected) || !maps.Equal(s.ParserErrors, want.ParserErrors) || s.Files != want.Files || s.Reassembly != want.Reassembly {
		t.Fatalf("StatsTo gave %+v, Stats %+v", s, want)
	}
	if s.Detected["dns"] != 0 || s.Detected["http"] != 2 {
		t.Fatalf("refilled Detected %v, want only http: 2", s.Detected)
	}
	detected["marker"] = 1 // s.Detected is the map it was handed
	if s.Detected["marker"] != 1 {
		t.Fatal("StatsTo made new maps")
	}
	delete(detected, "marker")
	if n := testing.AllocsPerRun(100, func() { a.StatsTo(&s) }); n != 0 {
		t.Errorf("%.1f allocations a refill, want 0", n)
	}
}
