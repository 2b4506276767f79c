package enrich

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/internal/firstseen"
	"github.com/packetsleuth/packetsleuth/internal/homenet"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// Enricher adds context to an event in place. Each worker owns one; Enrich
// is not safe for concurrent use on the same Enricher.
type Enricher interface {
	Enrich(ev *schemas.Event)
}

// snapshot is one immutable generation of enrichment data. Workers read it
// through Shared.cur and never lock.
type snapshot struct {
	city, asn *geoDB
	intel     *intelDB
	geoStamps map[string]fileStamp // by path: the GeoIP files
	intStamps []fileStamp          // the intel files, in Config order
	loadedAt  time.Time
}

// fileStamp identifies a version of a file; a file whose stamp changes is
// reloaded. ok is false when the file could not be stat'ed.
type fileStamp struct {
	path  string
	ok    bool
	size  int64
	mtime time.Time
	ino   uint64
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{path: path}
	}
	return fileStamp{path: path, ok: true, size: fi.Size(), mtime: fi.ModTime(), ino: inode(fi)}
}

// Shared holds the enrichment data all workers read. Open builds it; it
// is safe for concurrent use. The hot path (Worker.Enrich) reads the current
// snapshot through an atomic pointer; Reload builds a new one aside and swaps
// it in, so events are never held up or dropped.
type Shared struct {
	cfg  Config
	log  *slog.Logger
	home homenet.Set
	seen *firstseen.Table // nil: enrich.first_seen off

	cur atomic.Pointer[snapshot]

	mu        sync.Mutex // serialises loads; guards the fields below
	workers   []*Worker
	retired   [nCounters]uint64
	lastErr   string
	reloads   uint64
	reloadErr uint64
}

// Open validates cfg and loads every configured database and list. Bad
// intel lines are all reported, each as "file:line: problem".
func Open(cfg Config, log *slog.Logger) (*Shared, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	home, _ := cfg.homeNet()
	s := &Shared{cfg: cfg, log: log, home: home}
	snap, err := s.load(nil)
	if err != nil {
		return nil, err
	}
	s.cur.Store(snap)
	s.logLoaded("enrich: loaded", snap, 0)
	return s, nil
}

// load builds a snapshot. Components whose files are unchanged since old
// are reused; old == nil loads everything. All errors are collected.
func (s *Shared) load(old *snapshot) (*snapshot, error) {
	snap := &snapshot{geoStamps: map[string]fileStamp{}, loadedAt: time.Now()}
	var errs []error
	openOne := func(path string, role geoRole, prev *geoDB) *geoDB {
		if path == "" {
			return nil
		}
		st := stampOf(path) // before reading: a write during the read shows up next time
		if old != nil && prev != nil && old.geoStamps[path] == st && st.ok {
			snap.geoStamps[path] = st
			return prev
		}
		db, err := openGeo(path, role)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		snap.geoStamps[path] = st
		return db
	}
	var oldCity, oldASN *geoDB
	if old != nil {
		oldCity, oldASN = old.city, old.asn
	}
	snap.city = openOne(s.cfg.GeoIPCity, roleCity, oldCity)
	snap.asn = openOne(s.cfg.GeoIPASN, roleASN, oldASN)

	if len(s.cfg.Intel) > 0 {
		stamps := make([]fileStamp, len(s.cfg.Intel))
		same := old != nil && old.intel != nil
		for i, p := range s.cfg.Intel {
			stamps[i] = stampOf(p)
			same = same && stamps[i].ok && old.intStamps[i] == stamps[i]
		}
		if same {
			snap.intel, snap.intStamps = old.intel, stamps
		} else {
			b := newIntelBuilder()
			var ierrs []error
			for _, p := range s.cfg.Intel {
				if err := b.loadPath(p); err != nil {
					ierrs = append(ierrs, err)
				}
			}
			if len(ierrs) == 0 {
				snap.intel, snap.intStamps = b.finish(), stamps
			}
			errs = append(errs, ierrs...)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return snap, nil
}

func (s *Shared) logLoaded(msg string, snap *snapshot, took time.Duration) {
	attrs := []any{"took", took, "home_net", s.home.Strings()}
	if snap.city != nil {
		attrs = append(attrs, "geoip_city", snap.city.describe())
	}
	if snap.asn != nil {
		attrs = append(attrs, "geoip_asn", snap.asn.describe())
	}
	if snap.intel != nil {
		attrs = append(attrs, "intel", snap.intel.counts)
	}
	s.log.Info(msg, attrs...)
}

// Reload re-opens every configured file and swaps the new data in. On any
// error the current data stay in use, the error is logged and returned.
func (s *Shared) Reload() error { return s.reload(true) }

func (s *Shared) reload(force bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.cur.Load()
	if old == nil { // closed
		return errors.New("enrich: closed")
	}
	base := old
	if force {
		base = nil
	}
	start := time.Now()
	snap, err := s.load(base)
	if err != nil {
		s.reloadErr++
		s.lastErr = err.Error()
		s.log.Error("enrich: reload failed, keeping the previous data", "err", err)
		return err
	}
	s.cur.Store(snap)
	s.reloads++
	s.lastErr = ""
	s.logLoaded("enrich: reloaded", snap, time.Since(start))
	return nil
}

// current returns the stamps the configured files have now, in the order
// stamps uses.
func (*snapshot) current(cfg Config) []fileStamp {
	var out []fileStamp
	for _, p := range []string{cfg.GeoIPCity, cfg.GeoIPASN} {
		if p != "" {
			out = append(out, stampOf(p))
		}
	}
	for _, p := range cfg.Intel {
		out = append(out, stampOf(p))
	}
	return out
}

func (snap *snapshot) stamps(cfg Config) []fileStamp {
	var out []fileStamp
	for _, p := range []string{cfg.GeoIPCity, cfg.GeoIPASN} {
		if p != "" {
			out = append(out, snap.geoStamps[p])
		}
	}
	if len(snap.intStamps) == len(cfg.Intel) {
		return append(out, snap.intStamps...)
	}
	return append(out, make([]fileStamp, len(cfg.Intel))...)
}

// Watch polls the configured files every interval (size, mtime, inode) and
// reloads what changed, until ctx is done. A change is acted on once the
// file has looked the same for one more interval, so a file caught half
// written is not loaded; a failed reload is not retried until the files
// change again.
func (s *Shared) Watch(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = 30 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var pending, failed []fileStamp
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		snap := s.cur.Load()
		if snap == nil {
			return
		}
		now := snap.current(s.cfg)
		if slices.Equal(now, snap.stamps(s.cfg)) {
			pending, failed = nil, nil
			continue
		}
		if !slices.Equal(now, pending) {
			pending = now // wait for it to settle
			continue
		}
		if slices.Equal(now, failed) {
			continue
		}
		if err := s.reload(false); err != nil {
			failed = now
		} else {
			pending, failed = nil, nil
		}
	}
}

// ReloadOnSignal calls Reload whenever one of sigs arrives (the sensor
// passes syscall.SIGHUP), until ctx is done.
func (s *Shared) ReloadOnSignal(ctx context.Context, sigs ...os.Signal) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	defer signal.Stop(ch)
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
			_ = s.Reload() // logged by Reload
		}
	}
}

// TrackFirstSeen starts the first-seen table of enrich.first_seen (if its
// window is set), its entries paid from b, and loads its file. Call it
// before NewWorker.
func (s *Shared) TrackFirstSeen(b *budget.Budget) error {
	c := s.cfg.FirstSeen
	if c.Window <= 0 {
		return nil
	}
	t := firstseen.New(c, b)
	if c.File != "" {
		if err := t.Load(c.File); err != nil {
			return fmt.Errorf("enrich.first_seen.file: %w", err)
		}
	}
	s.seen = t
	return nil
}

// Close drops the loaded data and writes the first-seen table to its
// file. Workers still running see no data after it (their events pass
// through unchanged); Watch and Reload stop working.
func (s *Shared) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur.Store(nil)
	if s.seen != nil && s.cfg.FirstSeen.File != "" {
		if err := s.seen.Save(s.cfg.FirstSeen.File); err != nil {
			s.log.Error("enrich: first-seen state not saved", "file", s.cfg.FirstSeen.File, "err", err)
		}
	}
	if st := s.seen.Stats(); st.Refused > 0 {
		s.log.Warn("enrich: first-seen domains not kept: the memory budget refused them", "refused", st.Refused)
	}
}

// Stats are cumulative counters over all workers (a worker publishes its
// counters every 64 events and on Flush) plus what is loaded now.
type Stats struct {
	CacheHits    uint64 `json:"cache_hits"`    // address answers served from a worker cache
	CacheMisses  uint64 `json:"cache_misses"`  // address answers computed
	GeoLookups   uint64 `json:"geo_lookups"`   // database lookups (City/Country and ASN each count)
	GeoErrors    uint64 `json:"geo_errors"`    // lookups that failed to decode
	GeoSkipped   uint64 `json:"geo_skipped"`   // non-global addresses not looked up
	IntelLookups uint64 `json:"intel_lookups"` // event fields checked against the intel lists
	IntelMatches uint64 `json:"intel_matches"` // threat.enrichments added
	Reloads      uint64 `json:"reloads"`
	ReloadErrors uint64 `json:"reload_errors"`
	// LastReloadError is the error of the last reload if it failed.
	LastReloadError string      `json:"last_reload_error,omitempty"`
	GeoIPCity       string      `json:"geoip_city,omitempty"` // path, type and build date
	GeoIPASN        string      `json:"geoip_asn,omitempty"`
	Intel           IntelCounts `json:"intel"`
	LoadedAt        time.Time   `json:"loaded_at"`
	// FirstSeen counts the first-seen table's domains, and those it
	// forgot for room or could not keep for the memory budget.
	FirstSeen firstseen.Stats `json:"first_seen"`
}

// HitRate is CacheHits / (CacheHits + CacheMisses), 0 when both are 0.
func (st Stats) HitRate() float64 {
	if n := st.CacheHits + st.CacheMisses; n > 0 {
		return float64(st.CacheHits) / float64(n)
	}
	return 0
}

// Stats returns the counters.
func (s *Shared) Stats() Stats {
	s.mu.Lock()
	c := s.retired
	for _, w := range s.workers {
		for i := range c {
			c[i] += w.pub[i].Load()
		}
	}
	st := Stats{
		CacheHits: c[cHits], CacheMisses: c[cMisses], GeoLookups: c[cGeoLookups], GeoErrors: c[cGeoErrors],
		GeoSkipped: c[cGeoSkipped], IntelLookups: c[cIntelLookups], IntelMatches: c[cIntelMatches],
		Reloads: s.reloads, ReloadErrors: s.reloadErr, LastReloadError: s.lastErr,
		FirstSeen: s.seen.Stats(),
	}
	s.mu.Unlock()
	if snap := s.cur.Load(); snap != nil {
		st.GeoIPCity, st.GeoIPASN = snap.city.describe(), snap.asn.describe()
		if snap.intel != nil {
			st.Intel = snap.intel.counts
		}
		st.LoadedAt = snap.loadedAt
	}
	return st
}

// NewWorker returns a per-worker Enricher (a *Worker) with its own address
// cache.
func (s *Shared) NewWorker() Enricher {
	n := s.cfg.cacheSize()
	w := &Worker{
		sh:    s,
		home:  s.home,
		seen:  s.seen,
		cache: make([]cacheEntry, n),
		mask:  uint64(n - 1),
		buf:   make([]byte, 0, 512),
	}
	s.mu.Lock()
	s.workers = append(s.workers, w)
	s.mu.Unlock()
	return w
}
